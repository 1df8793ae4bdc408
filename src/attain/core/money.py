"""The one door for money: strict parsing, declared rounding, and exact allocation of remainders."""

from __future__ import annotations

import decimal
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)

# Minor units per ISO 4217 for the currencies comp teams pay in; anything else defaults to 2.
MINOR_UNITS: dict[str, int] = {
    "BHD": 3, "CLP": 0, "IQD": 3, "ISK": 0, "JOD": 3, "JPY": 0, "KRW": 0, "KWD": 3,
    "LYD": 3, "OMR": 3, "PYG": 0, "TND": 3, "UGX": 0, "VND": 0, "XAF": 0, "XOF": 0,
}

_DECIMAL_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_PERCENT_RE = re.compile(r"([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))\s*%")
_CURRENCY_RE = re.compile(r"[A-Z]{3}")

# Calculations run with plenty of precision: money is only rounded at declared points.
CALC_CONTEXT = decimal.Context(prec=38, rounding=decimal.ROUND_HALF_EVEN, traps=[
    decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow, decimal.FloatOperation,
])


class RoundingMode(Enum):
    """How a line is rounded to the currency's minor unit."""

    HALF_UP = "half_up"
    HALF_EVEN = "half_even"
    HALF_DOWN = "half_down"
    UP = "up"
    DOWN = "down"
    CEILING = "ceiling"
    FLOOR = "floor"

    @property
    def decimal_rounding(self) -> str:
        return _DECIMAL_ROUNDING[self]


_DECIMAL_ROUNDING = {
    RoundingMode.HALF_UP: decimal.ROUND_HALF_UP,
    RoundingMode.HALF_EVEN: decimal.ROUND_HALF_EVEN,
    RoundingMode.HALF_DOWN: decimal.ROUND_HALF_DOWN,
    RoundingMode.UP: decimal.ROUND_UP,
    RoundingMode.DOWN: decimal.ROUND_DOWN,
    RoundingMode.CEILING: decimal.ROUND_CEILING,
    RoundingMode.FLOOR: decimal.ROUND_FLOOR,
}


class RoundingPoint(Enum):
    """Where rounding happens: once per payout line (default) or once per deal attribution."""

    LINE = "line"
    DEAL = "deal"


@dataclass(frozen=True, slots=True, kw_only=True)
class RoundingPolicy:
    """A declared rounding mode and point; totals are always sums of rounded lines."""

    mode: RoundingMode = RoundingMode.HALF_UP
    point: RoundingPoint = RoundingPoint.LINE


DEFAULT_ROUNDING = RoundingPolicy()


class MoneyFormatError(ValueError):
    """Text is not a number in the strict grammar (no NaN, Infinity, exponents, separators)."""


def parse_decimal(text: str) -> Decimal:
    """Parse `text` strictly: optional sign, digits, optional fraction. Nothing else."""
    stripped = text.strip()
    if not _DECIMAL_RE.fullmatch(stripped):
        raise MoneyFormatError(f"not a plain decimal number: {text!r}")
    return Decimal(stripped)


def parse_ratio(text: str) -> Decimal:
    """Parse `70%` as 0.70 or a plain decimal as itself."""
    stripped = text.strip()
    match = _PERCENT_RE.fullmatch(stripped)
    if match:
        return Decimal(match.group(1)) / HUNDRED
    return parse_decimal(stripped)


def to_decimal(value: object) -> Decimal:
    """Turn a Decimal, int or strict numeric string into a Decimal; floats are refused."""
    if isinstance(value, bool):
        raise MoneyFormatError("a boolean is not a number")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise MoneyFormatError(f"not a finite number: {value}")
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        return parse_decimal(value)
    raise MoneyFormatError(f"money is never a {type(value).__name__}: {value!r}")


def check_currency(code: str) -> str:
    """Return `code` if it looks like an ISO 4217 code, else raise."""
    if not _CURRENCY_RE.fullmatch(code):
        raise MoneyFormatError(f"not a three-letter currency code: {code!r}")
    return code


def minor_unit(currency: str) -> Decimal:
    """The smallest amount of `currency`, e.g. Decimal('0.01') for USD."""
    return Decimal(1).scaleb(-MINOR_UNITS.get(currency, 2))


def round_money(amount: Decimal, currency: str, mode: RoundingMode = RoundingMode.HALF_UP) -> Decimal:
    """Round to the currency's minor unit with the declared mode."""
    return amount.quantize(minor_unit(currency), rounding=mode.decimal_rounding, context=CALC_CONTEXT)


def allocate(total: Decimal, weights: Sequence[Decimal], quantum: Decimal) -> tuple[Decimal, ...]:
    """Split `total` (a multiple of `quantum`) in proportion to `weights`, exactly.

    Largest-remainder method: each share is floored to the quantum, then the leftover
    quanta go one by one to the largest fractional remainders; ties go to the earlier
    position, so the result is stable for a given order. The shares always sum to `total`.
    Weights may be negative (delta attributions) but must not sum to zero.
    """
    if not weights:
        raise ValueError("cannot allocate over no weights")
    if total % quantum != 0:
        raise ValueError(f"total {total} is not a multiple of {quantum}")
    weight_sum = sum(weights, ZERO)
    if weight_sum == 0:
        if total == 0:
            return tuple(ZERO * quantum for _ in weights)
        raise ValueError("cannot allocate a non-zero total over weights that sum to zero")
    with decimal.localcontext(CALC_CONTEXT):
        units = total / quantum
        exact = [units * w / weight_sum for w in weights]
        floors = [e.to_integral_value(rounding=decimal.ROUND_FLOOR) for e in exact]
        leftover = int(units - sum(floors, ZERO))
        order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - floors[i]), i))
        for i in order[:leftover]:
            floors[i] += 1
        return tuple((f * quantum).quantize(quantum) for f in floors)


def decimal_places(values: Iterable[Decimal | None]) -> int:
    """The most digits after the point among `values` (0 for whole numbers or none at all)."""
    places = 0
    for value in values:
        if value is not None:
            exponent = value.as_tuple().exponent
            assert isinstance(exponent, int)
            places = max(places, -exponent)
    return places


def format_money(amount: Decimal, currency: str) -> str:
    """`1234.5` in USD as `1,234.50 USD`, for people (never parsed back)."""
    places = MINOR_UNITS.get(currency, 2)
    return f"{amount:,.{places}f} {currency}"


def format_ratio(value: Decimal, places: int = 1) -> str:
    """0.98 as `98.0%`."""
    with decimal.localcontext(CALC_CONTEXT):
        return f"{(value * HUNDRED):.{places}f}%"


@contextmanager
def calculation_context() -> Iterator[decimal.Context]:
    """A decimal context that traps floats meeting money and any invalid operation."""
    with decimal.localcontext(CALC_CONTEXT) as ctx:
        yield ctx
