"""From executed tables back to PayoutLine / PayeeResult / CalcResult, with every reason.

Amounts, gross pay, metric values, quotas, gate and reduction outcomes and per-deal
attributions come from the executed queries. The words around them (slice labels, notes,
each gate clause with the values it compared, each deal's crediting reason) are produced by
the reference's own explainers from those numbers, so a statement reads the same whichever
executor produced it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from attain.core.dataset import DataSet
from attain.core.expressions import Clause, evaluate, names
from attain.core.money import CALC_CONTEXT, ONE, ZERO
from attain.core.periods import Period
from attain.core.plan import Aggregate, ComponentBase, Plan, Pool, Spiff, SplitMethod
from attain.core.problems import Problem
from attain.core.records import Credit, CreditRule, DateBasis
from attain.crediting.fx import RateTable
from attain.engine.adjust import apply_limit
from attain.engine.mechanics import mechanic_for, pay_figures
from attain.engine.mechanics.common import NeedsQuota
from attain.engine.reference import apply_plan_limits
from attain.engine.results import (
    CalcResult,
    DealAttribution,
    Figures,
    GateResult,
    MetricReading,
    Outcome,
    PayeeResult,
    PayoutLine,
    PoolShare,
    ReductionResult,
    Slice,
)


def tidy(value: Decimal | None) -> Decimal | None:
    """A decimal from the database without the trailing zeros of its column's scale."""
    if value is None:
        return None
    if value == value.to_integral_value():
        return value.quantize(ONE)
    return value.normalize()


class Originals:
    """The records as given, for the words of a reason (a share written 0.5 reads "50%")."""

    def __init__(self, data: DataSet | None, plan: Plan) -> None:
        self.deals = {d.id: d for d in data.deals} if data else {}
        self.quotas = {(q.participant_id, q.metric, q.period): q.amount for q in data.quotas} if data else {}
        self.rates = RateTable(data.rates) if data else RateTable(())
        shares: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
        for split in data.splits if data else ():
            shares[(split.deal_id, split.participant_id)] += split.share
        self.shares = shares
        self.plan = plan

    def credit(self, row: Mapping[str, Any]) -> Credit:
        deal = self.deals.get(row["deal_id"])
        rule = CreditRule(row["rule"])
        if rule is CreditRule.OVERLAY or (rule is CreditRule.OWNER and (row["deal_id"], row["participant_id"])
                                          not in self.shares):
            share = ONE
        elif rule is CreditRule.ROLLUP:
            below = (row["via"] or "").split(",")
            share = min(sum((self.shares.get((row["deal_id"], p), ONE) for p in below), ZERO), ONE)
        else:
            share = self.shares[(row["deal_id"], row["participant_id"])]
        currency = deal.currency if deal else row["currency"]
        fx = self.rates.rate(currency, self.plan.currency, row["credit_date"]) if deal else tidy(row["fx_rate"])
        return Credit(
            deal_id=row["deal_id"], participant_id=row["participant_id"], amount=row["amount"],
            credit_date=row["credit_date"], rule=rule, share=share, basis=self.plan.crediting.date_basis,
            deal_amount=deal.amount if deal else tidy(row["deal_amount"]) or ZERO, deal_currency=currency,
            fx_rate=fx if fx is not None else ONE, delivered=(deal.delivered if deal and
                                                             self.plan.crediting.pro_rata_delivery else ONE),
            via=row["via"],
        )


def metric_value(plan: Plan, name: str, row: Mapping[str, Any], depth: int = 0) -> Decimal | None:
    """A metric's value from the executed columns, computed as measures.MetricBook does."""
    metric = plan.metric(name)
    if metric is not None and metric.uses_credits:
        return tidy(row[f"m_{name}"])
    if metric is not None and metric.aggregate is Aggregate.RATIO:
        numerator = metric_value(plan, metric.numerator or "", row, depth + 1)
        denominator = metric_value(plan, metric.denominator or "", row, depth + 1)
        if numerator is None or denominator is None or denominator == 0:
            return None
        return CALC_CONTEXT.divide(numerator, denominator)
    n, d = row.get(f"o_{name}_n"), row.get(f"o_{name}_d")
    if n is None:
        return None
    how = metric.aggregate if metric is not None else Aggregate.AVERAGE
    total = tidy(n)
    assert total is not None
    if how is Aggregate.AVERAGE:
        return CALC_CONTEXT.divide(total, Decimal(int(d)) if d is not None and d != 1 else Decimal(1))
    return total


