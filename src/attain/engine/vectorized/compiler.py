"""Compile a plan to Ibis: one wide table per period kind, one set of columns per component.

A row is a payee in a sub-period (a monthly component has three per quarter). For every
component of that kind the row carries its figures, its gross pay (the mechanic's own
`vectorize`), each reduction and gate, its limits and the rounded amount; deal attribution is a
second table over the credits (the delta method as a running sum). A team pool is a table of
its own over every payee of the plan (members, teams, funding, buckets and member shares, each
split by largest remainder) joined back to its members' rows. With rounding point "deal" each
deal's share of a line is rounded on its own and the line amount is their sum. Whatever the
executor cannot express is refused with UnsupportedError while compiling, before any query runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import pyarrow as pa

from attain.core.expressions import names
from attain.core.money import ONE, ZERO, RoundingMode, RoundingPoint, minor_unit
from attain.core.periods import CALENDAR, FiscalCalendar, Period, PeriodKind, periods_within
from attain.core.plan import (
    Accelerator,
    Aggregate,
    Basis,
    ComponentBase,
    MarginalTiers,
    Plan,
    Pool,
    Spiff,
    SplitMethod,
)
from attain.crediting import Org
from attain.engine.mechanics import mechanic_for
from attain.engine.mechanics import pool as pool_mechanic
from attain.engine.vectorized.conditions import ConditionCompiler, Typed
from attain.engine.vectorized.crediting import Credited, credit_query
from attain.engine.vectorized.measures import (
    NO_FIELD,
    counted,
    credit_amount,
    credit_metrics,
    deal_env,
    label_of,
    observed_values,
    quota_values,
    subs_table,
)
from attain.engine.vectorized.numeric import Exact, Frac, allocate_columns, force_cast
from attain.engine.vectorized.refusals import refuse_unsupported
from attain.engine.vectorized.sources import Sources, decimal_column

# Quotas found as a share of a longer period are n / months with months in {1, 3, 6, 12}: over
# 12 every member's quota is exact, so a team's quota is a sum of numerators over 12.
QUOTA_DENOMINATOR = 12
# Weights that are averages (n observations) or ratios are fractions; over the least common
# multiple of 1..12 the weights of a team whose denominators all divide it are exact integers.
WEIGHT_DENOMINATOR = 27720
# Otherwise each weight is rounded to this many places (the allocation's products keep 11).
WEIGHT_PLACES = Decimal("1e-11")


@dataclass(frozen=True, slots=True)
class VecFigures:
    """engine.columns.ColumnFigures over Ibis fractions."""

    value: Frac
    quota: Frac
    target_incentive: Decimal | None


@dataclass(slots=True)
class KindPlan:
    """The wide table of one period kind and the components computed on it."""

    kind: PeriodKind
    subs: tuple[Period, ...]
    table: Any
    components: list[tuple[int, ComponentBase]] = field(default_factory=list)
    env_names: tuple[str, ...] = ()
    attributions: dict[int, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Compiled:
    """Everything to execute: credits, the kind tables, and the crediting problem queries."""

    plan: Plan
    period: Period
    credited: Credited
    kinds: list[KindPlan]
    payees: Any


def needs_quota(component: ComponentBase) -> bool:
    """Whether paying the component reads attainment, so it pays nothing without a quota."""
    if isinstance(component, Accelerator):
        return bool(component.bands) or component.base_multiplier != 0
    if isinstance(component, MarginalTiers) and not component.tiers:
        return False
    return getattr(component, "basis", Basis.AMOUNT) is Basis.ATTAINMENT


def compile_plan(plan: Plan, period: Period, sources: Sources, ops: Exact, calendar: FiscalCalendar = CALENDAR,
                 attribution: bool = True) -> Compiled:
    refuse_unsupported(plan)
    credited = credit_query(sources, plan, period, ops)
    people = sources.participants
    covered = ibis.literal(True)
    rules = plan.assignment
    if rules.roles or rules.teams or rules.participants:
        covered = ibis.literal(False)
        for column, allowed in (("role", rules.roles), ("team", rules.teams), ("participant_id", rules.participants)):
            if allowed:
                covered = covered | people[column].isin(list(allowed))
    active = ((people.start_date.isnull() | (people.start_date < period.end))
              & (people.end_date.isnull() | (people.end_date >= period.start)))
    payees = people.filter(covered & active)
    kinds: list[KindPlan] = []
    by_kind: dict[PeriodKind, list[tuple[int, ComponentBase]]] = {}
    for index, component in enumerate(plan.components):
        by_kind.setdefault(component.period, []).append((index, component))
    for kind, components in by_kind.items():
        subs = periods_within(period, kind, calendar)
        if not subs:
            continue
        kinds.append(_kind_table(plan, kind, subs, components, payees, credited.credits, sources, ops, attribution))
    return Compiled(plan=plan, period=period, credited=credited, kinds=kinds, payees=payees)


def _metric_names(plan: Plan, name: str, depth: int = 0) -> set[str]:
    """The base metrics a metric reads (a ratio reads its two sides)."""
    metric = plan.metric(name)
    if metric is None or metric.aggregate is not Aggregate.RATIO or depth > 16:
        return {name}
    return _metric_names(plan, metric.numerator or "", depth + 1) | _metric_names(plan, metric.denominator or "",
                                                                                   depth + 1)


def _kind_table(plan: Plan, kind: PeriodKind, subs: Sequence[Period], components: list[tuple[int, ComponentBase]],
                payees: Any, credits: Any, sources: Sources, ops: Exact, attribution: bool) -> KindPlan:
    sub_rows = subs_table(subs)
    grid = payees.select("participant_id").cross_join(sub_rows)
    people = payees.select("participant_id", "start_date", "end_date")
    grid = grid.join(people, "participant_id")
    active = ((grid.start_date.isnull() | (grid.start_date < grid.sub_end))
              & (grid.end_date.isnull() | (grid.end_date >= grid.sub_start)))
    pools = [(index, c) for index, c in components if isinstance(c, Pool)]
    if pools:
        # A pool's members are all the plan's payees in the period, active in the sub-period or
        # not (engine.scope.Scope.payees); lines are only for the active ones.
        grid = _with_teams(grid.mutate(_active=active).drop("start_date", "end_date"), payees, subs, sources)
    else:
        grid = grid.filter(active).drop("start_date", "end_date")
    wanted: set[str] = set()
    env_names: set[str] = set()
    quota_keys: set[str] = set()
    for _, component in components:
        if not isinstance(component, Spiff):
            wanted |= _metric_names(plan, component.metric)
            if component.quota is None:
                quota_keys.add(component.quota_key)
        if isinstance(component, Pool):
            for bucket in component.buckets:
                if bucket.split is not SplitMethod.EQUAL and bucket.weight_metric is not None:
                    wanted |= _metric_names(plan, bucket.weight_metric)
        for condition in (*(g.condition for g in component.gates), *(r.condition for r in component.reductions)):
            env_names |= names(condition)
    extras = {"value", "quota", "attainment"}
    for name in env_names - extras:
        wanted |= _metric_names(plan, name)
    credit_names = {n for n in wanted if (m := plan.metric(n)) is not None and m.uses_credits}
    observed = []
    for name in sorted(wanted - credit_names):
        metric = plan.metric(name)
        if metric is None:
            observed.append((name, name, Aggregate.AVERAGE))
        elif metric.aggregate is not Aggregate.RATIO:
            observed.append((name, metric.observed or name, metric.aggregate))
    table = grid
    if credit_names:
        agg = credit_metrics(plan, credit_names, credits, subs, sources.field_names, ops)
        table = table.left_join(agg, ["participant_id", "sub"]).drop("participant_id_right", "sub_right")
        table = table.mutate(**{f"m_{n}": ops.natural(table[f"m_{n}"].fill_null(ops.lit(ZERO)))
                                for n in credit_names})
    if observed:
        values = observed_values(sources.observations, observed, sub_rows, ops)
        for name, _, _ in observed:
            one = values.filter(values.name == name).select("participant_id", "sub", **{f"o_{name}_n": "n",
                                                                                        f"o_{name}_d": "d"})
            table = table.left_join(one, ["participant_id", "sub"]).drop("participant_id_right", "sub_right")
    if quota_keys:
        quotas = quota_values(sources.quotas, sorted(quota_keys), sub_rows, ops)
        for key in sorted(quota_keys):
            one = quotas.filter(quotas.metric == key).drop("metric")
            one = one.rename({f"q_{key}_{c}": c for c in one.columns if c not in ("participant_id", "sub")})
            table = table.left_join(one, ["participant_id", "sub"]).drop("participant_id_right", "sub_right")
    full = table
    if pools:
        table = full.filter(full._active).drop("_active", "_team")
    plan_kind = KindPlan(kind=kind, subs=tuple(subs), table=table, components=components,
                         env_names=tuple(sorted(env_names - extras)))
    for index, component in components:
        if isinstance(component, Spiff):
            base_env = {name: Typed("num", _metric(plan, name, table, ops)) for name in plan_kind.env_names}
            table, weighted = _spiff(index, component, table, credits, sources, ops, plan, base_env)
            # A SPIFF's deals are always listed (their sum is the line), whether or not attribution is asked.
            table, plan_kind.attributions[index] = _settle(index, table, weighted, "per_deal", plan, ops, True)
    for index, component in pools:
        shares = _pool(index, component, plan, full, sub_rows, ops)
        table = table.left_join(shares, ["participant_id", "sub"]).drop("participant_id_right", "sub_right")
    ops.begin(table)
    base_env = {name: Typed("num", _metric(plan, name, table, ops)) for name in plan_kind.env_names}
    for index, component in components:
        if isinstance(component, Pool):
            ops.set(**_pool_columns(index, component, plan, table, ops, base_env))
        elif not isinstance(component, Spiff):
            ops.set(**_figure_columns(index, component, plan, table, ops, base_env))
    table = ops.end()
    # Per-deal rounding decides the line amount itself, so it is computed whether or not the
    # lines are to carry their deals.
    if attribution or plan.rounding.point is RoundingPoint.DEAL:
        for index, component in components:
            metric = plan.metric(component.metric)
            if isinstance(component, Spiff | Pool) or metric is None or not metric.uses_credits:
                continue
            weighted = _deltas(index, component, plan, table, credits, subs, sources, ops)
            table, attributed = _settle(index, table, weighted, "_w", plan, ops, attribution)
            if attributed is not None:
                plan_kind.attributions[index] = attributed
    plan_kind.table = table
    return plan_kind


def _with_teams(grid: Any, payees: Any, subs: Sequence[Period], sources: Sources) -> Any:
    """Each payee's team in each sub-period (`_team`): as of the sub-period's last day, else the
    participant's own team (engine.scope.Scope.team_of). Without the records (Parquet sources
    carry no org terms) the participants table's team holds for every sub-period."""
    if sources.data is None:
        return grid.join(payees.select("participant_id", _team="team"), "participant_id")
    org = Org(sources.data.terms())
    rows: dict[str, list[Any]] = {"participant_id": [], "sub": [], "_team": []}
    for participant in sources.data.participants:
        for sub in subs:
            team = org.team_of(participant.id, sub.last_day)
            rows["participant_id"].append(participant.id)
            rows["sub"].append(sub.label)
            rows["_team"].append(team if team is not None else participant.team)
    teams = ibis.memtable(pa.table({k: pa.array(v, pa.string()) for k, v in rows.items()}))
    return grid.join(teams, ["participant_id", "sub"])


