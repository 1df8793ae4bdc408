"""The pay statement's document model: one payee's ledger entries in one pay period, each explained.

Sits after the ledger: a `ledger.statements.Statement` (the entries posted in the pay period) plus
what the use case gathered around it (the explanation of the calculation line behind each earned
entry, what earlier statements already paid for the same target, draw balances, the authors and
approvers of adjustments) becomes a `PayStatement`. The JSON form is this model; the HTML, PDF
and terminal forms render it. Every amount here is an entry's amount or a sum of entries: nothing
is recomputed, and a line's explanation is the one `attain explain` gives for the same line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from attain.core.money import ZERO
from attain.core.plan import Plan
from attain.ledger.entries import DRAW_KINDS, Entry, EntryKind
from attain.ledger.statements import Statement
from attain.reports.explain_text import LineExplanation, Section, Table, money

Target = tuple[str, str, str, str]

KIND_LABELS = {
    EntryKind.EARNING: "Earning",
    EntryKind.TRUE_UP: "True-up",
    EntryKind.CLAWBACK: "Clawback",
    EntryKind.DRAW_ADVANCE: "Draw advance",
    EntryKind.DRAW_RECOVERY: "Draw recovery",
    EntryKind.SPIFF: "SPIFF",
    EntryKind.ADJUSTMENT: "Adjustment",
    EntryKind.PAYMENT: "Payment",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class AdjustmentFacts:
    """Who wrote and who approved a manual adjustment, and why (from the adjustment's record)."""

    id: str
    reason: str
    author: str
    approver: str
    note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class DrawBalance:
    """A draw's balance: carried in from earlier statements, moved by this one, carried forward."""

    plan_id: str
    currency: str
    recoverable: bool
    before: Decimal
    change: Decimal

    @property
    def after(self) -> Decimal:
        return self.before + self.change


@dataclass(frozen=True, slots=True, kw_only=True)
class StatementLine:
    """One ledger entry on the statement: what it is, what it belongs to, its amount and why."""

    number: int
    key: str
    kind: EntryKind
    label: str
    plan_id: str
    component_id: str
    origin: str
    currency: str
    amount: Decimal
    summary: str
    deals: tuple[tuple[str, date, Decimal], ...]
    sections: tuple[Section, ...]

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]