def _fraction(n: Decimal | None, d: Decimal | None) -> Decimal:
    if n is None:
        return ZERO
    if d is None or d == 1:
        return tidy(n) or ZERO
    return CALC_CONTEXT.divide(n, d)


class LineBuilder:
    """Builds one payee's lines from the executed rows, in the reference's order and words."""

    def __init__(self, plan: Plan, period: Period, originals: Originals) -> None:
        self.plan = plan
        self.period = period
        self.originals = originals
        self.problems: list[Problem] = []

    def quota(self, component: ComponentBase, pid: str, sub: Period, row: Mapping[str, Any]
              ) -> tuple[Decimal | None, str]:
        if component.quota is not None:
            return component.quota, "fixed in the plan"
        key = component.quota_key
        case = row.get(f"q_{key}_quota_case")
        if case == "exact":
            original = self.originals.quotas.get((pid, key, sub.label))
            return (original if original is not None else tidy(row[f"q_{key}_quota_n"])), ""
        if case == "sum":
            return tidy(row[f"q_{key}_quota_n"]), f"sum of quotas {row[f'q_{key}_quota_labels']}"
        if case == "share":
            label, months = row[f"q_{key}_cover_label"], int(row[f"q_{key}_cover_months"])
            amount = self.originals.quotas.get((pid, key, label), tidy(row[f"q_{key}_cover_amount"]))
            assert amount is not None
            share = CALC_CONTEXT.divide(Decimal(sub.kind.months), Decimal(months))
            return (CALC_CONTEXT.multiply(amount, share),
                    f"{sub.kind.months}/{months} of the {label} quota {amount:,}")
        return None, "no quota"

    def env(self, component: ComponentBase, row: Mapping[str, Any], extra: Mapping[str, object]) -> dict[str, object]:
        wanted: set[str] = set()
        for condition in (*(g.condition for g in component.gates), *(r.condition for r in component.reductions)):
            wanted |= names(condition)
        env: dict[str, object] = {n: metric_value(self.plan, n, row) for n in wanted - extra.keys()}
        env.update({k: v for k, v in extra.items() if k in wanted})
        return env

    def finish(self, index: int, component: ComponentBase, row: Mapping[str, Any], gross: Decimal,
               env: dict[str, object]) -> tuple[tuple[GateResult, ...], tuple[ReductionResult, ...], tuple[Any, ...]]:
        amount = gross
        reductions = []
        for k, reduction in enumerate(component.reductions):
            trace: list[Clause] = []
            evaluate(reduction.condition, env, trace)
            applies = bool(row[f"c{index}_red{k}"])
            after = CALC_CONTEXT.multiply(amount, ONE - min(reduction.reduce_by, ONE)) if applies else amount
            reductions.append(ReductionResult(text=reduction.text, label=reduction.label, applied=applies,
                                              reduce_by=reduction.reduce_by, before=amount, after=after,
                                              clauses=tuple(trace)))
            amount = after
        limits = []
        for kind, limit in (("cap", component.cap), ("floor", component.floor)):
            amount, result = apply_limit(kind, "component", limit, component.target_incentive, amount)
            if result:
                limits.append(result)
        gates = []
        for k, gate in enumerate(component.gates):
            trace = []
            evaluate(gate.condition, env, trace)
            gates.append(GateResult(text=gate.text, label=gate.label, passed=bool(row[f"c{index}_gate{k}"]),
                                    clauses=tuple(trace)))
        return tuple(gates), tuple(reductions), tuple(limits)

    def deals(self, rows: list[Mapping[str, Any]] | None, amount: Decimal, weighted: bool
              ) -> tuple[tuple[DealAttribution, ...], list[str]]:
        if not rows:
            return (), []
        if any(r["deal_amount_paid"] is None for r in rows):
            return (), ["no single deal moved this payout; it is not attributed to deals"] if weighted else []
        return tuple(
            DealAttribution(deal_id=r["deal_id"], credit_date=r["credit_date"], credit=tidy(r["amount"]) or ZERO,
                            amount=r["deal_amount_paid"], reason=self.originals.credit(r).describe())
            for r in rows
        ), []

    def figure_line(self, index: int, component: ComponentBase, pid: str, sub: Period, row: Mapping[str, Any],
                    deal_rows: list[Mapping[str, Any]] | None) -> PayoutLine:
        plan = self.plan
        mechanic = mechanic_for(component)
        assert mechanic.pay is not None
        value = metric_value(plan, component.metric, row)
        quota, quota_note = self.quota(component, pid, sub, row)
        figures = Figures(value=value if value is not None else ZERO, quota=quota,
                          target_incentive=component.target_incentive)
        notes: list[str] = []
        if value is None:
            notes.append(f"{component.metric} has no value for {sub.label}")
        try:
            outcome = mechanic.pay(component, figures) if value is not None else Outcome(amount=ZERO)
        except NeedsQuota:
            outcome = Outcome(amount=ZERO)
            notes.append(f"no quota for {component.quota_key} in {sub.label}: nothing can be paid on attainment")
            self.problems.append(Problem(
                code="quota_missing", subject=f"participant {pid}",
                message=f"{plan.id}/{component.id}: no quota for {component.quota_key} in {sub.label}"))
        if outcome.note:
            notes.append(outcome.note)
        gross = _fraction(row[f"c{index}_gross_n"], row[f"c{index}_gross_d"])
        extra = {"value": figures.value, "quota": quota, "attainment": figures.attainment}
        gates, reductions, limits = self.finish(index, component, row, gross, self.env(component, row, extra))
        amount = row[f"c{index}_amount"]
        deals, more = self.deals(deal_rows, amount, True)
        from attain.engine.lines import needs_quota as reads_quota

        return PayoutLine(
            participant_id=pid, plan_id=plan.id, plan_version=plan.version, component_id=component.id,
            component_label=component.label, kind=mechanic.kind, period=sub.label, currency=plan.currency,
            amount=amount, gross=gross,
            metric=MetricReading(name=component.metric, value=value, quota=quota, attainment=figures.attainment,
                                 quota_note=quota_note if quota is not None else ""),
            target_incentive=component.target_incentive,
            base_rate=figures.base_rate if reads_quota(component) else None,
            slices=outcome.slices, gates=gates, reductions=reductions, limits=limits, deals=deals,
            notes=(*notes, *more),
        )

    def spiff_line(self, index: int, component: Spiff, pid: str, sub: Period, row: Mapping[str, Any],
                   deal_rows: list[Mapping[str, Any]] | None) -> PayoutLine:
        plan = self.plan
        rows = deal_rows or []
        gross = tidy(row[f"c{index}_gross_n"]) or ZERO
        per_deal = [component.amount_per_deal if component.amount_per_deal is not None
                    else CALC_CONTEXT.multiply(r["amount"], component.rate or ZERO) for r in rows]
        slices = tuple(
            Slice(label=f"deal {r['deal_id']}", lower=None, upper=None,
                  base=None if component.amount_per_deal is not None else tidy(r["amount"]),
                  rate=component.rate, amount=a)
            for r, a in zip(rows, per_deal, strict=True)
        )
        value = tidy(row[f"c{index}_value_n"]) or ZERO
        env = self.env(component, row, {"value": value, "quota": None, "attainment": None})
        gates, reductions, limits = self.finish(index, component, row, gross, env)
        amount = row[f"c{index}_amount"]
        deals, more = self.deals(rows, amount, True)
        return PayoutLine(
            participant_id=pid, plan_id=plan.id, plan_version=plan.version, component_id=component.id,
            component_label=component.label, kind="spiff", period=sub.label, currency=plan.currency,
            amount=amount, gross=gross,
            metric=MetricReading(name="qualifying deals", value=ZERO + len(rows), quota=None, attainment=None),
            target_incentive=component.target_incentive, slices=slices, gates=gates, reductions=reductions,
            limits=limits, deals=deals, notes=(f"{len(rows)} qualifying deal(s) in the window", *more),
        )


    def pool_line(self, index: int, component: Pool, pid: str, sub: Period, row: Mapping[str, Any]) -> PayoutLine:
        """mechanics.pool.evaluate from the executed team and share columns: the team, its members,
        value, quota and pool, and the payee's share of every bucket it is a member of."""
        plan = self.plan
        c = f"c{index}_"
        team = row[c + "team"]
        members = tuple(sorted(row[c + "members"] or ()))
        team_value = tidy(row[c + "team_value"]) or ZERO
        if component.quota is not None:
            team_quota: Decimal | None = component.quota
        else:
            quota_n = row[c + "team_quota"]
            team_quota = None if quota_n is None else CALC_CONTEXT.divide(quota_n, Decimal(12))
        funding = component.funding
        try:
            outcome = pay_figures(funding, Figures(value=team_value, quota=team_quota,
                                                   target_incentive=component.target_incentive)) \
                if funding is not None else Outcome(amount=ZERO)
        except NeedsQuota:
            outcome = Outcome(amount=ZERO, note=f"team {team} has no quota for {component.quota_key}")
        pool_amount = row[c + "pool"]
        own: list[tuple[str, str, Decimal, Decimal, Decimal]] = []
        if row[c + "share0"] is not None:
            own_value = max(metric_value(plan, component.metric, row) or ZERO, ZERO)
            for k, bucket in enumerate(component.buckets):
                if row[f"{c}even{k}"]:
                    method, weight = "equal (no member had any weight)", ONE
                elif bucket.split is SplitMethod.EQUAL:
                    method, weight = bucket.split.value, ONE
                elif bucket.weight_metric is None:
                    method, weight = bucket.split.value, own_value
                else:
                    method = bucket.split.value
                    weight = max(metric_value(plan, bucket.weight_metric, row) or ZERO, ZERO)
                own.append((bucket.id, method, row[f"{c}bucket{k}"], weight, row[f"{c}share{k}"]))
        gross = sum((share[4] for share in own), ZERO)
        attainment = team_value / team_quota if team_quota else None
        extra = {"value": team_value, "quota": team_quota, "attainment": attainment}
        gates, reductions, limits = self.finish(index, component, row, gross, self.env(component, row, extra))
        notes = [f"team {team}: {len(members)} member(s), pool {pool_amount:,} {plan.currency}"]
        if outcome.note:
            notes.append(outcome.note)
        return PayoutLine(
            participant_id=pid, plan_id=plan.id, plan_version=plan.version, component_id=component.id,
            component_label=component.label, kind="pool", period=sub.label, currency=plan.currency,
            amount=row[c + "amount"], gross=gross,
            metric=MetricReading(name=f"team {component.metric}", value=team_value, quota=team_quota,
                                 attainment=attainment),
            target_incentive=component.target_incentive, slices=outcome.slices, gates=gates,
            reductions=reductions, limits=limits, deals=(),
            pool=PoolShare(team=team, members=members, team_value=team_value, team_quota=team_quota,
                           pool_amount=pool_amount, buckets=tuple(own)),
            notes=tuple(notes),
        )


