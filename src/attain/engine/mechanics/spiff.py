"""SPIFF: a fixed amount or a rate per qualifying deal credited inside a date window."""

from __future__ import annotations

from attain.core.expressions import holds
from attain.core.money import ZERO
from attain.core.periods import Period
from attain.core.plan import Spiff
from attain.core.records import Credit, deal_values
from attain.engine.adjust import finish
from attain.engine.results import MetricReading, PayoutLine, Slice
from attain.engine.scope import Scope


def qualifies(component: Spiff, credit: Credit) -> bool:
    if component.window_start and credit.credit_date < component.window_start:
        return False
    if component.window_end and credit.credit_date > component.window_end:
        return False
    return component.qualifies is None or holds(component.qualifies, deal_values(credit))


def overlaps_window(component: Spiff, period: Period) -> bool:
    """A SPIFF has no line in periods entirely outside its window."""
    if component.window_start and period.last_day < component.window_start:
        return False
    return not (component.window_end and period.start > component.window_end)


def evaluate(component: Spiff, scope: Scope, participant_id: str, period: Period) -> PayoutLine:
    plan = scope.plan
    credits = tuple(c for c in scope.metrics.credits_in(participant_id, period) if qualifies(component, c))
    per_deal = [
        component.amount_per_deal if component.amount_per_deal is not None
        else credit.amount * (component.rate or ZERO)
        for credit in credits
    ]
    gross = sum(per_deal, ZERO)
    slices = tuple(
        Slice(label=f"deal {c.deal_id}", lower=None, upper=None,
              base=None if component.amount_per_deal is not None else c.amount,
              rate=component.rate, amount=a)
        for c, a in zip(credits, per_deal, strict=True)
    )
    done = finish(scope, component, participant_id, period, gross, credits, per_deal or None,
                  {"value": sum((c.amount for c in credits), ZERO), "quota": None, "attainment": None})
    return PayoutLine(
        participant_id=participant_id, plan_id=plan.id, plan_version=plan.version,
        component_id=component.id, component_label=component.label, kind="spiff", period=period.label,
        currency=plan.currency, amount=done.amount, gross=gross,
        metric=MetricReading(name="qualifying deals", value=ZERO + len(credits), quota=None, attainment=None),
        target_incentive=component.target_incentive, slices=slices, gates=done.gates,
        reductions=done.reductions, limits=done.limits, deals=done.deals,
        notes=(f"{len(credits)} qualifying deal(s) in the window", *done.notes),
    )


def describe(component: Spiff, currency: str) -> list[str]:
    what = (f"{component.amount_per_deal:,} {currency} per qualifying deal" if component.amount_per_deal is not None
            else f"{(component.rate or ZERO) * 100:g}% of each qualifying deal")
    window = ""
    if component.window_start or component.window_end:
        window = f" credited from {component.window_start or 'the start'} to {component.window_end or 'the end'}"
    rule = f" where {component.qualifies_text}" if component.qualifies_text else ""
    return [f"Pays {what}{window}{rule}."]
