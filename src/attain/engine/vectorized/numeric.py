"""Exact decimal arithmetic over Ibis columns: fractions, rounding by mode, largest remainder.

Money never becomes a float here. Every number is a `Frac`: a DECIMAL numerator over an
optional positive DECIMAL denominator (None means 1), so an attainment (value / quota) or a
rate derived as target incentive / quota is exact until the line is rounded. Products are
cast back to the working type after each step so decimal scales never overflow; the working
type keeps 16 places, which is exact for money, shares and rates as recorded. On Spark, whose
casts to fewer places round silently, every product is exact or the query fails (`SparkExact`).

Rounding an exact fraction to the currency's minor unit needs a floor division: a double
gives a candidate within one unit and exact decimal products correct it, so the result is
the same as Python's Decimal quantize for every rounding mode, on every backend.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any

import ibis
import ibis.expr.datatypes as dt

from attain.core.errors import UnsupportedError
from attain.core.money import RoundingMode
from attain.core.plan import Basis, Rate
from attain.engine.columns import ColumnFigures

Expr = Any  # an Ibis value expression


@dataclass(frozen=True, slots=True)
class Profile:
    """How one backend's DECIMAL behaves: the working type and how products keep their scale."""

    name: str
    work: dt.Decimal
    # The largest scale a product may carry before it is cast back (None: unlimited, NUMERIC).
    product_scale: int | None
    # Products taken in parts, none rounded, a product needing more places failing the query
    # (Spark: see SparkExact). Such a profile is computed by SparkExact.
    checked_products: bool = False
    # Per-payee sums and quota denominators kept in the DECIMAL scale of their values (at most the
    # working scale) rather than widened to it, so a product of such columns needs no narrowing:
    # on DuckDB a cast to fewer places costs about 50 times a product (a 128-bit division).
    natural_inputs: bool = False


DUCKDB = Profile("duckdb", dt.Decimal(38, 16), product_scale=22, natural_inputs=True)
POSTGRES = Profile("postgres", dt.Decimal(38, 16), product_scale=None)
SPARK = Profile("pyspark", dt.Decimal(38, 16), product_scale=None, checked_products=True)
PROFILES = {p.name: p for p in (DUCKDB, POSTGRES, SPARK)}

# The Spark session settings SparkExact is exact under: connect("spark") sets them, and a
# calculation refuses a session without them. Without the first, Spark trims the scale of a
# DECIMAL sum or product that would pass 38 digits (rounding it to as few as 6 places). Without
# the second, Spark 4 gives two DECIMALs of different types that it compares, or chooses between
# (CASE, COALESCE, UNION), a common type with fewer places when both do not fit 38 digits, rounding
# one side (SPARK-45905); with it the places are kept and too many integer digits overflow. Without
# the third, an overflow gives null, which would read as "no value", instead of failing the query.
SPARK_SETTINGS = {
    "spark.sql.decimalOperations.allowPrecisionLoss": "false",
    "spark.sql.legacy.decimal.retainFractionDigitsOnTruncate": "true",
    "spark.sql.ansi.enabled": "true",
}


def decimal_type(value: Decimal) -> dt.Decimal:
    """The narrowest DECIMAL type holding `value` exactly."""
    _sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    scale = max(0, -exponent)
    integer_digits = max(1, len(digits) + exponent) if exponent < 0 else len(digits) + exponent
    return dt.Decimal(max(1, integer_digits + scale, scale + 1), scale)


def force_cast(expr: Expr, to: dt.DataType) -> Expr:
    """A cast that is always written out: Ibis drops a cast to the type it already infers, but its
    inference for decimal products is not the database's (which sums the scales)."""
    return ibis.expr.operations.Cast(expr, to=to).to_expr()


@dataclass(frozen=True, slots=True)
class Frac:
    """An exact number column: `num / den` with den > 0 (den None: 1). Null num: no value."""

    num: Expr
    den: Expr | None = None