def _metric(plan: Plan, name: str, table: Any, ops: Exact, depth: int = 0) -> Frac:
    metric = plan.metric(name)
    if metric is not None and metric.uses_credits:
        return Frac(table[f"m_{name}"])
    if metric is not None and metric.aggregate is Aggregate.RATIO:
        numerator = _metric(plan, metric.numerator or "", table, ops, depth + 1)
        denominator = _metric(plan, metric.denominator or "", table, ops, depth + 1)
        return ops.divide(numerator, denominator)
    return Frac(table[f"o_{name}_n"], table[f"o_{name}_d"])


def _fixed_quota(quota: Decimal, ops: Exact) -> Frac:
    # In the working type, not as a literal: the product of two literals (a tier bound x the
    # quota) would be typed with the precision of neither and overflow.
    return Frac(force_cast(ops.lit(quota), ops.work))


def _quota(component: ComponentBase, table: Any, ops: Exact) -> Frac:
    if component.quota is not None:
        return _fixed_quota(component.quota, ops)
    key = component.quota_key
    return Frac(table[f"q_{key}_quota_n"], table[f"q_{key}_quota_d"])


def _adjust(index: int, component: ComponentBase, plan: Plan, gross: Frac, env: dict[str, Typed], ops: Exact,
            columns: dict[str, Any]) -> None:
    """Reductions, then cap and floor, then gates; round once (adjust.finish). The amount before
    rounding is kept for per-deal rounding."""
    compiler = ConditionCompiler(ops, env)
    amount = gross
    for k, reduction in enumerate(component.reductions):
        applies = compiler.truth(reduction.condition)
        columns[f"c{index}_red{k}"] = applies
        amount = ops.where(applies, ops.times(amount, ops.const(ONE - min(reduction.reduce_by, ONE))), amount)
    if component.cap is not None:
        amount = ops.minimum(amount, ops.const(component.cap.resolve(component.target_incentive)))
    if component.floor is not None:
        amount = ops.maximum(amount, ops.const(component.floor.resolve(component.target_incentive)))
    passed = ibis.literal(True)
    for k, gate in enumerate(component.gates):
        holds = compiler.truth(gate.condition)
        columns[f"c{index}_gate{k}"] = holds
        passed = passed & holds
    amount = ops.where(passed, amount, ops.zero())
    if plan.rounding.point is RoundingPoint.DEAL:
        columns[f"c{index}_pre_n"] = amount.num
        columns[f"c{index}_pre_d"] = amount.den if amount.den is not None else force_cast(ops.lit(ONE), ops.work)
    columns[f"c{index}_amount"] = ops.round(amount, minor_unit(plan.currency), plan.rounding.mode)


