"""Flat-rate commission: one rate on all credited value."""

from __future__ import annotations

from attain.core.plan import FlatRate
from attain.engine.columns import ColumnFigures, ColumnOps, Num
from attain.engine.exact import exact, shown
from attain.engine.mechanics.common import effective_rate
from attain.engine.results import Figures, Outcome, Slice


def pay(component: FlatRate, figures: Figures) -> Outcome:
    rate = effective_rate(component.rate, figures)
    amount = exact(figures.value) * rate
    return Outcome(
        amount=shown(amount), exact=amount,
        slices=(Slice(label=f"all {component.metric}", lower=None, upper=None,
                      base=figures.value, rate=shown(rate), amount=shown(amount)),),
    )


def vectorize(component: FlatRate, figures: ColumnFigures, ops: ColumnOps) -> Num:
    """`pay` over columns: the whole value at the rate."""
    return ops.times_rate(figures.value, component.rate, figures)


def describe(component: FlatRate, currency: str) -> list[str]:
    return [f"Pays {component.rate.describe()} of all credited {component.metric}."]
