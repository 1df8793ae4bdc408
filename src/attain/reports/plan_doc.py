"""The one-page plan document: a plan file rendered as plain-language clauses, worked numbers and the step graph.

Sits beside the plan loader (formats.plan_file): it reads a validated Plan and writes one
self-contained HTML page (inline CSS and SVG). Rules come from each mechanic's `describe`; worked
numbers and the curve come from each mechanic's `pay` on example figures, which is the plan's own
definition; the plan's worked examples are shown as the plan states them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from markupsafe import Markup

from attain.core.expressions import to_text
from attain.core.money import ONE, format_ratio, round_money
from attain.core.plan import (
    Aggregate,
    ComponentBase,
    CreditingRules,
    MetricDef,
    PaymentTiming,
    Plan,
    Pool,
    Spiff,
)
from attain.core.records import DateBasis
from attain.engine.mechanics import mechanic_for
from attain.formats.plan_file import LoadedPlan
from attain.reports.charts import ChartBasis, chart_basis, combined_curve_svg, has_curve, pay_at
from attain.reports.explain_text import Table, money, number, percent
from attain.reports.statement_html import environment

WORKED_ATTAINMENTS = (Decimal("0.9"), Decimal("0.98"), ONE, Decimal("1.2"))

DATE_BASIS_TEXT = {
    DateBasis.BOOKED: "the date the deal was booked",
    DateBasis.SIGNED: "the date the contract was signed",
    DateBasis.INVOICED: "the date the deal was invoiced",
    DateBasis.RECOGNIZED: "the date its revenue is recognized",
}

PAYMENT_TEXT = {
    PaymentTiming.MONTHLY: "Earnings are paid monthly, with the payroll after each month closes.",
    PaymentTiming.PERIOD_END: "Earnings are paid after the end of each component's period.",
    PaymentTiming.CAMPAIGN_END: "Earnings are paid once the campaign has ended.",
    PaymentTiming.AFTER_RECONCILIATION: "Earnings are paid after the period is reconciled.",
}

KIND_TEXT = {
    "milestone": "milestone bonus", "stepped": "stepped bonus", "flat_rate": "flat-rate commission",
    "rate_above": "rate above a threshold", "marginal_tiers": "tiered commission, marginal",
    "retroactive_tiers": "tiered commission, retroactive", "accelerator": "accelerator",
    "spiff": "SPIFF", "pool": "team pool",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ComponentDoc:
    """One component in words: its mechanic, what it is measured on, its rules and its limits."""

    id: str
    label: str
    kind: str
    facts: tuple[tuple[str, str], ...]
    rules: tuple[str, ...]
    conditions: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class CurveDoc:
    """A step graph for the components on one metric and period, and its worked numbers."""

    title: str
    svg: Markup
    caption: str
    worked: Table


def render_plan_doc_html(loaded_or_plan: LoadedPlan | Plan) -> str:
    """The plan's one-page document as self-contained HTML."""
    if isinstance(loaded_or_plan, LoadedPlan):
        plan, source = loaded_or_plan.plan, loaded_or_plan.path
    else:
        plan, source = loaded_or_plan, loaded_or_plan.source
    template = environment().get_template("plan_doc.html.j2")
    return template.render(
        plan=plan,
        source=source.replace("\\", "/").rsplit("/", 1)[-1] if source else "",
        facts=_plan_facts(plan),
        glance=_glance(plan),
        metrics=[_metric_sentence(m, plan) for m in plan.metrics],
        crediting=_crediting(plan.crediting),
        components=[_component_doc(c, plan) for c in plan.components],
        curves=_curves(plan),
        examples=_examples(plan),
        limits=_plan_limits(plan),
        clauses=[(key.replace("_", " ").capitalize(), text) for key, text in plan.clauses],
    )


def _plan_facts(plan: Plan) -> list[tuple[str, str]]:
    facts = [("Plan", f"{plan.id}, version {plan.version}"), ("Currency", plan.currency)]
    if plan.effective_from or plan.effective_to:
        facts.append(("In effect", f"{plan.effective_from or 'open'} to {plan.effective_to or 'open'}"))
    who = plan.assignment
    covered = [
        *(f"role {r}" for r in who.roles), *(f"team {t}" for t in who.teams), *(f"{p}" for p in who.participants)
    ]
    facts.append(("Applies to", ", ".join(covered) if covered else "everyone in the data"))
    targets = [c.target_incentive for c in plan.components if c.target_incentive is not None]
    if targets:
        facts.append(("Target incentive", money(sum(targets, Decimal(0)), plan.currency)
                      + (" in total" if len(targets) > 1 else "")))
    return facts