def _figure_columns(index: int, component: ComponentBase, plan: Plan, table: Any, ops: Exact,
                    base_env: dict[str, Typed]) -> dict[str, Any]:
    mechanic = mechanic_for(component)
    assert mechanic.vectorize is not None
    value = _metric(plan, component.metric, table, ops)
    quota = _quota(component, table, ops)
    value_missing = value.num.isnull()
    missing_quota = quota.num.isnull() | (quota.num == 0) if needs_quota(component) else ibis.literal(False)
    skip = value_missing | missing_quota
    safe_value = Frac(value_missing.ifelse(force_cast(ops.lit(ZERO), ops.work), value.num), value.den)
    figures = VecFigures(value=safe_value, quota=quota, target_incentive=component.target_incentive)
    paid = mechanic.vectorize(component, figures, ops)
    one = force_cast(ops.lit(ONE), ops.work)
    # Lines that cannot be paid (no value, or no quota to reach) pay zero, over denominator 1.
    gross = Frac(skip.ifelse(force_cast(ops.lit(ZERO), ops.work), paid.num),
                 None if paid.den is None else skip.ifelse(one, paid.den))
    columns: dict[str, Any] = {
        f"c{index}_value_n": value.num, f"c{index}_value_d": value.den if value.den is not None else one,
        f"c{index}_missing_quota": missing_quota & ~value_missing,
        f"c{index}_gross_n": gross.num, f"c{index}_gross_d": gross.den if gross.den is not None else one,
    }
    _adjust(index, component, plan, gross, _figure_env(base_env, safe_value, quota, ops), ops, columns)
    return columns


