"""What several mechanics share: positions on a basis, bound conversion, and marginal slicing."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

from attain.core.money import format_ratio
from attain.core.plan import Basis, Rate
from attain.engine.columns import ColumnFigures, ColumnOps, Num
from attain.engine.exact import exact, shown
from attain.engine.results import Figures, Slice


class NeedsQuota(ValueError):
    """An attainment-based mechanic was asked to pay without a quota."""


def position(figures: Figures, basis: Basis) -> Fraction:
    """Where the payee stands on the basis, exactly: attainment ratio or metric amount."""
    if basis is Basis.AMOUNT:
        return exact(figures.value)
    attainment = figures.exact_attainment
    if attainment is None:
        raise NeedsQuota("attainment needs a quota above zero")
    return attainment


def to_value(bound: Decimal, basis: Basis, figures: Figures) -> Fraction:
    """A bound on the basis expressed in metric units (attainment bounds times quota), exactly."""
    if basis is Basis.AMOUNT:
        return exact(bound)
    if figures.quota is None or figures.quota == 0:
        raise NeedsQuota("attainment bounds need a quota above zero")
    return exact(bound) * exact(figures.quota)


def effective_rate(rate: Rate, figures: Figures) -> Fraction:
    """A fixed rate, or the derived one (TI / quota), exactly; a derived rate without a quota
    cannot pay. Never cut to 38 digits: the product it enters is rounded once, at the line."""
    if rate.fixed is not None:
        return exact(rate.fixed) * exact(rate.multiplier)
    base = figures.exact_base_rate
    if base is None:
        raise NeedsQuota("a rate derived as target incentive / quota needs both")
    return base * exact(rate.multiplier)


def reached(pos: Fraction | Decimal, threshold: Decimal, inclusive: bool) -> bool:
    return pos >= threshold if inclusive else pos > threshold


def bound_text(bound: Decimal | None, basis: Basis) -> str:
    if bound is None:
        return "no limit"
    return format_ratio(bound) if basis is Basis.ATTAINMENT else f"{bound:,}"


def marginal_slices(
    figures: Figures,
    basis: Basis,
    segments: Sequence[tuple[Decimal, Decimal | None, Rate, str]],
) -> tuple[Fraction, tuple[Slice, ...]]:
    """Pay each slice of the metric between consecutive bounds at that segment's rate (exactly;
    the slices show their figures to 38 digits)."""
    total = Fraction(0)
    slices: list[Slice] = []
    value = exact(figures.value)
    for lower, upper, rate, label in segments:
        low = to_value(lower, basis, figures)
        high = None if upper is None else to_value(upper, basis, figures)
        top = value if high is None else min(value, high)
        base = top - low
        if base <= 0:
            continue
        effective = effective_rate(rate, figures)
        amount = base * effective
        total += amount
        slices.append(Slice(label=label, lower=lower, upper=upper, base=shown(base), rate=shown(effective),
                            amount=shown(amount)))
    return total, tuple(slices)


def marginal_columns(
    figures: ColumnFigures,
    basis: Basis,
    segments: Sequence[tuple[Decimal, Decimal | None, Rate, str]],
    ops: ColumnOps,
) -> Num:
    """`marginal_slices` over columns: the sum of each positive slice paid at its segment's rate."""
    total = ops.zero()
    for lower, upper, rate, _label in segments:
        low = ops.to_value(figures, lower, basis)
        top = figures.value if upper is None else ops.minimum(figures.value, ops.to_value(figures, upper, basis))
        base = ops.sub(top, low)
        paid = ops.where(ops.gt(base, ops.zero()), ops.times_rate(base, rate, figures), ops.zero())
        total = ops.add(total, paid)
    return total


def reached_column(pos: Num, threshold: Decimal, inclusive: bool, ops: ColumnOps) -> Num:
    """`reached` over columns."""
    return ops.ge(pos, ops.const(threshold)) if inclusive else ops.gt(pos, ops.const(threshold))


def payout_of(amount: Decimal | None, share_of_target: Decimal | None, figures: Figures) -> Decimal:
    """A fixed payout: an amount, or a share of the target incentive."""
    if amount is not None:
        return amount
    if share_of_target is None:
        raise ValueError("a payout needs an amount or a share of target")
    if figures.target_incentive is None:
        raise ValueError("a payout as a share of target needs a target incentive")
    return share_of_target * figures.target_incentive