def build_result(plan: Plan, period: Period, payees: list[Mapping[str, Any]],
                 kinds: list[tuple[Any, list[Mapping[str, Any]], dict[int, list[Mapping[str, Any]]]]],
                 originals: Originals, credit_problems: list[Problem],
                 only: Callable[[str], bool] | None = None) -> CalcResult:
    """Assemble the CalcResult: payees by id, components in plan order, sub-periods in order."""
    builder = LineBuilder(plan, period, originals)
    rows_by_kind = {}
    deals_by_kind = {}
    for kind_plan, rows, deal_rows in kinds:
        rows_by_kind[kind_plan.kind] = {(r["participant_id"], r["sub"]): r for r in rows}
        grouped: dict[tuple[int, str, str], list[Mapping[str, Any]]] = defaultdict(list)
        for index, items in deal_rows.items():
            for r in items:
                grouped[(index, r["participant_id"], r["sub"])].append(r)
        deals_by_kind[kind_plan.kind] = (kind_plan, grouped)
    results = []
    for payee in sorted(payees, key=lambda p: p["participant_id"]):
        pid = payee["participant_id"]
        if only is not None and not only(pid):
            continue
        lines: list[PayoutLine] = []
        for index, component in enumerate(plan.components):
            if component.period not in deals_by_kind:
                continue
            kind_plan, grouped = deals_by_kind[component.period]
            mechanic = mechanic_for(component)
            for sub in kind_plan.subs:
                if not mechanic.applies(component, sub):
                    continue
                row = rows_by_kind[component.period].get((pid, sub.label))
                if row is None:
                    continue
                payee_deals = grouped.get((index, pid, sub.label))
                if isinstance(component, Spiff):
                    lines.append(builder.spiff_line(index, component, pid, sub, row, payee_deals))
                elif isinstance(component, Pool):
                    lines.append(builder.pool_line(index, component, pid, sub, row))
                else:
                    lines.append(builder.figure_line(index, component, pid, sub, row, payee_deals))
        lines = apply_plan_limits(plan, pid, period, lines)
        results.append(PayeeResult(
            participant_id=pid, name=payee["name"], role=payee["role"], team=payee["team"], plan_id=plan.id,
            plan_name=plan.name, plan_version=plan.version, period=period.label, currency=plan.currency,
            lines=tuple(lines)))
    return CalcResult(period=period.label, payees=tuple(results), problems=(*credit_problems, *builder.problems))


__all__ = ["DateBasis", "build_result"]
