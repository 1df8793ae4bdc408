"""Accelerators and decelerators: a base rate multiplied above or below attainment thresholds."""

from __future__ import annotations

from decimal import Decimal

from attain.core.money import ZERO
from attain.core.plan import Accelerator, Basis, Rate
from attain.engine.columns import ColumnFigures, ColumnOps, Num
from attain.engine.exact import shown
from attain.engine.mechanics.common import bound_text, marginal_columns, marginal_slices
from attain.engine.results import Figures, Outcome


def multiplier_at(component: Accelerator, attainment: Decimal) -> Decimal:
    """The multiplier in force just above `attainment`: the nearest decelerator band below its
    threshold wins, else the highest accelerator band passed, else the base multiplier."""
    below = [b for b in component.bands if not b.above and attainment < b.threshold]
    if below:
        return min(below, key=lambda b: b.threshold).multiplier
    above = [b for b in component.bands if b.above and attainment >= b.threshold]
    if above:
        return max(above, key=lambda b: b.threshold).multiplier
    return component.base_multiplier


def segments(component: Accelerator) -> list[tuple[Decimal, Decimal | None, Rate, str]]:
    """The attainment segments between band thresholds, each with its multiplied rate."""
    bounds = sorted({ZERO, *(b.threshold for b in component.bands)})
    result: list[tuple[Decimal, Decimal | None, Rate, str]] = []
    for index, lower in enumerate(bounds):
        upper = bounds[index + 1] if index + 1 < len(bounds) else None
        multiplier = multiplier_at(component, lower)
        if multiplier == 0:
            continue
        rate = Rate(fixed=component.rate.fixed, multiplier=component.rate.multiplier * multiplier)
        span = (f"above {bound_text(lower, Basis.ATTAINMENT)}" if upper is None
                else f"{bound_text(lower, Basis.ATTAINMENT)}-{bound_text(upper, Basis.ATTAINMENT)}")
        label = f"{span} at {multiplier}x"
        result.append((lower, upper, rate, label))
    return result


def pay(component: Accelerator, figures: Figures) -> Outcome:
    amount, slices = marginal_slices(figures, Basis.ATTAINMENT, segments(component))
    return Outcome(amount=shown(amount), exact=amount, slices=slices)


def vectorize(component: Accelerator, figures: ColumnFigures, ops: ColumnOps) -> Num:
    """`pay` over columns: the banded segments, marginally."""
    return marginal_columns(figures, Basis.ATTAINMENT, segments(component), ops)


def describe(component: Accelerator, currency: str) -> list[str]:
    lines = [f"Base rate: {component.rate.describe()} on {component.metric}."]
    for band in sorted(component.bands, key=lambda b: b.threshold):
        side = "above" if band.above else "below"
        lines.append(f"{side.capitalize()} {bound_text(band.threshold, Basis.ATTAINMENT)} of quota the "
                     f"rate is multiplied by {band.multiplier} (on that slice only).")
    if component.base_multiplier == 0:
        lines.append("Outside these bands it pays nothing (an add-on to another component).")
    elif component.base_multiplier != 1:
        lines.append(f"Elsewhere the rate is multiplied by {component.base_multiplier}.")
    return lines