class Exact:
    """The column algebra of engine.columns over Ibis, exact, for one backend profile."""

    def __new__(cls, profile: Profile) -> Exact:
        # A profile with checked products (Spark) gets its own arithmetic.
        if cls is Exact and profile.checked_products:
            return super().__new__(SparkExact)
        return super().__new__(cls)

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.work = profile.work
        self._table: Expr | None = None
        self._names = 0

    # -- naming intermediate results ----------------------------------------------------------
    # An expression used twice would be written out twice in SQL (and nested expressions grow
    # exponentially), so while a table is open every shared intermediate becomes a column.

    def begin(self, table: Expr) -> None:
        self._table = table

    def end(self) -> Expr:
        table, self._table = self._table, None
        return table

    def set(self, **columns: Expr) -> None:
        assert self._table is not None
        self._table = self._table.mutate(**columns)

    def bind(self, expr: Expr) -> Expr:
        """`expr` as a column of the open table (itself when no table is open or it is simple)."""
        if self._table is None or isinstance(expr.op(), ibis.expr.operations.Literal | ibis.expr.operations.Field):
            return expr
        self._names += 1
        name = f"_v{self._names}"
        self._table = self._table.mutate(**{name: expr})
        return self._table[name]

    def bind_frac(self, value: Frac) -> Frac:
        # Denominators stay expressions: equal denominators are recognised by structure (and not
        # squared), which keeps every weight of one line over the same denominator.
        return Frac(self.bind(value.num), value.den)

    # -- building blocks -------------------------------------------------------------------

    def lit(self, value: Decimal) -> Expr:
        return ibis.literal(value, type=decimal_type(value))

    def cast(self, expr: Expr) -> Expr:
        """`expr` (an input or a credit, of any scale) in the working type."""
        return force_cast(expr, self.work)

    def natural(self, expr: Expr) -> Expr:
        """`expr` (a sum, a count, a whole number of months) as a 38-digit DECIMAL of its own scale
        where the profile keeps natural scales and that scale is at most the working one, else in
        the working type. Exact either way: only ever a widening."""
        kind = expr.type()
        if self.profile.natural_inputs:
            if kind.is_integer():
                return force_cast(expr, dt.Decimal(38, 0))
            if isinstance(kind, dt.Decimal) and kind.scale is not None and kind.scale <= self.work.scale:
                return force_cast(expr, dt.Decimal(38, kind.scale))
        return force_cast(expr, self.work)

    def _scale(self, expr: Expr) -> int:
        kind = expr.type()
        return kind.scale if isinstance(kind, dt.Decimal) and kind.scale is not None else 0

    def _is_literal(self, expr: Expr) -> bool:
        return isinstance(expr.op(), ibis.expr.operations.Literal)

    def mul(self, left: Expr, right: Expr) -> Expr:
        """An exact product cast back to the working type (operands narrowed so it cannot overflow)."""
        profile = self.profile
        if profile.product_scale is not None:
            left_literal, right_literal = self._is_literal(left), self._is_literal(right)
            ls, rs = self._scale(left), self._scale(right)
            budget = profile.product_scale
            if left_literal and not right_literal:
                right = self._narrow(right, min(rs, budget - ls))
            elif right_literal and not left_literal:
                left = self._narrow(left, min(ls, budget - rs))
            elif not (left_literal or right_literal) and ls + rs > budget:
                half = budget // 2
                left, right = self._narrow(left, min(ls, half)), self._narrow(right, min(rs, half))
        left, right = self._comparable(left, right)
        return force_cast(left * right, self.work)

    def _comparable(self, left: Expr, right: Expr) -> tuple[Expr, Expr]:
        # Ibis types a product by the operand type that dominates in both precision and scale;
        # when neither does, the wider operand takes the larger scale (still an exact cast).
        lt, rt = left.type(), right.type()
        if not (isinstance(lt, dt.Decimal) and isinstance(rt, dt.Decimal)):
            return left, right
        lp, ls, rp, rs = lt.precision or 38, lt.scale or 0, rt.precision or 38, rt.scale or 0
        if (lp >= rp and ls >= rs) or (rp >= lp and rs >= ls):
            return left, right
        if lp >= rp:
            return force_cast(left, dt.Decimal(lp, rs)), right
        return left, force_cast(right, dt.Decimal(rp, ls))

    def _narrow(self, expr: Expr, scale: int) -> Expr:
        return force_cast(expr, dt.Decimal(38, max(scale, 0)))

    def frac(self, value: Decimal | Expr) -> Frac:
        return Frac(self.lit(value) if isinstance(value, Decimal) else value)

    # -- the engine.columns protocol --------------------------------------------------------

    def const(self, value: Decimal) -> Frac:
        return Frac(self.lit(value))

    def zero(self) -> Frac:
        return Frac(self.lit(Decimal(0)))

    def null(self) -> Frac:
        return Frac(ibis.null(self.work))

    def _scaled(self, a: Frac, b: Frac) -> tuple[Expr, Expr, Expr | None]:
        """Numerators over a common denominator (the same denominator is not squared)."""
        if a.den is None and b.den is None:
            return a.num, b.num, None
        if a.den is not None and b.den is not None and a.den.equals(b.den):
            return a.num, b.num, a.den
        if b.den is None:
            return a.num, self.mul(b.num, a.den), a.den
        if a.den is None:
            return self.mul(a.num, b.den), b.num, b.den
        return self.mul(a.num, b.den), self.mul(b.num, a.den), self.mul(a.den, b.den)

    def add(self, left: Frac, right: Frac) -> Frac:
        a, b, den = self._scaled(left, right)
        return self.bind_frac(Frac(force_cast(a + b, self.work), den))

    def sub(self, left: Frac, right: Frac) -> Frac:
        a, b, den = self._scaled(left, right)
        return self.bind_frac(Frac(force_cast(a - b, self.work), den))

    def times(self, left: Frac, right: Frac) -> Frac:
        den = left.den if right.den is None else right.den if left.den is None else self.mul(left.den, right.den)
        return Frac(self.mul(left.num, right.num), den)

    def divide(self, left: Frac, right: Frac) -> Frac:
        """left / right; null where right is zero (the expression language's "no value")."""
        sign = right.num.sign().cast(dt.Decimal(1, 0))
        num = self.mul(left.num, sign) if right.den is None else self.mul(self.mul(left.num, right.den), sign)
        magnitude = force_cast(right.num.abs(), self.work)
        den = magnitude if left.den is None else self.mul(left.den, magnitude)
        safe = (right.num == 0).ifelse(ibis.null(self.work), num)
        return self.bind_frac(Frac(safe, den))

    def negate(self, value: Frac) -> Frac:
        return Frac(force_cast(-value.num, self.work), value.den)

    def absolute(self, value: Frac) -> Frac:
        return Frac(force_cast(value.num.abs(), self.work), value.den)

    def compare(self, op: str, left: Frac, right: Frac) -> Expr:
        a, b, _ = self._scaled(left, right)
        return {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]

    def gt(self, left: Frac, right: Frac) -> Expr:
        return self.compare(">", left, right)

    def ge(self, left: Frac, right: Frac) -> Expr:
        return self.compare(">=", left, right)

    def lt(self, left: Frac, right: Frac) -> Expr:
        return self.compare("<", left, right)

    def le(self, left: Frac, right: Frac) -> Expr:
        return self.compare("<=", left, right)

    def eq(self, left: Frac, right: Frac) -> Expr:
        return self.compare("==", left, right)

    def both(self, left: Expr, right: Expr) -> Expr:
        return left & right

    def either(self, left: Expr, right: Expr) -> Expr:
        return left | right

    def where(self, condition: Expr, then: Frac, otherwise: Frac) -> Frac:
        # Both branches over one denominator, so a column's denominator never varies by row
        # (deal attribution weighs numerators of one line against each other).
        a, b, den = self._scaled(then, otherwise)
        return self.bind_frac(Frac(force_cast(condition.ifelse(a, b), self.work), den))

    def minimum(self, left: Frac, right: Frac) -> Frac:
        return self.where(self.le(left, right), left, right)

    def maximum(self, left: Frac, right: Frac) -> Frac:
        return self.where(self.ge(left, right), left, right)

    def position(self, figures: ColumnFigures, basis: Basis) -> Frac:
        if basis is Basis.AMOUNT:
            return figures.value  # type: ignore[no-any-return]
        return self.divide(figures.value, figures.quota)

    def to_value(self, figures: ColumnFigures, bound: Decimal, basis: Basis) -> Frac:
        if basis is Basis.AMOUNT:
            return self.const(bound)
        return self.times(self.const(bound), figures.quota)

    def times_rate(self, base: Frac, rate: Rate, figures: ColumnFigures) -> Frac:
        if rate.fixed is not None:
            return self.times(base, self.const(rate.fixed * rate.multiplier))
        if figures.target_incentive is None:
            raise ValueError("a derived rate needs a target incentive and a quota")
        scaled = self.times(base, self.const(figures.target_incentive * rate.multiplier))
        return self.divide(scaled, figures.quota)

    # -- rounding and allocation ------------------------------------------------------------

    def floor_div(self, num: Expr, den: Expr) -> Expr:
        """floor(num / den) for den > 0, exactly, as DECIMAL(38, 0)."""
        whole = dt.Decimal(38, 0)
        num, den = self.bind(num), self.bind(den)
        guess = self.bind(self._floor_guess(num, den))
        low = self.mul(guess, den) > num
        high = self.mul((guess + 1).cast(whole), den) <= num
        return force_cast(low.ifelse(guess - 1, high.ifelse(guess + 1, guess)), whole)

    def _floor_guess(self, num: Expr, den: Expr) -> Expr:
        """floor(num / den) within one, by a double."""
        return (num.cast("float64") / den.cast("float64")).floor().cast(dt.Decimal(38, 0))

    def round(self, value: Frac, quantum: Decimal, mode: RoundingMode) -> Expr:
        """`value` rounded to a multiple of `quantum` exactly as Decimal.quantize does."""
        places = max(0, -quantum.as_tuple().exponent)  # type: ignore[operator]
        result_type = dt.Decimal(38, places)
        step = self.bind(self.lit(quantum) if value.den is None else self.mul(self.lit(quantum), value.den))
        num = self.bind(value.num)
        magnitude = self.bind(force_cast(num.abs(), self.work))
        positive = num >= 0
        units = self.bind(self.floor_div(magnitude, step))
        rest = self.bind(force_cast(magnitude - self.mul(units, step), self.work))
        twice = force_cast(rest + rest, self.work)
        up_half = twice > step
        tie = twice == step
        inexact = rest > 0
        odd = (units % 2) == 1
        bump = {
            RoundingMode.HALF_UP: up_half | tie,
            RoundingMode.HALF_DOWN: up_half,
            RoundingMode.HALF_EVEN: up_half | (tie & odd),
            RoundingMode.UP: inexact,
            RoundingMode.DOWN: ibis.literal(False),
            RoundingMode.CEILING: positive & inexact,
            RoundingMode.FLOOR: ~positive & inexact,
        }[mode]
        count = bump.ifelse(units + 1, units)
        signed = positive.ifelse(count, -count)
        return force_cast(self.mul(force_cast(signed, dt.Decimal(38, 0)), self.lit(quantum)), result_type)