def _figure_env(base_env: dict[str, Typed], value: Frac, quota: Frac, ops: Exact) -> dict[str, Typed]:
    """The names a component's gates and reductions read: the plan's metrics, then the line's
    value, quota and attainment."""
    return {**base_env, "value": Typed("num", value), "quota": Typed("num", quota),
            "attainment": Typed("num", ops.divide(value, quota))}


def _pool(index: int, component: Pool, plan: Plan, full: Any, sub_rows: Any, ops: Exact) -> Any:
    """mechanics.pool.team_pool for every team and sub-period at once, as columns per payee row.

    `full` holds every payee of the plan in every sub-period (active or not) with its team and
    metrics. The team's value and quota are sums over its members; the funding mechanic pays on
    them; the rounded pool is allocated to the buckets, and each bucket to the members (sorted by
    id) by their weights, equally where no member has any weight: largest remainder each time.
    """
    c = f"c{index}_"
    quantum = minor_unit(plan.currency)
    work = ops.work
    one, zero = force_cast(ops.lit(ONE), work), force_cast(ops.lit(ZERO), work)
    teams = ibis.window(group_by=["team", "sub"])
    value = force_cast(_metric(plan, component.metric, full, ops).num.fill_null(zero), work)
    columns: dict[str, Any] = {"participant_id": full.participant_id, "sub": full.sub, "team": full._team,
                               "_v": value}
    if component.quota is None:
        key = component.quota_key
        factor = ibis.literal(QUOTA_DENOMINATOR) // full[f"q_{key}_quota_d"].cast("int64")
        columns["_q"] = ops.mul(full[f"q_{key}_quota_n"], force_cast(factor, dt.Decimal(38, 0)))
    fractions: list[int] = []
    for k, bucket in enumerate(component.buckets):
        if bucket.split is SplitMethod.EQUAL:
            columns[f"_w{k}"] = one
        elif bucket.weight_metric is None:
            columns[f"_w{k}"] = (value > zero).ifelse(value, zero)
        else:
            weight = _metric(plan, bucket.weight_metric, full, ops)
            positive = weight.num.notnull() & (weight.num > 0)
            columns[f"_w{k}"] = force_cast(positive.ifelse(weight.num, zero), work)
            if weight.den is not None:
                columns[f"_d{k}"] = positive.ifelse(force_cast(weight.den, work), ibis.null(work))
                fractions.append(k)
    members = full.select(**columns)
    for k in fractions:
        members = _common_denominator(members, k, teams, ops)
    aggregates: dict[str, Any] = {"_tv": force_cast(members._v.sum(), work), "_count": members.count(),
                                  "_members": members.participant_id.collect()}  # sorted when read
    if component.quota is None:
        aggregates["_tq"] = force_cast(members._q.sum(), work)
    team_rows = members.group_by(["team", "sub"]).aggregate(**aggregates)
    if component.team:  # `team or the payee's team`, as mechanics.pool.evaluate reads it
        named = team_rows.filter(team_rows.team == component.team).drop("team")
        team_rows = sub_rows.select("sub").mutate(team=ibis.literal(component.team)).left_join(named, "sub")
        team_rows = team_rows.drop("sub_right").mutate(_tv=team_rows._tv.fill_null(zero),
                                                       _count=team_rows._count.fill_null(0))
    team_rows = _funded(component, plan, team_rows, ops)
    team_rows = team_rows.select("team", "sub", "_tv", "_pool", "_members", "_count",
                                 *(["_tq"] if component.quota is None else []))
    count = len(component.buckets)
    bucket_rows = ibis.memtable(pa.table({
        "_k": pa.array(range(count), pa.int64()),
        "_share": decimal_column([b.share for b in component.buckets], "bucket share")}))
    split = team_rows.select("team", "sub", "_pool").cross_join(bucket_rows)
    split = allocate_columns(split, ops, group=["team", "sub"], order=["_k"], total="_pool", weight="_share",
                             quantum=quantum, out="_bucket").select("team", "sub", "_k", "_bucket")
    # One row per member and bucket: every bucket is split in the same allocation, by bucket.
    stacked = members.join(split, ["team", "sub"])
    by_bucket = ["team", "sub", "_k"]
    weight = ibis.cases(*((stacked._k == k, stacked[f"_w{k}"]) for k in range(count)), else_=one)
    stacked = stacked.select("participant_id", *by_bucket, "_bucket", _w=force_cast(weight, work))
    none = force_cast(stacked._w.sum().over(ibis.window(group_by=by_bucket)), work) == 0
    stacked = stacked.mutate(_even=none, _x=none.ifelse(one, stacked._w))
    stacked = allocate_columns(stacked, ops, group=by_bucket, order=["participant_id"], total="_bucket",
                               weight="_x", quantum=quantum, out="_s")
    own = stacked.group_by(["participant_id", "sub"]).aggregate(**{
        name: column for k in range(count) for name, column in (
            (f"_b{k}", stacked._bucket.max(where=stacked._k == k)),
            (f"_s{k}", stacked._s.max(where=stacked._k == k)),
            (f"_f{k}", stacked._even.ifelse(1, 0).max(where=stacked._k == k) == 1))})
    line_team = ibis.literal(component.team) if component.team else full._team
    lines = full.select("participant_id", "sub", _line_team=line_team)
    lines = lines.left_join(team_rows, [lines._line_team == team_rows.team, lines.sub == team_rows.sub])
    lines = lines.select("participant_id", "sub", "_line_team", *(n for n in team_rows.columns
                                                                   if n not in ("team", "sub")))
    lines = lines.left_join(own, ["participant_id", "sub"]).drop("participant_id_right", "sub_right")
    gross = zero
    for k in range(count):
        gross = force_cast(gross + lines[f"_s{k}"].fill_null(0), work)
    result = {"participant_id": lines.participant_id, "sub": lines.sub, c + "team": lines._line_team,
              c + "team_value": lines._tv.fill_null(zero), c + "pool": lines._pool,
              c + "members": lines._members, c + "member_count": lines._count.fill_null(0), c + "pool_gross": gross}
    if component.quota is None:
        result[c + "team_quota"] = lines._tq
    for k in range(count):
        result[f"{c}bucket{k}"] = lines[f"_b{k}"]
        result[f"{c}share{k}"] = lines[f"_s{k}"]
        result[f"{c}even{k}"] = lines[f"_f{k}"]
    return lines.select(**result)


