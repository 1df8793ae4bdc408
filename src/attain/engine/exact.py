"""Exact arithmetic for the reference engine: rationals from the mechanic to the declared rounding.

A rate derived as target incentive / quota, an attainment, or a quota taken as a share of a longer
period is a fraction that a 38-digit Decimal can only approximate; multiplied into money and then
rounded `up`, such an approximation pays a cent too much (9,000.000...01 rounded up is 9,000.01
where the exact amount is 9,000.00). The engine therefore carries `Fraction`s from the mechanic
through reductions, caps and floors to the one declared rounding, and shows every intermediate
figure (gross, slices, limits) as a Decimal correctly rounded to 38 digits: the same figure the
vectorized executors print from their exact numerator and denominator.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

from attain.core.money import CALC_CONTEXT, ONE, RoundingMode, minor_unit

Exact = Fraction | Decimal


def exact(value: Exact | int) -> Fraction:
    """The exact rational value of a Decimal, int or Fraction (never a float)."""
    if isinstance(value, float):
        raise TypeError("money is never a float")
    if isinstance(value, Fraction):
        return value
    return Fraction(value)


def shown(value: Exact) -> Decimal:
    """A figure for people and renderings: exact when it terminates within 38 digits, otherwise
    correctly rounded to 38 significant digits; whole numbers without a trailing scale."""
    if isinstance(value, Decimal):
        return value
    if value.denominator == 1:
        return Decimal(value.numerator)
    quotient = CALC_CONTEXT.divide(Decimal(value.numerator), Decimal(value.denominator))
    if quotient == quotient.to_integral_value():
        return quotient.quantize(ONE)
    return quotient.normalize(CALC_CONTEXT)


def round_units(value: Fraction, mode: RoundingMode) -> int:
    """`value` rounded to a whole number by the declared mode, exactly."""
    floor = value.numerator // value.denominator
    rest = value - floor
    if rest == 0:
        return floor
    ceiling = floor + 1
    negative = value < 0
    if mode is RoundingMode.FLOOR:
        return floor
    if mode is RoundingMode.CEILING:
        return ceiling
    if mode is RoundingMode.DOWN:
        return ceiling if negative else floor
    if mode is RoundingMode.UP:
        return floor if negative else ceiling
    half = Fraction(1, 2)
    if rest != half:
        return ceiling if rest > half else floor
    if mode is RoundingMode.HALF_UP:
        return floor if negative else ceiling
    if mode is RoundingMode.HALF_DOWN:
        return ceiling if negative else floor
    return floor if floor % 2 == 0 else ceiling


def round_exact(value: Exact, currency: str, mode: RoundingMode = RoundingMode.HALF_UP) -> Decimal:
    """Round an exact amount to the currency's minor unit with the declared mode: the only point
    where an exact amount becomes money."""
    quantum = minor_unit(currency)
    units = round_units(exact(value) / exact(quantum), mode)
    return (Decimal(units) * quantum).quantize(quantum)


def allocate_exact(total: Decimal, weights: Sequence[Exact], quantum: Decimal) -> tuple[Decimal, ...]:
    """Largest-remainder split of `total` (a multiple of `quantum`) in proportion to exact weights.

    The same rule as `core.money.allocate` (floors, then the leftover quanta to the largest
    remainders, ties to the earlier position), with the proportions kept exact.
    """
    if not weights:
        raise ValueError("cannot allocate over no weights")
    exact_weights = [exact(w) for w in weights]
    weight_sum = sum(exact_weights, Fraction(0))
    if weight_sum == 0:
        raise ValueError("cannot allocate over weights that sum to zero")
    units = exact(total) / exact(quantum)
    if units.denominator != 1:
        raise ValueError(f"total {total} is not a multiple of {quantum}")
    shares = [units * w / weight_sum for w in exact_weights]
    floors = [s.numerator // s.denominator for s in shares]
    leftover = int(units) - sum(floors)
    order = sorted(range(len(shares)), key=lambda i: (-(shares[i] - floors[i]), i))
    for i in order[:leftover]:
        floors[i] += 1
    return tuple((Decimal(f) * quantum).quantize(quantum) for f in floors)
