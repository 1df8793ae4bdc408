"""Compile a plan to Ibis: one wide table per period kind, one set of columns per component.

A row is a payee in a sub-period (a monthly component has three per quarter). For every
component of that kind the row carries its figures, its gross pay (the mechanic's own
`vectorize`), each reduction and gate, its limits and the rounded amount; deal attribution is a
second table over the credits (the delta method as a running sum). Whatever the executor cannot
express is refused with UnsupportedError while compiling, before any query runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import ibis

from attain.core.errors import UnsupportedError
from attain.core.expressions import names
from attain.core.money import ONE, ZERO, RoundingPoint, minor_unit
from attain.core.periods import CALENDAR, FiscalCalendar, Period, PeriodKind, periods_within
from attain.core.plan import Accelerator, Aggregate, Basis, ComponentBase, MarginalTiers, Plan, Pool, Spiff
from attain.engine.mechanics import mechanic_for
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
from attain.engine.vectorized.sources import Sources


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


def refuse_unsupported(plan: Plan) -> None:
    """Raise UnsupportedError for anything this executor cannot compute exactly."""
    if plan.rounding.point is RoundingPoint.DEAL:
        raise UnsupportedError("the vectorized executor rounds once per line; this plan rounds per deal "
                               "(use the reference executor)")
    for component in plan.components:
        if isinstance(component, Pool):
            raise UnsupportedError(f"component {component.id!r}: team pools are not compiled by the vectorized "
                                   "executor yet (use the reference executor)")
        if isinstance(component, Spiff):
            continue
        mechanic = mechanic_for(component)
        if mechanic.vectorize is None:
            raise UnsupportedError(f"component {component.id!r}: the {mechanic.kind} mechanic has no vectorized form")


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
    grid = grid.filter((grid.start_date.isnull() | (grid.start_date < grid.sub_end))
                       & (grid.end_date.isnull() | (grid.end_date >= grid.sub_start))).drop("start_date", "end_date")
    wanted: set[str] = set()
    env_names: set[str] = set()
    quota_keys: set[str] = set()
    for _, component in components:
        if not isinstance(component, Spiff):
            wanted |= _metric_names(plan, component.metric)
            if component.quota is None:
                quota_keys.add(component.quota_key)
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
        table = table.mutate(**{f"m_{n}": table[f"m_{n}"].fill_null(ops.lit(ZERO)).cast(ops.work)
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
    plan_kind = KindPlan(kind=kind, subs=tuple(subs), table=table, components=components,
                         env_names=tuple(sorted(env_names - extras)))
    for index, component in components:
        if isinstance(component, Spiff):
            base_env = {name: Typed("num", _metric(plan, name, table, ops)) for name in plan_kind.env_names}
            table, plan_kind.attributions[index] = _spiff(index, component, table, credits, sources, ops, plan,
                                                          base_env)
    ops.begin(table)
    base_env = {name: Typed("num", _metric(plan, name, table, ops)) for name in plan_kind.env_names}
    for index, component in components:
        if not isinstance(component, Spiff):
            ops.set(**_figure_columns(index, component, plan, table, ops, base_env))
    table = ops.end()
    plan_kind.table = table
    if attribution:
        for index, component in components:
            metric = plan.metric(component.metric)
            if isinstance(component, Spiff) or metric is None or not metric.uses_credits:
                continue
            plan_kind.attributions[index] = _deltas(index, component, plan, table, credits, subs, sources, ops)
    return plan_kind


def _metric(plan: Plan, name: str, table: Any, ops: Exact, depth: int = 0) -> Frac:
    metric = plan.metric(name)
    if metric is not None and metric.uses_credits:
        return Frac(table[f"m_{name}"])
    if metric is not None and metric.aggregate is Aggregate.RATIO:
        numerator = _metric(plan, metric.numerator or "", table, ops, depth + 1)
        denominator = _metric(plan, metric.denominator or "", table, ops, depth + 1)
        return ops.divide(numerator, denominator)
    return Frac(table[f"o_{name}_n"], table[f"o_{name}_d"])


def _quota(component: ComponentBase, table: Any, ops: Exact) -> Frac:
    if component.quota is not None:
        return ops.const(component.quota)
    key = component.quota_key
    return Frac(table[f"q_{key}_quota_n"], table[f"q_{key}_quota_d"])


def _adjust(index: int, component: ComponentBase, plan: Plan, gross: Frac, env: dict[str, Typed], ops: Exact,
            columns: dict[str, Any]) -> None:
    """Reductions, then cap and floor, then gates; round once (adjust.finish)."""
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
    env = dict(base_env)
    env["value"] = Typed("num", safe_value)
    env["quota"] = Typed("num", quota)
    env["attainment"] = Typed("num", ops.divide(safe_value, quota))
    _adjust(index, component, plan, gross, env, ops, columns)
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
           f"c{index}_value_n": force_cast(qualifying.amount.sum(), ops.work),
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
    lines = table.select("participant_id", "sub", line_amount=table[f"c{index}_amount"])
    weighted = qualifying.join(lines, ["participant_id", "sub"])
    return table, _attribute(weighted, "per_deal", plan, ops)


def _deltas(index: int, component: ComponentBase, plan: Plan, table: Any, credits: Any, subs: Sequence[Period],
            sources: Sources, ops: Exact) -> Any:
    """Per-deal attribution by the delta method: pay(running value) - pay(running value - this deal)."""
    metric = plan.metric(component.metric)
    assert metric is not None
    dated = credits.mutate(sub=label_of(credits.credit_date, subs))
    dated = dated.filter(dated.sub.notnull() & counted(metric, dated, sources.field_names, ops))
    dated = dated.mutate(_x=force_cast(credit_amount(metric, dated, ops).num, ops.work))
    order = [dated.credit_date, dated.deal_id, dated.seq]
    running = ibis.window(group_by=["participant_id", "sub"], order_by=order, preceding=None, following=0)
    dated = dated.mutate(_cum=force_cast(dated._x.sum().over(running), ops.work))
    lines = table.select("participant_id", "sub", line_amount=table[f"c{index}_amount"],
                         _skip=table[f"c{index}_missing_quota"], **_quota_columns(component, table))
    joined = dated.join(lines, ["participant_id", "sub"]).filter(lambda t: ~t._skip)
    quota = ops.const(component.quota) if component.quota is not None else Frac(joined._qn, joined._qd)
    mechanic = mechanic_for(component)
    assert mechanic.vectorize is not None
    ops.begin(joined)
    now = mechanic.vectorize(component, VecFigures(Frac(joined._cum), quota, component.target_incentive), ops)
    before = mechanic.vectorize(component, VecFigures(Frac(force_cast(joined._cum - joined._x, ops.work)), quota,
                                                      component.target_incentive), ops)
    delta = ops.sub(now, before)
    ops.set(_w=delta.num)
    weighted = ops.end()
    return _attribute(weighted, "_w", plan, ops)


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