class SparkExact(Exact):
    """Exact arithmetic on Spark: every product exact, or the query fails; never a rounded number.

    Under SPARK_SETTINGS Spark types a DECIMAL product (p1 + p2 + 1, s1 + s2), capped at 38
    digits, and an overflow fails the query; but a cast to fewer places (back to the working type)
    would round silently. So a product that could need more places than the working type is taken
    in parts: with a = ia + fa and b = ib + fb (whole and fractional parts, each of the operand's
    sign), a x b = ia x b + fa x ib + fa x fb. The first two carry no more places than an operand;
    fa x fb (below 1) is checked to fit the working type's places, else the query fails with
    TOO_PRECISE. No part exceeds |a x b|, so none overflows unless the product itself does (more than
    the working type's 22 integer digits: Spark's NUMERIC_VALUE_OUT_OF_RANGE).
    """

    def mul(self, left: Expr, right: Expr) -> Expr:
        work = self.work.scale or 0
        left, right = self._fitted(left), self._fitted(right)
        if self._is_literal(left) and not self._is_literal(right):
            left, right = right, left
        if self._scale(left) + self._scale(right) <= work:
            return force_cast(_wide(left) * _wide(right), self.work)
        return _named([left, right], self._in_parts)

    def _in_parts(self, left: Expr, right: Expr) -> Expr:
        whole_a, frac_a = _parts(left)
        if self._is_literal(right):
            value = right.op().value
            whole_value = value.to_integral_value(rounding=ROUND_DOWN)
            whole_b = self.lit(whole_value) if whole_value else None
            frac_b = self.lit(value - whole_value) if value != whole_value else None
        else:
            whole_b, frac_b = _parts(right)
        total = force_cast(whole_a * _wide(right), self.work)
        if whole_b is not None:
            total = total + force_cast(frac_a * _wide(whole_b), self.work)
        if frac_b is not None:
            places = self._scale(left) + self._scale(frac_b)
            total = total + self._within_places(frac_a * _wide(frac_b), places)
        return force_cast(total, self.work)

    def _within_places(self, expr: Expr, places: int) -> Expr:
        """`expr` (of `places` places) in the working type; the query fails where that would round it.
        Both sides of the check are written in `expr`'s own type, so Spark compares them as they are."""
        fitted = force_cast(expr, self.work)
        own = dt.Decimal(38, places)
        return (force_cast(expr, own) != force_cast(fitted, own)).ifelse(_fail(TOO_PRECISE, self.work), fitted)

    def _fitted(self, expr: Expr) -> Expr:
        """An operand with more places than the working type, brought to it (checked)."""
        places = self._scale(expr)
        if places <= (self.work.scale or 0):
            return expr
        if self._is_literal(expr):
            raise UnsupportedError(f"the number {expr.op().value} has more than {self.work.scale} decimal places")
        return _named([expr], lambda named: self._within_places(named, places))

    def cast(self, expr: Expr) -> Expr:
        places = self._scale(expr)
        if places <= (self.work.scale or 0):
            return force_cast(expr, self.work)
        return self._within_places(expr, places)

    def _floor_guess(self, num: Expr, den: Expr) -> Expr:
        # The double's quotient is within one of the exact one only below DOUBLE_GUESS_LIMIT.
        guess = super()._floor_guess(num, den)
        return (guess.abs() >= DOUBLE_GUESS_LIMIT).ifelse(_fail(TOO_LARGE, guess.type()), guess)

    def round(self, value: Frac, quantum: Decimal, mode: RoundingMode) -> Expr:
        if self._table is not None:
            return super().round(value, quantum, mode)
        # With no table open to name the steps in (each names the value several times), a lambda
        # names the value once.
        if value.den is None:
            return _named([value.num], lambda num: super(SparkExact, self).round(Frac(num), quantum, mode))
        return _named([value.num, value.den],
                      lambda num, den: super(SparkExact, self).round(Frac(num, den), quantum, mode))


