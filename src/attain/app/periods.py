"""Period use cases: publish (after the invariants hold), close (paying what is due), reopen with a
reason; every change of state goes into the audit chain with its before and after."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Connection

from attain.app.audit import record_change
from attain.app.runs import ledger_periods, load_plans, totals_of
from attain.app.workspace import Workspace, utc_now
from attain.core.errors import ConflictError, InputError, NotFoundError
from attain.core.problems import Problem
from attain.ledger.cycle import PeriodAction, PeriodState, transition
from attain.ledger.entries import Entry
from attain.ledger.inputs import fingerprint
from attain.ledger.payments import PlanTiming, post_payments
from attain.ledger.period_order import is_behind
from attain.storage import ledger as store
from attain.storage.snapshot import read_dataset
from attain.storage.versions import known_import


def check_period(conn: Connection, ws: Workspace, label: str) -> list[Problem]:
    """What must hold before a period's statements are published; each failure is a problem.

    A period behind the frontier (a later period holds run entries) can no longer be run, so it
    is not asked to be: changes since its last run are posted by later runs, and the problems
    that count are those of the ledger's latest run, which recalculated it (ledger/period_order.py).
    """
    subject = f"period {label}"
    runs = store.list_runs(conn, label)
    behind = is_behind(ws.period(label), ledger_periods(conn, ws))
    if not runs and not behind:
        return [Problem(code="never_run", subject=subject,
                        message=f"the period was never run: `attain run --period {label}`")]
    latest = runs[-1] if not behind else store.list_runs(conn)[-1]
    problems = [Problem(code="run_problem", subject=f"run {latest.id}", message=text) for text in latest.problems]
    problems += [Problem(code=f"check_failed:{name}", subject=f"run {latest.id}",
                         message=f"invariant check {name} failed: {detail}")
                 for name, _passed, detail in latest.failed_checks]
    for run in runs:
        entries = store.run_entries(conn, run.id)
        if len(entries) != run.entries_posted or totals_of(entries) != run.totals:
            problems.append(Problem(code="run_total_mismatch", subject=f"run {run.id}",
                                    message=f"its entries ({len(entries)}, {_money(totals_of(entries))}) do not "
                                            f"sum to what it recorded ({run.entries_posted}, {_money(run.totals)})"))
    for entry in store.load_entries(conn, period=label):
        if not entry.key.startswith(f"{label}/"):
            problems.append(Problem(code="entry_misplaced", subject=f"entry {entry.key}",
                                    message=f"is filed in {label} but keyed for another period"))
    if behind:
        return problems
    last = runs[-1]
    upto = known_import(conn, None)
    data = read_dataset(conn, upto, None, ws.settings.calendar)
    plans = load_plans(conn, ws, upto, ws.period(label).last_day)
    if fingerprint(data, plans, label, ws.settings.calendar) != last.input_fingerprint:
        problems.append(Problem(code="inputs_changed", subject=subject,
                                message=f"data or plans changed since run {last.id}; run the period again: "
                                        f"`attain run --period {label}`"))
    return problems


def _money(totals: dict[str, Decimal]) -> str:
    return ", ".join(f"{v} {k}" for k, v in sorted(totals.items())) or "0"


@dataclass(frozen=True, slots=True, kw_only=True)
class PeriodChange:
    """A period's state before and after an action, and the payment entries a close posted."""

    period: str
    before: PeriodState
    after: PeriodState
    payments: tuple[Entry, ...] = ()


def _row(conn: Connection, label: str) -> store.PeriodRow:
    store.lock_ledger(conn)
    row = store.get_period(conn, label, lock=True)
    if row is None:
        raise NotFoundError(f"period {label} is not in the ledger; run it first (`attain run --period {label}`)")
    return row


def _change(conn: Connection, row: store.PeriodRow, after: PeriodState, at: datetime, user: str,
            action: PeriodAction, reason: str = "") -> None:
    store.set_period_state(conn, row.label, after, at, user)
    record_change(conn, at=at, actor=user, action=f"period.{action.value}", subject=f"period {row.label}",
                  before={"state": row.state.value}, after={"state": after.value, "reason": reason})


def publish_period(ws: Workspace, label: str, *, user: str, clock: Callable[[], datetime] = utc_now) -> PeriodChange:
    """Publish: statements become visible and final. Refused, changing nothing, if an invariant fails."""
    label = ws.period(label).label
    with ws.engine.begin() as conn:
        row = _row(conn, label)
        after = transition(label, row.state, PeriodAction.PUBLISH)
        problems = check_period(conn, ws, label)
        if problems:
            names = ", ".join(dict.fromkeys(p.code for p in problems))
            raise InputError(f"period {label} cannot be published: {len(problems)} check(s) fail ({names}); "
                             "nothing changed", problems)
        _change(conn, row, after, clock(), user, PeriodAction.PUBLISH)
    return PeriodChange(period=label, before=row.state, after=after)


def close_period(ws: Workspace, label: str, *, user: str, clock: Callable[[], datetime] = utc_now) -> PeriodChange:
    """Close: lock the period and post what is due to payroll. Refused while adjustments await approval."""
    period = ws.period(label)
    at = clock()
    with ws.engine.begin() as conn:
        row = _row(conn, period.label)
        after = transition(period.label, row.state, PeriodAction.CLOSE)
        pending = [a.id for a in store.list_adjustments(conn, period.label) if a.status == "pending"]
        if pending:
            raise ConflictError(f"period {period.label} cannot be closed: adjustment(s) {', '.join(pending)} "
                                "await approval (approve or reject them first); nothing changed")
        plans = load_plans(conn, ws, known_import(conn, None), period.last_day)
        timings = {p.id: PlanTiming(timing=p.payment, campaign_end=p.effective_to) for p in plans}
        payments = post_payments(pay_period=period, posted=store.load_entries(conn), timings=timings,
                                 period_of_label=ws.period)
        store.append_entries(conn, payments, None, at)
        _change(conn, row, after, at, user, PeriodAction.CLOSE)
    return PeriodChange(period=period.label, before=row.state, after=after, payments=payments)


def reopen_period(ws: Workspace, label: str, *, reason: str, user: str,
                  clock: Callable[[], datetime] = utc_now) -> PeriodChange:
    """Reopen a published or closed period; the reason is recorded. Posted entries stay as they are."""
    label = ws.period(label).label
    with ws.engine.begin() as conn:
        row = _row(conn, label)
        after = transition(label, row.state, PeriodAction.REOPEN, reason)
        _change(conn, row, after, clock(), user, PeriodAction.REOPEN, reason.strip())
    return PeriodChange(period=label, before=row.state, after=after)


def list_periods(ws: Workspace) -> list[store.PeriodRow]:
    with ws.engine.connect() as conn:
        return store.list_periods(conn)