def _glance(plan: Plan) -> Table:
    rows = []
    for c in plan.components:
        kind = mechanic_for(c).kind
        rows.append((
            c.label or c.id, KIND_TEXT.get(kind, kind),
            "qualifying deals" if isinstance(c, Spiff) else f"team {c.metric}" if isinstance(c, Pool) else c.metric,
            c.period.value, money(c.target_incentive, plan.currency, code=False) if c.target_incentive else "",
            _limit_text(c, plan),
        ))
    return Table(headers=("Component", "Mechanic", "Measured on", "Period", f"Target ({plan.currency})", "Limits"),
                 rows=tuple(rows), numeric=(False, False, False, False, True, False))


def _limit_text(component: ComponentBase, plan: Plan) -> str:
    parts = []
    if component.cap is not None:
        parts.append(f"cap {_resolved(component.cap.describe(), component, plan, component.cap)}")
    if component.floor is not None:
        parts.append(f"floor {_resolved(component.floor.describe(), component, plan, component.floor)}")
    return "; ".join(parts)


def _resolved(text: str, component: ComponentBase, plan: Plan, limit: object) -> str:
    multiple = getattr(limit, "multiple_of_target", None)
    if multiple is not None and component.target_incentive is not None:
        return f"{text} ({money(multiple * component.target_incentive, plan.currency)})"
    return text if multiple is not None else f"{text} {plan.currency}"


def _metric_sentence(metric: MetricDef, plan: Plan) -> tuple[str, str]:
    what = {
        Aggregate.SUM: f"the sum of {'credited amounts' if metric.field == 'amount' else metric.field} "
                       f"over the payee's credited deals",
        Aggregate.COUNT: "the number of the payee's credited deals",
        Aggregate.AVERAGE: f"the average of the observed {metric.observed or metric.name} over the period",
        Aggregate.LATEST: f"the latest observed {metric.observed or metric.name} in the period",
        Aggregate.TOTAL: f"the total of the observed {metric.observed or metric.name} over the period",
        Aggregate.RATIO: f"{metric.numerator} divided by {metric.denominator}",
    }[metric.aggregate]
    if metric.filter is not None:
        what += f", counting only deals where {to_text(metric.filter)}"
    if metric.aggregate is Aggregate.SUM and metric.field == "amount":
        what += f" (in {plan.currency})"
    name = metric.name + (f" ({metric.label})" if metric.label else "")
    return name, what[:1].upper() + what[1:] + "."


def _crediting(rules: CreditingRules) -> list[str]:
    lines = [
        f"A deal counts in the period of {DATE_BASIS_TEXT[rules.date_basis]}; only won deals earn credit.",
        "A deal shared by several people is credited by its split percentages, which add up to 100%.",
    ]
    if rules.overlay_roles:
        lines.append(f"Overlay roles ({', '.join(rules.overlay_roles)}) receive full credit beside the owner.")
    if rules.rollup:
        lines.append("Managers receive roll-up credit for their team's deals through the hierarchy.")
    lines.append("A partially delivered deal is credited pro rata to what was delivered." if rules.pro_rata_delivery
                 else "A deal is credited in full once it is won, whatever share has been delivered.")
    clawback = ("A cancelled deal reverses its credit; pay already made on it is clawed back"
                + (f" if it is cancelled within {rules.clawback_days} days." if rules.clawback_days is not None
                   else "."))
    lines.append(clawback)
    lines.append("Data that arrives after a period is closed is restated as an adjustment in the next open period; "
                 "a paid statement is never rewritten.")
    return lines


def _component_doc(component: ComponentBase, plan: Plan) -> ComponentDoc:
    kind = mechanic_for(component).kind
    measured = "qualifying deals" if isinstance(component, Spiff) else (
        f"the team's {component.metric}" if isinstance(component, Pool) else component.metric)
    facts = [("Measured", f"{measured}, per {component.period.value}")]
    if component.quota is not None:
        facts.append(("Quota", f"{component.quota:,} (fixed in the plan)"))
    elif has_curve(component) and not isinstance(component, Pool):
        facts.append(("Quota", f"the payee's {component.quota_key} quota for the {component.period.value}"))
    if component.target_incentive is not None:
        facts.append(("Target incentive", money(component.target_incentive, plan.currency)))
    conditions = [f"Pays only if {g.text}" + (f" ({g.label})." if g.label else ".") for g in component.gates]
    for r in component.reductions:
        effect = "the payout is eliminated" if r.eliminates else f"the payout is cut by {percent(r.reduce_by)}"
        conditions.append(f"If {r.text}, {effect}" + (f" ({r.label})." if r.label else "."))
    if component.cap is not None:
        conditions.append(f"Capped at {_resolved(component.cap.describe(), component, plan, component.cap)}.")
    if component.floor is not None:
        conditions.append(f"Never less than {_resolved(component.floor.describe(), component, plan, component.floor)}"
                          " (unless a gate fails).")
    rules = mechanic_for(component).describe(component, plan.currency)
    if isinstance(component, Pool) and component.funding is not None:
        funding = mechanic_for(component.funding).describe(component.funding, plan.currency)
        rules = [*rules[:1], *(f"Pool funding: {r[:1].lower()}{r[1:]}" for r in funding), *rules[1:]]
    return ComponentDoc(
        id=component.id, label=component.label or component.id, kind=KIND_TEXT.get(kind, kind),
        facts=tuple(facts), rules=tuple(rules),
        conditions=tuple(conditions),
    )


