"""Team pool: funded by the team's attainment, allocated to buckets, split among members exactly."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from attain.core.money import ONE, ZERO, allocate, minor_unit
from attain.core.periods import Period
from attain.core.plan import ComponentBase, Pool, SplitMethod
from attain.engine.adjust import finish
from attain.engine.columns import ColumnFigures, ColumnOps, Num
from attain.engine.exact import round_exact
from attain.engine.mechanics.common import NeedsQuota
from attain.engine.results import Figures, MetricReading, Outcome, PayoutLine, PoolShare
from attain.engine.scope import Scope

PayFn = Callable[[ComponentBase, Figures], Outcome]
VectorizeFn = Callable[[ComponentBase, ColumnFigures, ColumnOps], Num]


@dataclass(frozen=True, slots=True, kw_only=True)
class TeamPool:
    """A team's pool for one period and each member's share of every bucket."""

    team: str
    members: tuple[str, ...]
    value: Decimal
    quota: Decimal | None
    outcome: Outcome
    amount: Decimal
    shares: dict[str, tuple[tuple[str, str, Decimal, Decimal, Decimal], ...]]


def team_pool(component: Pool, scope: Scope, team: str, period: Period, pay: PayFn) -> TeamPool:
    key = ("pool", component.id, team, period.label)
    cached = scope.memo.get(key)
    if isinstance(cached, TeamPool):
        return cached
    members = tuple(sorted(p.id for p in scope.payees if scope.team_of(p.id, period) == team))
    values = {m: scope.metrics.value(component.metric, m, period) or ZERO for m in members}
    team_value = sum(values.values(), ZERO)
    quota = component.quota
    if quota is None:
        found = [scope.quota_for(m, component.quota_key, period)[0] for m in members]
        quota = sum((q for q in found if q is not None), ZERO) if any(q is not None for q in found) else None
    funding = component.funding
    figures = Figures(value=team_value, quota=quota, target_incentive=component.target_incentive)
    try:
        outcome = pay(funding, figures) if funding is not None else Outcome(amount=ZERO)
    except NeedsQuota:
        outcome = Outcome(amount=ZERO, note=f"team {team} has no quota for {component.quota_key}")
    currency = scope.plan.currency
    amount = round_exact(outcome.exact_amount, currency, scope.plan.rounding.mode)
    quantum = minor_unit(currency)
    shares: dict[str, list[tuple[str, str, Decimal, Decimal, Decimal]]] = {m: [] for m in members}
    if members:
        bucket_amounts = allocate(amount, [b.share for b in component.buckets], quantum)
        for bucket, bucket_amount in zip(component.buckets, bucket_amounts, strict=True):
            weights = _weights(component, bucket.split, bucket.weight_metric, scope, members, values, period)
            method = bucket.split.value
            if sum(weights, ZERO) == 0:
                weights, method = [ONE] * len(members), "equal (no member had any weight)"
            split = allocate(bucket_amount, weights, quantum)
            for member, weight, member_amount in zip(members, weights, split, strict=True):
                shares[member].append((bucket.id, method, bucket_amount, weight, member_amount))
    result = TeamPool(team=team, members=members, value=team_value, quota=quota, outcome=outcome,
                      amount=amount, shares={m: tuple(s) for m, s in shares.items()})
    scope.memo[key] = result
    return result


def _weights(component: Pool, method: SplitMethod, weight_metric: str | None, scope: Scope,
             members: tuple[str, ...], values: dict[str, Decimal], period: Period) -> list[Decimal]:
    if method is SplitMethod.EQUAL:
        return [ONE] * len(members)
    if weight_metric is None:
        return [max(values[m], ZERO) for m in members]
    return [max(scope.metrics.value(weight_metric, m, period) or ZERO, ZERO) for m in members]


def evaluate(component: Pool, scope: Scope, participant_id: str, period: Period, pay: PayFn) -> PayoutLine:
    plan = scope.plan
    team = component.team or scope.team_of(participant_id, period)
    pool = team_pool(component, scope, team, period, pay)
    own = pool.shares.get(participant_id, ())
    gross = sum((share[4] for share in own), ZERO)
    attainment = pool.value / pool.quota if pool.quota else None
    done = finish(scope, component, participant_id, period, gross, (), None,
                  {"value": pool.value, "quota": pool.quota, "attainment": attainment})
    notes = [f"team {team}: {len(pool.members)} member(s), pool {pool.amount:,} {plan.currency}"]
    if pool.outcome.note:
        notes.append(pool.outcome.note)
    return PayoutLine(
        participant_id=participant_id, plan_id=plan.id, plan_version=plan.version,
        component_id=component.id, component_label=component.label, kind="pool", period=period.label,
        currency=plan.currency, amount=done.amount, gross=gross,
        metric=MetricReading(name=f"team {component.metric}", value=pool.value, quota=pool.quota,
                             attainment=attainment),
        target_incentive=component.target_incentive, slices=pool.outcome.slices, gates=done.gates,
        reductions=done.reductions, limits=done.limits, deals=(),
        pool=PoolShare(team=team, members=pool.members, team_value=pool.value, team_quota=pool.quota,
                       pool_amount=pool.amount, buckets=own),
        notes=(*notes, *done.notes),
    )


def vectorize(component: Pool, figures: ColumnFigures, ops: ColumnOps, fund: VectorizeFn) -> Num:
    """The pool before rounding over columns of team figures (one row per team and period): its
    funding mechanic's own column form, as `team_pool` pays it with `pay`; zero without funding.

    Grouping members into teams and splitting the rounded pool into buckets and members (largest
    remainder) are set operations the executor performs around this.
    """
    if component.funding is None:
        return ops.zero()
    return fund(component.funding, figures, ops)


def describe(component: Pool, currency: str) -> list[str]:
    lines = [f"A team pool funded on the team's total {component.metric}"
             f"{'' if component.quota is None else f' against a team quota of {component.quota:,}'}."]
    for bucket in component.buckets:
        how = {"equal": "equally", "share": f"by each member's {bucket.weight_metric or 'share'}",
               "contribution": f"by each member's contribution to {bucket.weight_metric or component.metric}"}
        lines.append(f"{bucket.share * 100:g}% ({bucket.label or bucket.id}) is split {how[bucket.split.value]}.")
    lines.append("Every split is exact to the cent (largest remainder).")
    return lines