@dataclass(frozen=True, slots=True, kw_only=True)
class PayStatement:
    """What a payee is paid for a pay period, entry by entry, with the sums a payee can redo by hand."""

    participant_id: str
    name: str
    period: str
    state: str
    plans: tuple[tuple[str, str], ...]
    lines: tuple[StatementLine, ...]
    payments: tuple[StatementLine, ...]
    draws: tuple[DrawBalance, ...] = ()
    runs: tuple[int, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def currencies(self) -> tuple[str, ...]:
        return tuple(sorted({line.currency for line in (*self.lines, *self.payments)}))

    def total(self, currency: str) -> Decimal:
        return sum((line.amount for line in self.lines if line.currency == currency), ZERO)

    def paid(self, currency: str) -> Decimal:
        return sum((line.amount for line in self.payments if line.currency == currency), ZERO)


def build_pay_statement(
    statement: Statement,
    *,
    name: str,
    plans: Mapping[str, Plan],
    explained: Mapping[Target, LineExplanation],
    posted_before: Mapping[Target, Decimal],
    adjustments: Mapping[str, AdjustmentFacts],
    draw_before: Mapping[tuple[str, str], Decimal],
    runs: Sequence[int] = (),
) -> PayStatement:
    """The statement's document: every entry in posting order with its explanation.

    `explained` holds, per target (participant, plan, component, origin), the calculation line the
    entries were posted from; `posted_before` what earlier pay periods posted for that target;
    `draw_before` each (plan, currency) draw balance carried into this period.
    """
    here: dict[Target, Decimal] = {}
    for entry in statement.lines:
        if entry.kind.earned:
            here[entry.target] = here.get(entry.target, ZERO) + entry.amount
    lines = tuple(
        _line(number, entry, plans.get(entry.plan_id), explained, posted_before, here, adjustments)
        for number, entry in enumerate(statement.lines, 1)
    )
    payments = tuple(
        _line(number, entry, plans.get(entry.plan_id), explained, posted_before, here, adjustments)
        for number, entry in enumerate(statement.payments, len(lines) + 1)
    )
    draws = []
    draw_entries = [e for e in statement.lines if e.kind in DRAW_KINDS]
    for (plan_id, currency) in sorted({(e.plan_id, e.currency) for e in draw_entries} | set(draw_before)):
        plan = plans.get(plan_id)
        change = sum((e.amount for e in draw_entries if e.plan_id == plan_id and e.currency == currency), ZERO)
        recoverable = bool(plan and plan.draw and plan.draw.recoverable)
        draws.append(DrawBalance(plan_id=plan_id, currency=currency, recoverable=recoverable,
                                 before=draw_before.get((plan_id, currency), ZERO), change=change))
    plan_names = tuple(sorted({(e.plan_id, plans[e.plan_id].name if e.plan_id in plans else e.plan_id)
                               for e in (*statement.lines, *statement.payments) if e.plan_id}))
    return PayStatement(
        participant_id=statement.participant_id, name=name, period=statement.period, state=statement.state,
        plans=plan_names, lines=lines, payments=payments, draws=tuple(draws), runs=tuple(runs),
    )


def _line(number: int, entry: Entry, plan: Plan | None, explained: Mapping[Target, LineExplanation],
          posted_before: Mapping[Target, Decimal], here: Mapping[Target, Decimal],
          adjustments: Mapping[str, AdjustmentFacts]) -> StatementLine:
    explanation = explained.get(entry.target)
    component = plan.component(entry.component_id) if plan is not None else None
    label = (component.label or component.id) if component is not None else _fallback_label(entry)
    sections: list[Section] = []
    summary = entry.explanation
    if entry.kind.earned:
        sections.append(_ledger_section(entry, explanation, posted_before.get(entry.target, ZERO),
                                        here.get(entry.target, ZERO)))
        if entry.kind is EntryKind.CLAWBACK:
            summary = _clawback_summary(entry)
            sections.append(_deal_section(entry))
        else:
            summary = _earned_summary(entry, explanation, posted_before.get(entry.target, ZERO))
            if explanation is not None:
                sections.extend(explanation.sections)
    elif entry.kind is EntryKind.ADJUSTMENT:
        facts = adjustments.get(entry.ref)
        if facts is not None:
            summary = facts.reason
            sentences = [f"Adjustment {facts.id}: {facts.reason}.",
                         f"Written by {facts.author}; approved by {facts.approver}."]
            if facts.note:
                sentences.append(f"Approver's note: {facts.note}.")
            sections.append(Section(title="Manual adjustment", sentences=tuple(sentences), status="applied",
                                    badge="approved"))
        else:
            sections.append(Section(title="Manual adjustment", sentences=(entry.explanation,)))
    else:
        sections.append(Section(title=KIND_LABELS[entry.kind], sentences=(_sentence(entry.explanation),)))
    if entry.deals and entry.kind is not EntryKind.CLAWBACK and explanation is None:
        sections.append(_deal_section(entry))
    return StatementLine(
        number=number, key=entry.key, kind=entry.kind, label=label, plan_id=entry.plan_id,
        component_id=entry.component_id, origin=entry.origin, currency=entry.currency, amount=entry.amount,
        summary=summary, deals=tuple((d.deal_id, d.credit_date, d.amount) for d in entry.deals),
        sections=tuple(sections),
    )


def _ledger_section(entry: Entry, explanation: LineExplanation | None, before: Decimal, here: Decimal) -> Section:
    """How the entry follows from the calculation: earned to date minus what was already posted."""
    currency = entry.currency
    if entry.kind is EntryKind.CLAWBACK:
        deals = ", ".join(d.deal_id for d in entry.deals) or "a deal"
        return Section(
            title="Why this is taken back",
            sentences=(f"Deal {deals} was cancelled within the plan's clawback window, so what was paid for it "
                       f"on {entry.origin} is taken back: {money(entry.amount, currency)}.",),
            status="applied", badge="clawback",
        )
    rows: list[tuple[str, ...]] = []
    sentences: list[str] = []
    if explanation is not None:
        earned = explanation.line.amount
        rows.append((f"Earned for {entry.origin} to date (the calculation below)", money(earned, currency, code=False)))
    if before:
        rows.append((f"Already paid for {entry.origin} on earlier statements", money(-before, currency, code=False)))
    rows.append((f"Posted for {entry.origin} on this statement (every entry for it)",
                 money(here, currency, code=False)))
    if entry.explanation.startswith("advance"):
        sentences.append(f"An advance: {entry.origin} is still running, so this pays what it has earned so far; "
                         f"the end of {entry.origin} trues it up.")
    elif entry.kind is EntryKind.TRUE_UP:
        sentences.append(f"A true-up for {entry.origin}: what {entry.origin} earned in the end, minus what earlier "
                         "statements already paid for it.")
    elif entry.origin != entry.period:
        sentences.append(f"Earned in {entry.origin}, paid on this statement.")
    if explanation is not None and explanation.line.amount - before != here:
        sentences.append("The calculation as it stands now differs from what was posted: a later run posts the "
                         "difference.")
    return Section(title="From the ledger", sentences=tuple(sentences),
                   table=Table(headers=("", f"Amount ({currency})"), rows=tuple(rows), numeric=(False, True)))


def _deal_section(entry: Entry) -> Section:
    rows = tuple((d.deal_id, d.credit_date.isoformat(), money(d.amount, entry.currency, code=False))
                 for d in entry.deals)
    return Section(title="Deals", table=Table(headers=("Deal", "Credited on", "Amount"), rows=rows,
                                              numeric=(False, False, True)))


def _earned_summary(entry: Entry, explanation: LineExplanation | None, before: Decimal) -> str:
    """The summary phrase of an earning or true-up: what it is for, and the calculation's reason."""
    reason = explanation.reason if explanation is not None else ""
    if entry.kind is EntryKind.TRUE_UP:
        head = f"true-up for {entry.origin}"
        if explanation is not None:
            head += (f": earned {money(explanation.line.amount, entry.currency)}, "
                     f"paid before {money(before, entry.currency)}")
        return head
    if entry.explanation.startswith("advance"):  # posting's words for an origin period still running
        head = f"advance on {entry.origin} to date"
        return f"{head}: {reason}" if reason else head
    return reason or entry.explanation


def _clawback_summary(entry: Entry) -> str:
    deals = ", ".join(d.deal_id for d in entry.deals)
    return f"deal {deals} cancelled: paid for it on {entry.origin}, taken back" if deals else entry.explanation


def _fallback_label(entry: Entry) -> str:
    if entry.kind in (EntryKind.DRAW_ADVANCE, EntryKind.DRAW_RECOVERY):
        return "Draw"
    if entry.kind is EntryKind.ADJUSTMENT:
        return "Adjustment"
    if entry.kind is EntryKind.PAYMENT:
        return "Payment"
    return entry.component_id


def _sentence(text: str) -> str:
    text = text.strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")
