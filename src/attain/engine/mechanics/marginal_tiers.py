"""Tiered commission, marginal ("graduated"): each slice paid at its own tier's rate."""

from __future__ import annotations

from decimal import Decimal

from attain.core.plan import MarginalTiers
from attain.engine.columns import ColumnFigures, ColumnOps, Num
from attain.engine.exact import shown
from attain.engine.mechanics.common import bound_text, marginal_columns, marginal_slices
from attain.engine.results import Figures, Outcome


def pay(component: MarginalTiers, figures: Figures) -> Outcome:
    segments = [
        (t.lower, t.upper, t.rate, t.label or _span(component, t.lower, t.upper))
        for t in component.tiers
    ]
    amount, slices = marginal_slices(figures, component.basis, segments)
    return Outcome(amount=shown(amount), exact=amount, slices=slices)


def vectorize(component: MarginalTiers, figures: ColumnFigures, ops: ColumnOps) -> Num:
    """`pay` over columns: each slice at its tier's rate."""
    segments = [(t.lower, t.upper, t.rate, "") for t in component.tiers]
    return marginal_columns(figures, component.basis, segments, ops)


def _span(component: MarginalTiers, lower: Decimal, upper: Decimal | None) -> str:
    return f"{bound_text(lower, component.basis)}-{bound_text(upper, component.basis)}"


def describe(component: MarginalTiers, currency: str) -> list[str]:
    lines = [
        f"From {bound_text(t.lower, component.basis)} to {bound_text(t.upper, component.basis)}: "
        f"{t.rate.describe()} on that slice of {component.metric}."
        for t in component.tiers
    ]
    return [*lines, "Each slice is paid at its own tier's rate (graduated)."]
