"""Single rate above a threshold: a rate on the value above the goal only."""

from __future__ import annotations

from attain.core.money import ZERO
from attain.core.plan import RateAbove
from attain.engine.columns import ColumnFigures, ColumnOps, Num
from attain.engine.exact import exact, shown
from attain.engine.mechanics.common import bound_text, effective_rate, to_value
from attain.engine.results import Figures, Outcome, Slice


def pay(component: RateAbove, figures: Figures) -> Outcome:
    threshold = to_value(component.threshold, component.basis, figures)
    above = exact(figures.value) - threshold
    if above <= 0:
        return Outcome(amount=ZERO, note=f"{bound_text(component.threshold, component.basis)} not passed")
    rate = effective_rate(component.rate, figures)
    amount = above * rate
    label = f"above {bound_text(component.threshold, component.basis)}"
    return Outcome(
        amount=shown(amount), exact=amount,
        slices=(Slice(label=label, lower=component.threshold, upper=None, base=shown(above), rate=shown(rate),
                      amount=shown(amount)),),
    )


def vectorize(component: RateAbove, figures: ColumnFigures, ops: ColumnOps) -> Num:
    """`pay` over columns: the rate on the value above the threshold, zero below it."""
    above = ops.sub(figures.value, ops.to_value(figures, component.threshold, component.basis))
    return ops.where(ops.gt(above, ops.zero()), ops.times_rate(above, component.rate, figures), ops.zero())


def describe(component: RateAbove, currency: str) -> list[str]:
    return [
        f"Pays {component.rate.describe()} on {component.metric} above "
        f"{bound_text(component.threshold, component.basis)}; nothing on the value below it."
    ]
