"""Statement use cases: pay statements read from the ledger, each entry explained, written in bulk.

A pay statement is the entries posted in a pay period (ledger/statements.py). Around them this
module gathers what a payee needs to check them: the calculation line each earned entry was
posted from (the reference engine over the run's own inputs: the import it read up to, its plan
texts, the data cut off at the pay period's end, exactly as the run calculated), what earlier
statements already paid for the same target, draw balances and who wrote and approved each
adjustment. `reports/` renders the resulting document model as HTML, PDF, JSON or a table.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from attain.app.workspace import Workspace
from attain.core.dataset import DataSet
from attain.core.errors import InputError, NotFoundError
from attain.core.money import ZERO
from attain.core.periods import FiscalCalendar, Period, parse_period, period_of
from attain.core.plan import Plan
from attain.engine.reference import calculate
from attain.engine.results import PayeeResult, PayoutLine
from attain.ledger.entries import DRAW_KINDS, Entry
from attain.ledger.recalculate import calc_kind
from attain.ledger.statements import Statement, build_statement
from attain.reports.explain_text import LineExplanation, explain_line, money
from attain.reports.pay_statement import AdjustmentFacts, PayStatement, Target, build_pay_statement
from attain.storage import ledger as store

FORMATS = ("html", "pdf", "json")


def statement(ws: Workspace, participant_id: str, label: str) -> Statement:
    """The entries of `participant_id` posted in pay period `label` (the ledger's own statement)."""
    label = ws.period(label).label
    with ws.engine.connect() as conn:
        row = store.get_period(conn, label)
        if row is None:
            raise NotFoundError(f"period {label} is not in the ledger: `attain run --period {label}` posts it")
        entries = store.load_entries(conn, period=label)
    return build_statement(entries, participant_id, label, row.state.value)


def pay_statement(ws: Workspace, participant_id: str, label: str) -> PayStatement:
    """One payee's pay statement for pay period `label` (exit 3 when the payee has no entry and is unknown)."""
    found = pay_statements(ws, label, participants=[participant_id])
    return found[0]


def pay_statements(ws: Workspace, label: str, participants: Collection[str] | None = None) -> list[PayStatement]:
    """Pay statements for pay period `label`: every payee with an entry in it, or those named."""
    from attain.app.runs import plans_from_record
    from attain.storage.snapshot import read_dataset

    calendar = ws.settings.calendar
    try:
        period = ws.period(label)
    except ValueError as exc:
        raise InputError(f"--period: {exc}") from None
    with ws.engine.connect() as conn:
        row = store.get_period(conn, period.label)
        if row is None:
            raise NotFoundError(f"period {period.label} is not in the ledger: "
                                f"`attain run --period {period.label}` posts it")
        entries = store.load_entries(conn)
        runs = store.list_runs(conn, period=period.label)
        adjustments = {a.id: a for a in store.list_adjustments(conn, period.label)}
        last = runs[-1] if runs else None
        data = read_dataset(conn, last.upto_import, None, calendar) if last else None
    plans = plans_from_record(last.plans) if last else []
    here = [e for e in entries if e.period == period.label]
    payees = sorted({e.participant_id for e in here})
    if participants is not None:
        unknown = [p for p in participants if p not in payees and (data is None or data.participant(p) is None)]
        if unknown:
            raise NotFoundError(f"participant {unknown[0]!r} is not in the store and has no entry in {period.label}")
        payees = [p for p in dict.fromkeys(participants)]
    wanted = set(payees)
    explained = _explanations([e for e in here if e.participant_id in wanted], plans, data, period, calendar)
    starts = {label_: parse_period(label_, calendar).start for label_ in {e.period for e in entries}}
    before = [e for e in entries if e.participant_id in wanted and starts[e.period] < period.start]
    posted_before: dict[Target, Decimal] = {}
    draw_before: dict[str, dict[tuple[str, str], Decimal]] = {}
    for entry in before:
        if entry.kind.earned:
            posted_before[entry.target] = posted_before.get(entry.target, ZERO) + entry.amount
        elif entry.kind in DRAW_KINDS:
            balances = draw_before.setdefault(entry.participant_id, {})
            where = (entry.plan_id, entry.currency)
            balances[where] = balances.get(where, ZERO) + entry.amount
    by_plan = {p.id: p for p in sorted(plans, key=lambda p: (p.effective_from or date.min, p.version))}
    facts = {a.id: AdjustmentFacts(id=a.id, reason=a.reason, author=a.author, approver=a.decided_by or "",
                                   note=a.decision_note or "")
             for a in adjustments.values() if a.status == "approved"}
    out = []
    for participant_id in payees:
        person = data.participant(participant_id) if data is not None else None
        out.append(build_pay_statement(
            build_statement(here, participant_id, period.label, row.state.value),
            name=person.name if person is not None and person.name else participant_id,
            plans=by_plan, explained=explained, posted_before=posted_before, adjustments=facts,
            draw_before=draw_before.get(participant_id, {}), runs=[r.id for r in runs],
        ))
    return out


def _in_force(versions: Sequence[Plan], measure: Period) -> Plan | None:
    """The version in force for a measurement period, as the run chose it (ledger/recalculate.py)."""
    live = [p for p in versions
            if (p.effective_from is None or p.effective_from <= measure.last_day)
            and (p.effective_to is None or p.effective_to >= measure.start)]
    return max(live, key=lambda p: (p.effective_from or date.min, p.version)) if live else None


def _explanations(entries: Sequence[Entry], plans: Sequence[Plan], data: DataSet | None, pay_period: Period,
                  calendar: FiscalCalendar) -> dict[Target, LineExplanation]:
    """The calculation line behind each earned entry's target, explained as `attain explain` does.

    Each plan is calculated over the measurement period holding the entry's origin, with the data
    cut off at the pay period's last day: the same calculation the run posted from."""
    if data is None:
        return {}
    versions: dict[str, list[Plan]] = {}
    for plan in plans:
        versions.setdefault(plan.id, []).append(plan)
    wanted: dict[tuple[str, str], set[str]] = {}
    for entry in entries:
        if entry.kind.earned and entry.plan_id in versions:
            wanted.setdefault((entry.plan_id, entry.origin), set()).add(entry.participant_id)
    measured: dict[tuple[str, str], tuple[Plan, list[PayoutLine]]] = {}
    out: dict[Target, LineExplanation] = {}
    for (plan_id, origin_label), people in sorted(wanted.items()):
        origin = parse_period(origin_label, calendar)
        measure = period_of(origin.start, calc_kind(versions[plan_id][-1]), calendar)
        plan = _in_force(versions[plan_id], measure)
        if plan is None:
            continue
        key = (plan_id, measure.label)
        if key not in measured:
            everyone = {e.participant_id for e in entries if e.plan_id == plan_id}
            result = calculate(plan, _cut_off(data, plan, pay_period.last_day), measure, calendar, only=everyone)
            measured[key] = (plan, [line for payee in result.payees for line in payee.lines])
        plan, lines = measured[key]
        for line in lines:
            if line.period == origin_label and line.participant_id in people:
                out[(line.participant_id, plan_id, line.component_id, origin_label)] = explain_line(line, plan)
    return out


def _cut_off(data: DataSet, plan: Plan, cutoff: date) -> DataSet:
    """The data as the run saw it at the pay period's end: deals credited later are not earned yet."""
    basis = plan.crediting.date_basis
    return dataclasses.replace(data, deals=tuple(d for d in data.deals if (d.date_for(basis) or cutoff) <= cutoff))


@dataclass(frozen=True, slots=True, kw_only=True)
class WrittenStatements:
    """What `attain statements` wrote: how many statements, the files, and the total per currency."""

    period: str
    count: int
    files: tuple[Path, ...]
    totals: dict[str, Decimal]


def write_statements(ws: Workspace, label: str, output: Path, *, participants: Collection[str] | None = None,
                     formats: Sequence[str] = FORMATS) -> WrittenStatements:
    """Write each payee's pay statement for pay period `label` into `output`, one file per format."""
    from attain.reports.pay_statement_html import render_pay_statement_html
    from attain.reports.pay_statement_json import render_pay_statement_json
    from attain.reports.pay_statement_pdf import render_pay_statement_pdf

    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise InputError(f"--format: unknown format {bad[0]!r} (known: {', '.join(FORMATS)})")
    statements = pay_statements(ws, label, participants)
    output.mkdir(parents=True, exist_ok=True)
    files = []
    totals: dict[str, Decimal] = {}
    for s in statements:
        stem = output / f"statement-{s.period}-{_safe(s.participant_id)}"
        if "html" in formats:
            files.append(stem.with_suffix(".html"))
            files[-1].write_text(render_pay_statement_html(s), encoding="utf-8")
        if "json" in formats:
            files.append(stem.with_suffix(".json"))
            files[-1].write_text(render_pay_statement_json(s), encoding="utf-8")
        if "pdf" in formats:
            files.append(stem.with_suffix(".pdf"))
            files[-1].write_bytes(render_pay_statement_pdf(s))
        for currency in s.currencies:
            totals[currency] = totals.get(currency, ZERO) + s.total(currency)
    period = statements[0].period if statements else label
    return WrittenStatements(period=period, count=len(statements), files=tuple(files), totals=totals)


def _safe(name: str) -> str:
    """A participant id as a file-name part (ids are free text in the data)."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def unposted_differences(ws: Workspace, payee: PayeeResult) -> list[str]:
    """Where a preview (`attain explain`) differs from what the ledger posted for the same lines:
    one sentence per line, e.g. "Commission 2026-03: not yet posted: +1,200.00 USD"; empty when
    the ledger has no entries for the payee's plan yet (nothing is posted, so nothing differs)."""
    with ws.engine.connect() as conn:
        entries = [e for e in store.load_entries(conn) if e.participant_id == payee.participant_id
                   and e.plan_id == payee.plan_id and e.kind.earned]
    if not entries:
        return []
    posted: dict[tuple[str, str], Decimal] = {}
    for entry in entries:
        posted[(entry.component_id, entry.origin)] = posted.get((entry.component_id, entry.origin), ZERO) + entry.amount
    out = []
    for line in payee.lines:
        difference = line.amount - posted.get((line.component_id, line.period), ZERO)
        if difference:
            sign = "+" if difference > 0 else "-"
            out.append(f"{line.component_label} {line.period}: not yet posted: {sign}"
                       f"{money(abs(difference), line.currency)} (previewed {money(line.amount, line.currency)}, "
                       f"posted {money(posted.get((line.component_id, line.period), ZERO), line.currency)})")
    return out
