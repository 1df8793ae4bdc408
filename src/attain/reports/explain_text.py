"""Statement explanations: the words and numbers behind each payout line, and the plain-text statement.

Sits after the engine: it reads a PayeeResult's lines and their reasons (metric reading, slices,
gates, reductions, limits, deals, pool shares, notes) and turns them into sections of sentences
and small tables. The HTML statement renders the same explanations; nothing here recomputes a
payout, every amount shown is a field of a PayoutLine or of one of its reasons.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from attain.core.expressions import Value
from attain.core.money import HUNDRED, MINOR_UNITS, format_ratio
from attain.core.plan import Aggregate, ComponentBase, Plan, Rate
from attain.engine.mechanics import mechanic_for
from attain.engine.results import (
    GateResult,
    LimitResult,
    PayeeResult,
    PayoutLine,
    ReductionResult,
    Slice,
)

WIDTH = 96


@dataclass(frozen=True, slots=True, kw_only=True)
class Table:
    """A small table inside an explanation; `numeric` marks the columns aligned right."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Section:
    """One part of a line's explanation: a title, sentences, an optional table and a status.

    `status` ("pass", "fail", "applied" or "") decides how a renderer highlights the `badge` text.
    """

    title: str
    sentences: tuple[str, ...] = ()
    table: Table | None = None
    status: str = ""
    badge: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class LineExplanation:
    """A payout line explained: a one-phrase reason for the summary and the detailed sections."""

    line: PayoutLine
    component: ComponentBase | None
    reason: str
    sections: tuple[Section, ...]


def money(amount: Decimal | None, currency: str, *, code: bool = True) -> str:
    """An amount for people, at the currency's minor unit (display only, never parsed back)."""
    if amount is None:
        return "none"
    places = MINOR_UNITS.get(currency, 2)
    text = f"{amount:,.{places}f}"
    return f"{text} {currency}" if code else text


def percent(value: Decimal | None, places: int = 4) -> str:
    """A rate or share as a percentage with trailing zeros dropped: 0.05 -> `5%`, 1/36 -> `2.7778%`."""
    if value is None:
        return "none"
    text = f"{value * HUNDRED:,.{places}f}".rstrip("0").rstrip(".")
    return f"{text}%"


def number(value: Value) -> str:
    """A plain value from a metric or a gate clause."""
    if value is None:
        return "no value"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        text = f"{value:,f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return text
    return str(value)


def quantity(value: Decimal | None, component: ComponentBase | None, plan: Plan) -> str:
    """A metric value in its own unit: money for sums of amounts, a count, or a plain number."""
    if value is None:
        return "no value"
    metric = plan.metric(component.metric) if component is not None else None
    if metric is not None and metric.aggregate is Aggregate.SUM and metric.field == "amount":
        return money(value, plan.currency)
    if metric is not None and metric.aggregate is Aggregate.COUNT:
        return f"{number(value)} deal{'' if value == 1 else 's'}"
    return number(value)


def explain_statement(payee: PayeeResult, plan: Plan) -> tuple[LineExplanation, ...]:
    """Every line of the payee's statement, explained."""
    return tuple(explain_line(line, plan) for line in payee.lines)


def explain_line(line: PayoutLine, plan: Plan) -> LineExplanation:
    """One line in words and numbers, in the order the engine applied things: measure, pay,
    reduce, limit, gate, round; then the deals and pool shares the amount came from."""
    component = plan.component(line.component_id)
    sections = [
        _measured(line, component, plan),
        *_rule(component, plan),
        _earned(line, component, plan),
        *(_gate(gate) for gate in line.gates),
        *(_reduction(reduction, line.currency) for reduction in line.reductions),
        *(_limit(limit, line.currency) for limit in line.limits),
    ]
    if line.pool is not None:
        sections.append(_pool(line, plan))
    if line.deals:
        sections.append(_deals(line))
    sections.append(_paid(line, plan))
    return LineExplanation(line=line, component=component, reason=_reason(line), sections=tuple(sections))