def _curves(plan: Plan) -> list[CurveDoc]:
    """One step graph per metric and period, stacking the components paid on it, with worked numbers."""
    groups: dict[tuple[str, str], list[ComponentBase]] = {}
    for component in plan.components:
        if has_curve(component):
            groups.setdefault((component.metric, component.period.value), []).append(component)
    docs = []
    for (metric, period), members in groups.items():
        basis = chart_basis(plan, members[0])
        docs.append(CurveDoc(
            title=f"{' + '.join(c.label or c.id for c in members)} · {metric} per {period}",
            svg=Markup(combined_curve_svg(plan, members)),
            caption=_curve_caption(plan, members, basis),
            worked=_worked(plan, members, basis),
        ))
    return docs


def _curve_caption(plan: Plan, members: Sequence[ComponentBase], basis: ChartBasis) -> str:
    source = "assumed for illustration" if basis.assumed else "as in the plan's examples or its fixed quota"
    text = f"Drawn for a quota of {number(basis.quota)} ({source})"
    targets = [c.target_incentive for c in members if c.target_incentive is not None]
    if targets:
        text += f" and a target incentive of {money(targets[0], plan.currency)}"
    if any(isinstance(c, Pool) for c in members):
        text += "; a pool's curve is the whole team's pool against the team's attainment"
    return text + ". Gates and reduction terms apply on top of the curve."


def _worked(plan: Plan, members: Sequence[ComponentBase], basis: ChartBasis) -> Table:
    rows = []
    for attainment in WORKED_ATTAINMENTS:
        value = basis.quota * attainment
        amounts = [
            round_money(pay_at(c, value, ChartBasis(quota=basis.quota, target_incentive=c.target_incentive,
                                                   assumed=basis.assumed)), plan.currency, plan.rounding.mode)
            for c in members
        ]
        total = sum(amounts, Decimal(0))
        row = [format_ratio(attainment, 0), number(value),
               *(money(a, plan.currency, code=False) for a in amounts)]
        if len(members) > 1:
            row.append(money(total, plan.currency, code=False))
        rows.append(tuple(row))
    headers = ["Attainment", "Metric value", *(c.label or c.id for c in members)]
    if len(members) > 1:
        headers.append("Total")
    return Table(headers=tuple(headers), rows=tuple(rows), numeric=(False, *([True] * (len(headers) - 1))))


def _examples(plan: Plan) -> Table | None:
    if not plan.examples:
        return None
    component_ids = [c.id for c in plan.components if any(c.id == k for e in plan.examples for k, _ in e.expect)]
    labels = {c.id: c.label or c.id for c in plan.components}
    rows = []
    for example in plan.examples:
        given = [f"quota {k} {number(v)}" for k, v in example.quotas]
        given += [f"{k} {number(v)}" for k, v in example.values]
        given += [f"deal {d.id} {number(d.amount)} on {d.on}" for d in example.deals]
        expect = dict(example.expect)
        rows.append((example.name, "; ".join(given),
                     *(money(expect[c], plan.currency, code=False) if c in expect else "" for c in component_ids)))
    return Table(headers=("Example", "Given", *(labels[c] for c in component_ids)), rows=tuple(rows),
                 numeric=(False, False, *([True] * len(component_ids))))


def _plan_limits(plan: Plan) -> list[str]:
    lines = []
    if plan.cap is not None:
        lines.append(f"The total of all components is capped at {plan.cap.describe()}"
                     f"{'' if plan.cap.amount is None else ' ' + plan.currency}.")
    if plan.floor is not None:
        lines.append(f"The total of all components is never less than {plan.floor.describe()}"
                     f"{'' if plan.floor.amount is None else ' ' + plan.currency}; "
                     "a top-up line makes up the difference.")
    if plan.draw is not None:
        draw = plan.draw
        kind = ("a recoverable draw: it is paid back from later earnings"
                + ("" if draw.recovery_share == ONE else f", {percent(draw.recovery_share)} of each payout"))
        lines.append(f"A draw of {money(draw.amount, plan.currency)} a month for {draw.months} month(s), "
                     f"{kind if draw.recoverable else 'non-recoverable: it is never paid back'}.")
    lines.append(PAYMENT_TEXT[plan.payment])
    lines.append(f"Each line is rounded {plan.rounding.mode.value.replace('_', ' ')} to the currency's minor unit "
                 f"once per {plan.rounding.point.value}; totals are sums of rounded lines.")
    return lines