TOO_PRECISE = "attain: an exact product needs more than 16 decimal places, beyond DECIMAL(38, 16)"
TOO_LARGE = "attain: an amount to round is beyond 2^50 minor units (the Spark executor's bound)"
# A double's quotient is within one of floor(num / den) below this (it carries a few roundings of 2^-53).
DOUBLE_GUESS_LIMIT = 2**50


def _wide(expr: Expr) -> Expr:
    """The operand as a 38-digit DECIMAL of its own scale: Spark caps a product at 38 digits anyway,
    and Ibis then types the product by the operand with the larger scale."""
    kind = expr.type()
    if isinstance(kind, dt.Decimal) and kind.precision == 38:
        return expr
    scale = kind.scale if isinstance(kind, dt.Decimal) and kind.scale is not None else 0
    op = expr.op()
    if isinstance(op, ibis.expr.operations.Literal):
        return ibis.literal(op.value, type=dt.Decimal(38, scale))
    return force_cast(expr, dt.Decimal(38, scale))


def _parts(expr: Expr) -> tuple[Expr, Expr]:
    """(whole part as DECIMAL(38, 0), fractional part), both of the operand's sign. The remainder's
    Spark type keeps the operand's places under one integer digit: DECIMAL(s + 1, s)."""
    frac = _wide(expr) % 1
    return force_cast(_wide(expr) - frac, dt.Decimal(38, 0)), frac