def _measured(line: PayoutLine, component: ComponentBase | None, plan: Plan) -> Section:
    reading = line.metric
    metric = plan.metric(component.metric) if component is not None else None
    # The plan's label when it has one: a payee reads "Bookings", not a metric id.
    name = metric.label if metric is not None and metric.label else reading.name
    sentences = [f"{_capital(name)}: {quantity(reading.value, component, plan)}."]
    if reading.quota is not None:
        note = f" ({reading.quota_note})" if reading.quota_note else ""
        sentences.append(f"Quota: {quantity(reading.quota, component, plan)}{note}.")
    if reading.attainment is not None:
        sentences.append(f"Attainment: {number(reading.value)} / {number(reading.quota)} = "
                         f"{format_ratio(reading.attainment)}.")
    if line.target_incentive is not None:
        sentences.append(f"Target incentive: {money(line.target_incentive, line.currency)}.")
    if line.base_rate is not None and _uses_derived_rate(component):
        sentences.append(f"Rate from target: {money(line.target_incentive, line.currency, code=False)} / "
                         f"{number(reading.quota)} = {percent(line.base_rate)} per unit.")
    return Section(title="What was measured", sentences=tuple(sentences))


def _uses_derived_rate(component: ComponentBase | None) -> bool:
    """Whether the component pays at a rate derived from target incentive / quota."""
    rate = getattr(component, "rate", None)
    if isinstance(rate, Rate) and rate.derived:
        return True
    return any(t.rate.derived for t in getattr(component, "tiers", ()))


def _rule(component: ComponentBase | None, plan: Plan) -> list[Section]:
    if component is None:
        return []
    clauses = mechanic_for(component).describe(component, plan.currency)
    return [Section(title="The rule", sentences=tuple(clauses))]


def _earned(line: PayoutLine, component: ComponentBase | None, plan: Plan) -> Section:
    if not line.slices:
        why = _capital(line.notes[0]) if line.notes else "Nothing in this rule was reached"
        return Section(title="What it earned",
                       sentences=(f"{why.rstrip('.')}: earned {money(line.gross, line.currency)}.",),
                       status="fail" if line.gross == 0 else "", badge="nothing earned" if line.gross == 0 else "")
    rows = tuple(
        (s.label, _slice_base(s, component, plan), _slice_rate(s, line), money(s.amount, line.currency, code=False))
        for s in line.slices
    )
    rows = (*rows, ("Earned before adjustments", "", "", money(line.gross, line.currency, code=False)))
    return Section(
        title="What it earned",
        sentences=(f"Earned {money(line.gross, line.currency)} before gates, reductions and limits.",),
        table=Table(headers=("Slice", "Base", "Rate", "Amount"), rows=rows, numeric=(False, True, True, True)),
        status="pass" if line.gross > 0 else "", badge="earned" if line.gross > 0 else "",
    )


def _slice_base(piece: Slice, component: ComponentBase | None, plan: Plan) -> str:
    return "" if piece.base is None else quantity(piece.base, component, plan)


def _slice_rate(piece: Slice, line: PayoutLine) -> str:
    if piece.rate is None:
        return "fixed"
    if piece.base is None:
        return f"{percent(piece.rate)} of target"
    return percent(piece.rate)


def _gate(gate: GateResult) -> Section:
    name = f"{gate.label}: " if gate.label else ""
    verdict = "holds, so the line may pay" if gate.passed else "does not hold, so the line pays nothing"
    rows = tuple(
        (clause.text, number(clause.left), number(clause.right), _truth(clause.result))
        for clause in gate.clauses
    )
    return Section(
        title=f"Gate {name}{gate.text}",
        sentences=(f"The condition {gate.text} {verdict}.",),
        table=Table(headers=("Clause", "Value", "Compared with", "Result"), rows=rows,
                    numeric=(False, True, True, False)) if rows else None,
        status="pass" if gate.passed else "fail", badge="holds" if gate.passed else "does not hold",
    )


