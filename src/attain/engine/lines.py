"""Building one payout line for a mechanic that pays on figures (value, quota, target)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from attain.core.money import ZERO
from attain.core.periods import Period
from attain.core.plan import Basis, ComponentBase
from attain.core.problems import Problem
from attain.engine.adjust import finish
from attain.engine.attribution import deltas
from attain.engine.mechanics.common import NeedsQuota
from attain.engine.results import Figures, MetricReading, Outcome, PayoutLine
from attain.engine.scope import Scope

PayFn = Callable[[ComponentBase, Figures], Outcome]


def needs_quota(component: ComponentBase) -> bool:
    """Whether the mechanic reads attainment (or derives its rate from TI / quota)."""
    if getattr(component, "basis", Basis.AMOUNT) is Basis.ATTAINMENT:
        return True
    rate = getattr(component, "rate", None)
    if rate is not None and getattr(rate, "derived", False):
        return True
    return any(t.rate.derived for t in getattr(component, "tiers", ()))


def figure_line(
    kind: str, pay: PayFn, component: ComponentBase, scope: Scope, participant_id: str, period: Period
) -> PayoutLine:
    """Measure the metric, pay it, attribute it to deals, then adjust, round and explain."""
    plan = scope.plan
    metric = plan.metric(component.metric)
    value = scope.metrics.value(component.metric, participant_id, period)
    quota, quota_note = (component.quota, "fixed in the plan") if component.quota is not None else (
        scope.quota_for(participant_id, component.quota_key, period))
    notes: list[str] = []
    figures = Figures(value=value if value is not None else ZERO, quota=quota,
                      target_incentive=component.target_incentive)
    if value is None:
        notes.append(f"{component.metric} has no value for {period.label}")
    credits = scope.metrics.counted(metric, participant_id, period) if metric and metric.uses_credits else ()
    try:
        outcome = pay(component, figures) if value is not None else Outcome(amount=ZERO)
        weights = None
        if metric is not None and metric.uses_credits and credits:
            weights = deltas(metric, credits, lambda v: pay(component, _with_value(figures, v)).exact_amount)
    except NeedsQuota:
        outcome, weights = Outcome(amount=ZERO), None
        notes.append(f"no quota for {component.quota_key} in {period.label}: nothing can be paid on attainment")
        scope.note(Problem(code="quota_missing", subject=f"participant {participant_id}",
                           message=f"{plan.id}/{component.id}: no quota for {component.quota_key} in {period.label}"))
    if outcome.note:
        notes.append(outcome.note)
    extra = {"value": figures.value, "quota": quota, "attainment": figures.attainment}
    done = finish(scope, component, participant_id, period, outcome.exact_amount, credits, weights, extra)
    return PayoutLine(
        participant_id=participant_id, plan_id=plan.id, plan_version=plan.version,
        component_id=component.id, component_label=component.label, kind=kind, period=period.label,
        currency=plan.currency, amount=done.amount, gross=outcome.amount,
        metric=MetricReading(name=component.metric, value=value, quota=quota,
                             attainment=figures.attainment, quota_note=quota_note if quota is not None else ""),
        target_incentive=component.target_incentive,
        base_rate=figures.base_rate if needs_quota(component) else None,
        slices=outcome.slices, gates=done.gates, reductions=done.reductions, limits=done.limits,
        deals=done.deals, notes=(*notes, *done.notes),
    )


def _with_value(figures: Figures, value: Decimal) -> Figures:
    return Figures(value=value, quota=figures.quota, target_incentive=figures.target_incentive)