def _named(operands: list[Expr], body: Callable[..., Expr]) -> Expr:
    """body(*operands), each computed operand written out once.

    The body names its operands several times, and SQL has no "let": the operands become the
    fields of a one-element array that a lambda maps (Spark's transform). Columns of the open table
    would do too, but each is one more nested select, and deep nesting exhausts Spark's analyzer.
    """
    computed = [i for i, x in enumerate(operands) if not _simple(x)]
    if not computed:
        return body(*operands)
    fields = ibis.struct({f"x{i}": operands[i] for i in computed})

    def apply(named: Expr) -> Expr:
        return body(*(named[f"x{i}"] if i in computed else x for i, x in enumerate(operands)))

    return ibis.array([fields]).map(apply)[0]


def _simple(expr: Expr) -> bool:
    """A literal, a column or a lambda's argument (or a cast of one): cheap to write out again."""
    ops_ = ibis.expr.operations
    op = expr.op()
    if isinstance(op, ops_.Cast):
        op = op.arg
    if isinstance(op, ops_.StructField):
        op = op.arg
    return isinstance(op, ops_.Literal | ops_.Field | ops_.Argument)


def _fail(message: str, kind: dt.DataType) -> Expr:
    """A value of type `kind` that fails the query with `message` (Spark's raise_error)."""
    return force_cast(_raise_error(message), kind)