def _common_denominator(members: Any, k: int, teams: Any, ops: Exact) -> Any:
    """Weights n / d (averages, ratios) brought to one scale per team so the allocation is exact:
    n x (27720 / d) where every d of the team is a whole number dividing 27720 (an average of up to
    12 observations, a ratio over a small count); else each weight rounded to 11 places."""
    work = ops.work
    d = members[f"_d{k}"]
    small = d.notnull() & (d >= 1) & (d <= WEIGHT_DENOMINATOR)
    whole = small.ifelse(d, force_cast(ops.lit(ONE), work)).cast("int64")
    fits = d.isnull() | (small & (force_cast(whole, work) == d) & ((WEIGHT_DENOMINATOR % whole) == 0))
    members = members.mutate(_fits=fits.ifelse(1, 0).min().over(teams) == 1, _whole=whole)
    ops.begin(members)
    scaled = ops.mul(members[f"_w{k}"], force_cast(WEIGHT_DENOMINATOR // members._whole, dt.Decimal(38, 0)))
    rounded = ops.round(Frac(members[f"_w{k}"], members[f"_d{k}"]), WEIGHT_PLACES, RoundingMode.HALF_EVEN)
    ops.set(**{f"_w{k}": members._fits.ifelse(scaled, force_cast(rounded.fill_null(0), work))})
    return ops.end().drop("_fits", "_whole", f"_d{k}")


def _funded(component: Pool, plan: Plan, team_rows: Any, ops: Exact) -> Any:
    """The team's pool (`_pool`): the funding paid on the team's figures, rounded once; nothing
    where the funding reads attainment and the team has no quota (NeedsQuota in the reference)."""
    work = ops.work
    one, zero = force_cast(ops.lit(ONE), work), force_cast(ops.lit(ZERO), work)
    ops.begin(team_rows)
    quota = _team_quota(component, team_rows, "_tq", ops)
    figures = VecFigures(value=Frac(team_rows._tv), quota=quota, target_incentive=component.target_incentive)
    paid = pool_mechanic.vectorize(component, figures, ops, _vectorize_funding)
    unpaid = paid.num.isnull()
    if paid.den is not None:
        unpaid = unpaid | paid.den.isnull()
    if component.funding is not None and needs_quota(component.funding):
        unpaid = unpaid | quota.num.isnull() | (quota.num == 0)
    gross = Frac(unpaid.ifelse(zero, paid.num), None if paid.den is None else unpaid.ifelse(one, paid.den))
    ops.set(_pool=ops.round(gross, minor_unit(plan.currency), plan.rounding.mode))
    return ops.end()


def _vectorize_funding(funding: ComponentBase, figures: Any, ops: Any) -> Any:
    mechanic = mechanic_for(funding)
    assert mechanic.vectorize is not None
    return mechanic.vectorize(funding, figures, ops)


def _team_quota(component: Pool, table: Any, column: str, ops: Exact) -> Frac:
    if component.quota is not None:
        return _fixed_quota(component.quota, ops)
    return Frac(table[column], force_cast(ops.lit(Decimal(QUOTA_DENOMINATOR)), ops.work))


def _pool_columns(index: int, component: Pool, plan: Plan, table: Any, ops: Exact,
                  base_env: dict[str, Typed]) -> dict[str, Any]:
    """A member's pool line (mechanics.pool.evaluate): the sum of its bucket shares, then the
    component's reductions, limits and gates, which read the team's value, quota and attainment."""
    c = f"c{index}_"
    gross = Frac(force_cast(table[c + "pool_gross"], ops.work))
    value = Frac(table[c + "team_value"])
    quota = _team_quota(component, table, c + "team_quota", ops)
    columns: dict[str, Any] = {c + "gross_n": gross.num, c + "gross_d": force_cast(ops.lit(ONE), ops.work)}
    _adjust(index, component, plan, gross, _figure_env(base_env, value, quota, ops), ops, columns)
    return columns


def _spiff(index: int, component: Spiff, table: Any, credits: Any, sources: Sources, ops: Exact, plan: Plan,
           base_env: dict[str, Typed]) -> tuple[Any, Any]:
    subs_labels = table.select("sub", "sub_start", "sub_end").distinct()
    dated = credits.join(subs_labels, (credits.credit_date >= subs_labels.sub_start)
                         & (credits.credit_date < subs_labels.sub_end))
    keep = ibis.literal(True)
    if component.window_start:
        keep = keep & (dated.credit_date >= component.window_start)
    if component.window_end:
        keep = keep & (dated.credit_date <= component.window_end)
    if component.qualifies is not None:
        env = deal_env(dated, sources.field_names, ops)
        keep = keep & ConditionCompiler(ops, env, missing=NO_FIELD).truth(component.qualifies)
    qualifying = dated.filter(keep)
    if component.amount_per_deal is not None:
        per_deal = force_cast(ops.lit(component.amount_per_deal), ops.work)
    else:
        per_deal = ops.mul(qualifying.amount, ops.lit(component.rate or ZERO))
    qualifying = qualifying.mutate(per_deal=per_deal)
    sums = qualifying.group_by(["participant_id", "sub"]).aggregate(
        **{f"c{index}_gross_n": force_cast(qualifying.per_deal.sum(), ops.work),
           f"c{index}_value_n": ops.cast(qualifying.amount.sum()),
           f"c{index}_count": qualifying.count()})
    table = table.left_join(sums, ["participant_id", "sub"]).drop("participant_id_right", "sub_right")
    zero = force_cast(ops.lit(ZERO), ops.work)
    table = table.mutate(**{f"c{index}_gross_n": table[f"c{index}_gross_n"].fill_null(zero),
                            f"c{index}_value_n": table[f"c{index}_value_n"].fill_null(zero),
                            f"c{index}_count": table[f"c{index}_count"].fill_null(0)})
    gross = Frac(table[f"c{index}_gross_n"])
    env = dict(base_env)
    env["value"] = Typed("num", Frac(table[f"c{index}_value_n"]))
    env["quota"] = Typed("null", None)
    env["attainment"] = Typed("null", None)
    columns: dict[str, Any] = {f"c{index}_gross_d": force_cast(ops.lit(ONE), ops.work)}
    _adjust(index, component, plan, gross, env, ops, columns)
    table = table.mutate(**columns)
    lines = table.select("participant_id", "sub", line_amount=table[f"c{index}_amount"],
                         **_pre_columns(index, plan, table))
    weighted = qualifying.join(lines, ["participant_id", "sub"])
    return table, weighted


def _deltas(index: int, component: ComponentBase, plan: Plan, table: Any, credits: Any, subs: Sequence[Period],
            sources: Sources, ops: Exact) -> Any:
    """Per-deal attribution by the delta method: pay(running value) - pay(running value - this deal)."""
    metric = plan.metric(component.metric)
    assert metric is not None
    dated = credits.mutate(sub=label_of(credits.credit_date, subs))
    dated = dated.filter(dated.sub.notnull() & counted(metric, dated, sources.field_names, ops))
    dated = dated.mutate(_x=ops.cast(credit_amount(metric, dated, ops).num))
    order = [dated.credit_date, dated.deal_id, dated.seq]
    running = ibis.window(group_by=["participant_id", "sub"], order_by=order, preceding=None, following=0)
    dated = dated.mutate(_cum=force_cast(dated._x.sum().over(running), ops.work))
    lines = table.select("participant_id", "sub", line_amount=table[f"c{index}_amount"],
                         _skip=table[f"c{index}_missing_quota"], **_quota_columns(component, table),
                         **_pre_columns(index, plan, table))
    joined = dated.join(lines, ["participant_id", "sub"]).filter(lambda t: ~t._skip)
    quota = _fixed_quota(component.quota, ops) if component.quota is not None else Frac(joined._qn, joined._qd)
    mechanic = mechanic_for(component)
    assert mechanic.vectorize is not None
    ops.begin(joined)
    now = mechanic.vectorize(component, VecFigures(Frac(joined._cum), quota, component.target_incentive), ops)
    before = mechanic.vectorize(component, VecFigures(Frac(force_cast(joined._cum - joined._x, ops.work)), quota,
                                                      component.target_incentive), ops)
    delta = ops.sub(now, before)
    ops.set(_w=delta.num)
    return ops.end()


def _pre_columns(index: int, plan: Plan, table: Any) -> dict[str, Any]:
    if plan.rounding.point is not RoundingPoint.DEAL:
        return {}
    return {"_pre_n": table[f"c{index}_pre_n"], "_pre_d": table[f"c{index}_pre_d"]}


def _settle(index: int, table: Any, weighted: Any, weight: str, plan: Plan, ops: Exact,
            attribution: bool) -> tuple[Any, Any]:
    """Deal amounts for one component's lines (adjust.finish): the rounded line allocated over
    the deals, or, rounding per deal, each deal's share rounded and the line their sum."""
    if plan.rounding.point is not RoundingPoint.DEAL:
        return table, _attribute(weighted, weight, plan, ops) if attribution else None
    deals = _round_each(weighted, weight, plan, ops)
    sums = deals.group_by(["participant_id", "sub"]).aggregate(_deal_total=deals.deal_amount_paid.sum())
    table = table.left_join(sums, ["participant_id", "sub"]).drop("participant_id_right", "sub_right")
    amount = f"c{index}_amount"
    # Deals whose weights sum to zero have no shares: the line is then rounded as a whole.
    table = table.mutate(**{amount: force_cast(ibis.coalesce(table._deal_total, table[amount]),
                                               table[amount].type())}).drop("_deal_total")
    return table, deals if attribution else None


def _round_each(weighted: Any, weight: str, plan: Plan, ops: Exact) -> Any:
    """attribution.round_each per line: amount x weight / sum of weights, rounded on its own
    (null for every deal of a line whose weights sum to zero)."""
    total = force_cast(weighted[weight].sum().over(ibis.window(group_by=["participant_id", "sub"])), ops.work)
    table = weighted.mutate(_wsum=total)
    ops.begin(table)
    part = Frac(ops.mul(table._pre_n, force_cast(table[weight], ops.work)), table._pre_d)
    share = ops.divide(part, Frac(table._wsum))
    ops.set(deal_amount_paid=ops.round(share, minor_unit(plan.currency), plan.rounding.mode))
    table = ops.end()
    return table.mutate(weight=table[weight])


def _quota_columns(component: ComponentBase, table: Any) -> dict[str, Any]:
    if component.quota is not None:
        return {}
    key = component.quota_key
    return {"_qn": table[f"q_{key}_quota_n"], "_qd": table[f"q_{key}_quota_d"]}


def _attribute(weighted: Any, weight: str, plan: Plan, ops: Exact) -> Any:
    """attribution.attribute per line: allocate the rounded amount by the weights, exactly."""
    quantum = minor_unit(plan.currency)
    allocated = allocate_columns(
        weighted, ops, group=["participant_id", "sub"], order=["credit_date", "deal_id", "seq"], total="line_amount",
        weight=weight, quantum=quantum, out="deal_amount_paid")
    weight_sum = allocated[weight].sum().over(ibis.window(group_by=["participant_id", "sub"]))
    zero_lines = (weight_sum == 0) & (allocated.line_amount == 0)
    return allocated.mutate(
        deal_amount_paid=zero_lines.ifelse(ibis.literal(Decimal(0)).cast(allocated.deal_amount_paid.type()),
                                           allocated.deal_amount_paid),
        weight=allocated[weight])
