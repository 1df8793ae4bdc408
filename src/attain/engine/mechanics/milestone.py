"""Milestone bonus: nothing below the threshold, the whole amount at or above it."""

from __future__ import annotations

from attain.core.money import ZERO
from attain.core.plan import Milestone
from attain.engine.columns import ColumnFigures, ColumnOps, Num
from attain.engine.mechanics.common import bound_text, payout_of, position, reached, reached_column
from attain.engine.results import Figures, Outcome, Slice


def pay(component: Milestone, figures: Figures) -> Outcome:
    pos = position(figures, component.basis)
    target = bound_text(component.threshold, component.basis)
    if not reached(pos, component.threshold, component.inclusive):
        return Outcome(amount=ZERO, note=f"milestone {target} not reached")
    amount = payout_of(component.amount, component.share_of_target, figures)
    label = f"milestone {target} reached"
    return Outcome(
        amount=amount,
        slices=(Slice(label=label, lower=component.threshold, upper=None, base=None, rate=None, amount=amount),),
        note=label,
    )


def vectorize(component: Milestone, figures: ColumnFigures, ops: ColumnOps) -> Num:
    """`pay` over columns: the payout where the threshold is reached, else zero."""
    pos = ops.position(figures, component.basis)
    amount = payout_of(component.amount, component.share_of_target, _fixed(figures))
    return ops.where(reached_column(pos, component.threshold, component.inclusive, ops), ops.const(amount), ops.zero())


def _fixed(figures: ColumnFigures) -> Figures:
    return Figures(value=ZERO, quota=None, target_incentive=figures.target_incentive)


def describe(component: Milestone, currency: str) -> list[str]:
    target = bound_text(component.threshold, component.basis)
    what = (
        f"{component.amount:,} {currency}" if component.amount is not None
        else f"{component.share_of_target * 100 if component.share_of_target else 0:g}% of the target incentive"
    )
    at = "at or above" if component.inclusive else "above"
    return [
        f"Pays {what} when {component.metric} is {at} {target}"
        f"{' of quota' if component.basis.value == 'attainment' else ''}; nothing below it.",
        "Attainment above the milestone does not change this payout.",
    ]