@ibis.udf.scalar.builtin(name="raise_error", signature=((dt.string,), dt.string))  # type: ignore[untyped-decorator]
def _raise_error(message: str) -> str:  # type: ignore[empty-body]
    """Spark SQL's raise_error(message)."""


def allocate_columns(
    table: Expr, ops: Exact, *, group: Sequence[str], order: Sequence[str], total: str, weight: str,
    quantum: Decimal, out: str,
) -> Expr:
    """money.allocate over groups of rows: split each group's `total` by `weight`, exactly.

    Largest remainder: floors first, then the leftover quanta to the largest fractional parts,
    ties to the earlier row in `order`. Groups whose weights sum to zero get null (the caller
    decides what that means, as `attribute` does).
    """
    whole = dt.Decimal(38, 0)
    window = ibis.window(group_by=list(group))
    weight_sum = force_cast(table[weight].sum().over(window), ops.work)
    t = table.mutate(_wsum=weight_sum)
    sign = t._wsum.sign().cast(dt.Decimal(1, 0))
    units = ops.floor_div(force_cast(t[total], ops.work), ops.lit(quantum))
    scaled = ops.mul(ops.mul(units, force_cast(t[weight], ops.work)), sign)
    divisor = force_cast(t._wsum.abs(), ops.work)
    t = t.mutate(_units=units, _scaled=scaled, _divisor=divisor)
    t = t.mutate(_floor=(t._divisor == 0).ifelse(ibis.null(whole), ops.floor_div(t._scaled, t._divisor)))
    t = t.mutate(_rest=force_cast(t._scaled - ops.mul(t._floor, t._divisor), ops.work))
    t = t.mutate(_leftover=force_cast(t._units - t._floor.sum().over(window), whole))
    ranked = ibis.window(group_by=list(group), order_by=[ibis.desc(t._rest), *(t[c] for c in order)])
    t = t.mutate(_rank=ibis.row_number().over(ranked))
    share = (t._rank < t._leftover).ifelse(t._floor + 1, t._floor)
    places = max(0, -quantum.as_tuple().exponent)  # type: ignore[operator]
    t = t.mutate(**{out: force_cast(ops.mul(force_cast(share, whole), ops.lit(quantum)), dt.Decimal(38, places))})
    return t.drop("_wsum", "_units", "_scaled", "_divisor", "_floor", "_rest", "_leftover", "_rank")
