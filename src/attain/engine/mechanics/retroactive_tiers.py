"""Tiered commission, retroactive ("volume"): all value paid at the rate of the tier reached."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from attain.core.money import ZERO
from attain.core.plan import BoundaryOwner, RetroactiveTiers, Tier
from attain.engine.columns import ColumnFigures, ColumnOps, Num
from attain.engine.exact import exact, shown
from attain.engine.mechanics.common import bound_text, effective_rate, position
from attain.engine.results import Figures, Outcome, Slice


def tier_reached(component: RetroactiveTiers, pos: Fraction | Decimal) -> Tier | None:
    """The tier owning `pos`; a shared boundary belongs to the upper or lower tier as declared."""
    tiers = component.tiers
    for index, tier in enumerate(tiers):
        first, last = index == 0, index == len(tiers) - 1
        if component.boundary is BoundaryOwner.UPPER:
            inside = tier.lower <= pos and (tier.upper is None or pos < tier.upper or (last and pos == tier.upper))
        else:
            inside = (tier.lower < pos or (first and pos == tier.lower)) and (tier.upper is None or pos <= tier.upper)
        if inside:
            return tier
    if tiers and tiers[-1].upper is not None and pos > tiers[-1].upper:
        return tiers[-1]
    return None


def pay(component: RetroactiveTiers, figures: Figures) -> Outcome:
    pos = position(figures, component.basis)
    tier = tier_reached(component, pos)
    if tier is None:
        return Outcome(amount=ZERO, note="no tier reached")
    rate = effective_rate(tier.rate, figures)
    amount = exact(figures.value) * rate
    label = tier.label or f"{bound_text(tier.lower, component.basis)}-{bound_text(tier.upper, component.basis)}"
    note = f"tier reached: {label}; all {figures.value:,} paid at its rate"
    if tier.upper is not None and tier is component.tiers[-1] and pos > tier.upper:
        # A position above a bounded top tier stays in the top tier (never a higher, unwritten rate).
        note = (f"above the top tier's upper bound {bound_text(tier.upper, component.basis)}: "
                f"all {figures.value:,} paid at the top tier's rate ({label})")
    return Outcome(
        amount=shown(amount), exact=amount,
        slices=(Slice(label=label, lower=tier.lower, upper=tier.upper, base=figures.value, rate=shown(rate),
                      amount=shown(amount)),),
        note=note,
    )


def vectorize(component: RetroactiveTiers, figures: ColumnFigures, ops: ColumnOps) -> Num:
    """`pay` over columns: the whole value at the rate of the tier owning the position."""
    pos = ops.position(figures, component.basis)
    tiers = component.tiers
    total = ops.zero()
    if tiers and tiers[-1].upper is not None:
        beyond = ops.gt(pos, ops.const(tiers[-1].upper))
        total = ops.where(beyond, ops.times_rate(figures.value, tiers[-1].rate, figures), total)
    # The first tier that owns the position wins, so build the choice from the last tier back.
    for index in reversed(range(len(tiers))):
        tier = tiers[index]
        first, last = index == 0, index == len(tiers) - 1
        lower, upper = ops.const(tier.lower), None if tier.upper is None else ops.const(tier.upper)
        if component.boundary is BoundaryOwner.UPPER:
            inside = ops.ge(pos, lower)
            if upper is not None:
                below = ops.lt(pos, upper)
                inside = ops.both(inside, ops.either(below, ops.eq(pos, upper)) if last else below)
        else:
            inside = ops.either(ops.gt(pos, lower), ops.eq(pos, lower)) if first else ops.gt(pos, lower)
            if upper is not None:
                inside = ops.both(inside, ops.le(pos, upper))
        total = ops.where(inside, ops.times_rate(figures.value, tier.rate, figures), total)
    return total


def describe(component: RetroactiveTiers, currency: str) -> list[str]:
    lines = [
        f"Reaching {bound_text(t.lower, component.basis)}"
        f"{'' if t.upper is None else ' (up to ' + bound_text(t.upper, component.basis) + ')'}: "
        f"{t.rate.describe()} on all of {component.metric}."
        for t in component.tiers
    ]
    owner = "the higher" if component.boundary is BoundaryOwner.UPPER else "the lower"
    return [*lines, f"The whole value is paid at the rate of the tier reached; a value on a boundary "
                    f"belongs to {owner} tier."]
