"""After a mechanic pays: reduction terms, caps and floors, gates, rounding and deal attribution."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from attain.core.expressions import Clause, evaluate, names
from attain.core.money import ONE, ZERO, RoundingPoint, minor_unit
from attain.core.periods import Period
from attain.core.plan import ComponentBase, Gate, Limit, Plan, Reduction
from attain.core.records import Credit
from attain.engine.attribution import attribute, round_each
from attain.engine.exact import Exact, exact, round_exact, shown
from attain.engine.results import DealAttribution, GateResult, LimitResult, ReductionResult
from attain.engine.scope import Scope


@dataclass(frozen=True, slots=True, kw_only=True)
class Finished:
    """A line's amount after every adjustment, with the reasons collected on the way."""

    amount: Decimal
    gates: tuple[GateResult, ...]
    reductions: tuple[ReductionResult, ...]
    limits: tuple[LimitResult, ...]
    deals: tuple[DealAttribution, ...]
    notes: tuple[str, ...]


def condition_env(
    scope: Scope, component: ComponentBase, participant_id: str, period: Period, extra: Mapping[str, object]
) -> dict[str, object]:
    """Values for every name the component's gates and reductions read."""
    wanted: set[str] = set()
    for gate in component.gates:
        wanted |= names(gate.condition)
    for reduction in component.reductions:
        wanted |= names(reduction.condition)
    env = scope.metrics.environment(participant_id, period, wanted - extra.keys())
    env.update({k: v for k, v in extra.items() if k in wanted})
    return env


def check_gates(gates: Sequence[Gate], env: dict[str, object]) -> tuple[GateResult, ...]:
    results = []
    for gate in gates:
        trace: list[Clause] = []
        value = evaluate(gate.condition, env, trace)
        results.append(GateResult(text=gate.text, label=gate.label, passed=value is True, clauses=tuple(trace)))
    return tuple(results)


def apply_reductions(
    reductions: Sequence[Reduction], env: dict[str, object], amount: Exact
) -> tuple[Fraction, tuple[ReductionResult, ...]]:
    """Each reduction term that holds takes its share, exactly (shown to 38 digits in the reasons)."""
    results = []
    current = exact(amount)
    for reduction in reductions:
        trace: list[Clause] = []
        applies = evaluate(reduction.condition, env, trace) is True
        after = current * exact(ONE - min(reduction.reduce_by, ONE)) if applies else current
        results.append(ReductionResult(
            text=reduction.text, label=reduction.label, applied=applies, reduce_by=reduction.reduce_by,
            before=shown(current), after=shown(after), clauses=tuple(trace),
        ))
        current = after
    return current, tuple(results)


def apply_limit(kind: str, scope_name: str, limit: Limit | None, target: Decimal | None,
                amount: Exact) -> tuple[Fraction, LimitResult | None]:
    """Cap (an upper limit) or floor (a lower limit) on an exact amount."""
    current = exact(amount)
    if limit is None:
        return current, None
    value = limit.resolve(target)
    after = min(current, exact(value)) if kind == "cap" else max(current, exact(value))
    return after, LimitResult(kind=kind, scope=scope_name, limit=value, description=limit.describe(),
                              before=shown(current), after=shown(after))


def finish(
    scope: Scope,
    component: ComponentBase,
    participant_id: str,
    period: Period,
    gross: Exact,
    credits: Sequence[Credit],
    weights: Sequence[Exact] | None,
    extra_env: Mapping[str, object],
) -> Finished:
    """Reductions, then the component's cap and floor, then gates; round once; attribute to deals.

    Gates come last so a failed gate always pays zero, whatever a floor would guarantee. The
    amount stays exact until the declared rounding.
    """
    plan: Plan = scope.plan
    env = condition_env(scope, component, participant_id, period, extra_env)
    amount, reductions = apply_reductions(component.reductions, env, gross)
    limits: list[LimitResult] = []
    notes: list[str] = []
    for kind, limit in (("cap", component.cap), ("floor", component.floor)):
        amount, result = apply_limit(kind, "component", limit, component.target_incentive, amount)
        if result:
            limits.append(result)
    gates = check_gates(component.gates, env)
    if any(not g.passed for g in gates):
        amount = Fraction(0)
    policy = plan.rounding
    currency = plan.currency
    quantum = minor_unit(currency)
    deal_amounts: tuple[Decimal, ...] | None = None
    if weights is not None and policy.point is RoundingPoint.DEAL:
        deal_amounts = round_each(amount, weights, currency, policy.mode)
        if deal_amounts:
            rounded = sum(deal_amounts, ZERO).quantize(quantum)
        else:
            rounded = round_exact(amount, currency, policy.mode)
    else:
        rounded = round_exact(amount, currency, policy.mode)
        if weights is not None:
            deal_amounts = attribute(rounded, weights, quantum)
    if weights is not None and credits and deal_amounts is None:
        notes.append("no single deal moved this payout; it is not attributed to deals")
    deals: tuple[DealAttribution, ...] = ()
    if deal_amounts is not None:
        deals = tuple(
            DealAttribution(deal_id=c.deal_id, credit_date=c.credit_date, credit=c.amount, amount=a,
                            reason=c.describe())
            for c, a in zip(credits, deal_amounts, strict=True)
        )
    return Finished(amount=rounded, gates=gates, reductions=reductions, limits=tuple(limits),
                    deals=deals, notes=tuple(notes))