def _reduction(reduction: ReductionResult, currency: str) -> Section:
    name = f"{reduction.label}: " if reduction.label else ""
    cut = "eliminates the payout" if reduction.reduce_by >= 1 else f"cuts the payout by {percent(reduction.reduce_by)}"
    if reduction.applied:
        sentence = (f"{reduction.text} holds, which {cut}: {money(reduction.before, currency)} "
                    f"becomes {money(reduction.after, currency)}.")
    else:
        sentence = f"{reduction.text} does not hold, so nothing is cut (the term {cut} when it holds)."
    rows = tuple((c.text, number(c.left), number(c.right), _truth(c.result)) for c in reduction.clauses)
    return Section(
        title=f"Reduction {name}{reduction.text}",
        sentences=(sentence,),
        table=Table(headers=("Clause", "Value", "Compared with", "Result"), rows=rows,
                    numeric=(False, True, True, False)) if rows else None,
        status="applied" if reduction.applied else "pass", badge="applied" if reduction.applied else "not triggered",
    )


def _limit(limit: LimitResult, currency: str) -> Section:
    where = "plan" if limit.scope == "plan" else "component"
    what = money(limit.limit, currency)
    if "target" in limit.description:
        what = f"{limit.description} = {what}"
    if limit.applied:
        sentence = (f"The {where} {limit.kind} ({what}) applied: "
                    f"{money(limit.before, currency)} becomes {money(limit.after, currency)}.")
    elif limit.kind == "cap":
        sentence = f"The {where} cap ({what}) was not reached: {money(limit.before, currency)} stands."
    else:
        sentence = f"The {where} floor ({what}) did not bind: {money(limit.before, currency)} is above it."
    return Section(title=f"{_capital(where)} {limit.kind}", sentences=(sentence,),
                   status="applied" if limit.applied else "", badge="applied" if limit.applied else "not binding")


def _pool(line: PayoutLine, plan: Plan) -> Section:
    pool = line.pool
    assert pool is not None
    currency = line.currency
    quota = f" against a team quota of {number(pool.team_quota)}" if pool.team_quota is not None else ""
    sentences = (
        f"Team {pool.team} ({len(pool.members)} member{'s' if len(pool.members) != 1 else ''}: "
        f"{', '.join(pool.members)}) reached {number(pool.team_value)}{quota}.",
        f"The pool is {money(pool.pool_amount, currency)}; your share of each bucket:",
    )
    rows = tuple(
        (bucket_id, method, money(bucket_amount, currency, code=False), number(weight),
         money(share, currency, code=False))
        for bucket_id, method, bucket_amount, weight, share in pool.buckets
    )
    return Section(title="Team pool", sentences=sentences,
                   table=Table(headers=("Bucket", "Split", "Bucket amount", "Your weight", "Your share"),
                               rows=rows, numeric=(False, False, True, True, True)))


def _deals(line: PayoutLine) -> Section:
    currency = line.currency
    rows = tuple(
        (d.deal_id, d.credit_date.isoformat(), number(d.credit), money(d.amount, currency, code=False),
         d.reason.removeprefix(f"deal {d.deal_id}, "))
        for d in line.deals
    )
    total = sum((d.amount for d in line.deals), Decimal(0))
    rows = (*rows, ("Total", "", "", money(total, currency, code=False), ""))
    if line.amount == 0:
        how = "These deals were credited toward the metric; the line pays nothing, so no deal carries a part of it."
    elif line.kind == "spiff":
        how = "Each qualifying deal earns its own amount; the parts add up to the line."
    else:
        how = ("Each deal's part is what the line pays with the deal minus what it pays without it, "
               "in credit-date order, so the parts add up to the line.")
    return Section(
        title="Deals behind this line",
        sentences=(how,),
        table=Table(headers=("Deal", "Credited on", "Credit", "Part of payout", "Why it counts"), rows=rows,
                    numeric=(False, False, True, True, False)),
    )


def _paid(line: PayoutLine, plan: Plan) -> Section:
    sentences = []
    if line.gated_out:
        sentences.append("A gate did not hold, so this line pays nothing.")
    sentences.append(f"Paid: {money(line.amount, line.currency)} (rounded {plan.rounding.mode.value.replace('_', ' ')} "
                     f"to the currency's minor unit, once per {plan.rounding.point.value}).")
    # Without slices the first note already said why nothing was earned.
    notes = line.notes if line.slices else line.notes[1:]
    sentences.extend(f"Note: {n}." for n in notes if n)
    return Section(title="What is paid", sentences=tuple(sentences))


