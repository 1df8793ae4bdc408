"""Stepped bonus: several thresholds, each paying a share of target (highest only, or additive)."""

from __future__ import annotations

from attain.core.money import ZERO
from attain.core.plan import StepMode, Stepped
from attain.engine.columns import ColumnFigures, ColumnOps, Num
from attain.engine.mechanics.common import bound_text, payout_of, position, reached, reached_column
from attain.engine.results import Figures, Outcome, Slice


def pay(component: Stepped, figures: Figures) -> Outcome:
    pos = position(figures, component.basis)
    hits = [
        Slice(
            label=f"step {bound_text(step.at, component.basis)}",
            lower=step.at, upper=None, base=None, rate=step.share_of_target,
            amount=payout_of(step.amount, step.share_of_target, figures),
        )
        for step in sorted(component.steps, key=lambda s: s.at)
        if reached(pos, step.at, component.inclusive)
    ]
    if not hits:
        first = min(s.at for s in component.steps)
        return Outcome(amount=ZERO, note=f"first step {bound_text(first, component.basis)} not reached")
    if component.mode is StepMode.HIGHEST:
        top = hits[-1]
        return Outcome(amount=top.amount, slices=(top,), note=f"highest step reached: {top.label}")
    total = sum((h.amount for h in hits), ZERO)
    return Outcome(amount=total, slices=tuple(hits), note=f"{len(hits)} steps reached, added")


def vectorize(component: Stepped, figures: ColumnFigures, ops: ColumnOps) -> Num:
    """`pay` over columns: the highest step reached, or the sum of every step reached."""
    pos = ops.position(figures, component.basis)
    fixed = Figures(value=ZERO, quota=None, target_incentive=figures.target_incentive)
    steps = sorted(component.steps, key=lambda s: s.at)
    paid = [(reached_column(pos, s.at, component.inclusive, ops),
             ops.const(payout_of(s.amount, s.share_of_target, fixed))) for s in steps]
    total = ops.zero()
    for hit, amount in paid:
        if component.mode is StepMode.HIGHEST:
            total = ops.where(hit, amount, total)
        else:
            total = ops.add(total, ops.where(hit, amount, ops.zero()))
    return total


def describe(component: Stepped, currency: str) -> list[str]:
    lines = []
    for step in sorted(component.steps, key=lambda s: s.at):
        what = (
            f"{step.amount:,} {currency}" if step.amount is not None
            else f"{(step.share_of_target or 0) * 100:g}% of the target incentive"
        )
        lines.append(f"At {bound_text(step.at, component.basis)} of {component.metric}: {what}.")
    how = "Only the highest step reached pays." if component.mode is StepMode.HIGHEST else (
        "Every step reached pays, added together.")
    return [*lines, how]