def _reason(line: PayoutLine) -> str:
    """A short phrase for the summary table: why the line is what it is."""
    failed = [g for g in line.gates if not g.passed]
    if failed:
        return f"gate not met: {failed[0].text}"
    parts = []
    if line.slices:
        labels = [s.label for s in line.slices]
        parts.append(", ".join(labels[:3]) + (f" and {len(labels) - 3} more" if len(labels) > 3 else ""))
    elif line.notes:
        parts.append(line.notes[0])
    parts.extend(f"reduced: {r.text}" for r in line.reductions if r.applied)
    parts.extend(f"{lim.scope} {lim.kind} applied" for lim in line.limits if lim.applied)
    if not parts and line.metric.attainment is not None:
        return f"nothing earned at {format_ratio(line.metric.attainment)} attainment"
    return "; ".join(parts) if parts else "nothing earned"


def _truth(result: bool | None) -> str:
    return {True: "true", False: "false", None: "no value"}[result]


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def render_statement_text(payee: PayeeResult, plan: Plan, *, width: int = WIDTH) -> str:
    """One payee's statement as plain text: a header, a summary of lines, each line explained, the total."""
    explanations = explain_statement(payee, plan)
    currency = payee.currency
    rule = "=" * width
    out = [
        f"Payout statement: {payee.name} ({payee.participant_id})",
        rule,
        f"Payee    {payee.name} ({payee.participant_id}), role {payee.role}" + (
            f", team {payee.team}" if payee.team else ""),
        f"Plan     {payee.plan_name} ({payee.plan_id}, version {payee.plan_version})",
        f"Period   {payee.period}",
        f"Total    {money(payee.total, currency)}",
        "",
        "Summary",
        "-" * width,
    ]
    rows = [(str(i), e.line.component_label, e.line.period, money(e.line.amount, currency), e.reason)
            for i, e in enumerate(explanations, 1)]
    rows.append(("", "Total", "", money(payee.total, currency), ""))
    out.extend(_table_text(("#", "Component", "Period", "Amount", "Why"), rows,
                           (True, False, False, True, False), width, indent=2))
    for index, explanation in enumerate(explanations, 1):
        line = explanation.line
        head = f"{index}. {line.component_label} ({line.kind.replace('_', ' ')}, {line.period})"
        amount = money(line.amount, currency)
        out.extend(["", f"{head} {'.' * max(2, width - len(head) - len(amount) - 2)} {amount}"])
        for section in explanation.sections:
            mark = f" [{section.badge}]" if section.badge else ""
            out.append(f"   {section.title}{mark}")
            for sentence in section.sentences:
                out.extend(textwrap.wrap(sentence, width=width, initial_indent="     ", subsequent_indent="     "))
            if section.table is not None:
                out.extend(_table_text(section.table.headers, section.table.rows, section.table.numeric,
                                       width, indent=5))
    out.extend(["", rule, f"Total for {payee.period}: {money(payee.total, currency)}"])
    return "\n".join(out) + "\n"


def _table_text(headers: tuple[str, ...], rows: Sequence[tuple[str, ...]],
                numeric: tuple[bool, ...], width: int, indent: int) -> list[str]:
    """Columns sized to their content; the last text column is cut to fit the width."""
    widths = [max(len(r[i]) for r in (headers, *rows)) for i in range(len(headers))]
    room = width - indent - sum(widths) - 2 * (len(widths) - 1)
    if room < 0 and not numeric[-1]:
        widths[-1] = max(12, widths[-1] + room)
    lines = []
    for row in (headers, *rows):
        cells = []
        for i, cell in enumerate(row):
            text = cell if len(cell) <= widths[i] else cell[: widths[i] - 1] + "…"
            cells.append(text.rjust(widths[i]) if numeric[i] else text.ljust(widths[i]))
        lines.append((" " * indent + "  ".join(cells)).rstrip())
        if row is headers:
            lines.append(" " * indent + "  ".join("-" * w for w in widths))
    return lines
