"""Adjustment use cases: add one (amount, reason, author), approve or reject it (never by its author,
compared as a normalised identity); an approved adjustment is posted as an entry in its open period."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal

from attain.app.audit import record_change
from attain.app.runs import ensure_period, ledger_periods, load_plans
from attain.app.workspace import Workspace, utc_now
from attain.core.errors import ConflictError, InputError, NotFoundError
from attain.core.money import MoneyFormatError, check_currency, minor_unit, to_decimal
from attain.core.plan import Plan
from attain.ledger.cycle import require_open
from attain.ledger.entries import Entry, EntryKind
from attain.ledger.identities import normalised_identity, same_person
from attain.ledger.period_order import check_adjustment_period
from attain.storage import ledger as store
from attain.storage.payee_reads import latest_of_participants
from attain.storage.versions import known_import


def add_adjustment(ws: Workspace, *, participant_id: str, period: str, amount: str | Decimal, reason: str,
                   user: str, plan_id: str = "", currency: str | None = None,
                   clock: Callable[[], datetime] = utc_now) -> store.AdjustmentRow:
    """Record a pending adjustment in an open period; it counts only once someone else approves it.

    Everything is checked against the workspace before anything is written: the period (a period
    of its calendar, open in the ledger or a new one neither behind the frontier nor further ahead
    than the period after the current one: ledger/period_order.py), the participant (imported),
    the plan (recorded, when given) and the currency (the plan's when a plan is given, else the
    workspace's or one a plan pays in).
    """
    try:
        value = to_decimal(amount)
    except MoneyFormatError as exc:
        raise InputError(f"adjustment: {exc}") from None
    if not reason.strip():
        raise InputError("an adjustment needs a reason (--reason)")
    if not normalised_identity(user):
        raise InputError("an adjustment needs an author (--user or $ATTAIN_USER)")
    try:
        pay_period = ws.period(period)
    except ValueError as exc:
        raise InputError(f"--period: {exc}") from None
    at = clock()
    with ws.engine.begin() as conn:
        store.lock_ledger(conn)
        upto = known_import(conn, None)
        if not latest_of_participants(conn, "participants", upto, [participant_id]):
            raise NotFoundError(f"--participant {participant_id!r} is not a participant of this workspace "
                                "(import it first: `attain import participants FILE`)")
        plans = {p.id: p for p in load_plans(conn, ws, upto, pay_period.last_day)}
        if plan_id and plan_id not in plans:
            raise NotFoundError(f"--plan {plan_id!r} is not a plan of this workspace "
                                f"(known: {', '.join(sorted(plans)) or 'none'})")
        code = _currency(ws, currency, plans[plan_id] if plan_id else None, plans.values())
        if value % minor_unit(code) != 0:
            raise InputError(f"adjustment: {value} has more decimals than {code} allows")
        row = store.get_period(conn, pay_period.label, lock=True)
        if row is None:
            check_adjustment_period(pay_period, ledger_periods(conn, ws), at.date(), ws.settings.calendar)
        row = ensure_period(conn, ws, pay_period, at, user)
        require_open(pay_period.label, row.state)
        adjustment = store.AdjustmentRow(
            id=store.next_adjustment_id(conn), participant_id=participant_id, period=pay_period.label,
            plan_id=plan_id, currency=code, amount=value, reason=reason.strip(), author=user, created_at=at,
            status="pending", decided_by=None, decided_at=None, decision_note=None,
        )
        store.insert_adjustment(conn, adjustment)
        record_change(conn, at=at, actor=user, action="adjustment.add", subject=f"adjustment {adjustment.id}",
                      before=None, after=adjustment.as_record())
    return adjustment


def _currency(ws: Workspace, given: str | None, plan: Plan | None, plans: Iterable[Plan]) -> str:
    """The adjustment's currency: the plan's (when a plan is named), else the workspace's or a plan's."""
    try:
        code = check_currency(given or (plan.currency if plan else ws.settings.currency))
    except MoneyFormatError as exc:
        raise InputError(f"adjustment: {exc}") from None
    if plan is not None and code != plan.currency:
        raise InputError(f"--currency {code}: plan {plan.id} pays in {plan.currency}")
    allowed = {ws.settings.currency, *(p.currency for p in plans)}
    if code not in allowed:
        raise InputError(f"--currency {code} is not a currency of this workspace (known: {', '.join(sorted(allowed))})")
    return code


def decide_adjustment(ws: Workspace, adjustment_id: str, *, approve: bool, user: str, note: str = "",
                      clock: Callable[[], datetime] = utc_now) -> tuple[store.AdjustmentRow, Entry | None]:
    """Approve (posting the entry) or reject a pending adjustment. The author may do neither."""
    at = clock()
    with ws.engine.begin() as conn:
        # The lock first: the adjustment and its period's state are read inside the write transaction,
        # so a concurrent publish or close either comes first (and the approval is refused) or waits.
        store.lock_ledger(conn)
        adjustment = store.get_adjustment(conn, adjustment_id)
        if adjustment is None:
            raise NotFoundError(f"no adjustment {adjustment_id}")
        if adjustment.status != "pending":
            raise ConflictError(f"adjustment {adjustment_id} is already {adjustment.status} "
                                f"(by {adjustment.decided_by})")
        if not normalised_identity(user):
            raise InputError("deciding an adjustment needs a user (--user or $ATTAIN_USER)")
        if same_person(adjustment.author, user):
            verb = "approve" if approve else "reject"
            raise ConflictError(f"{user} wrote adjustment {adjustment_id} and cannot {verb} it: "
                                "the approver must be someone other than the author")
        row = store.get_period(conn, adjustment.period, lock=True)
        assert row is not None
        entry = None
        if approve:
            require_open(adjustment.period, row.state)
            entry = Entry(
                key="/".join((adjustment.period, adjustment.participant_id, adjustment.plan_id or "-",
                              "adjustment", adjustment.period, EntryKind.ADJUSTMENT.value, adjustment.id)),
                period=adjustment.period, origin=adjustment.period, participant_id=adjustment.participant_id,
                plan_id=adjustment.plan_id, component_id="adjustment", kind=EntryKind.ADJUSTMENT,
                currency=adjustment.currency, amount=adjustment.amount, ref=adjustment.id,
                pay_item=EntryKind.ADJUSTMENT.pay_item,
                explanation=f"adjustment {adjustment.id}: {adjustment.reason} (by {adjustment.author}, "
                            f"approved by {user})",
            )
            store.append_entries(conn, [entry], None, at)
        status = "approved" if approve else "rejected"
        store.decide_adjustment(conn, adjustment_id, status, user, at, note or None)
        after = store.get_adjustment(conn, adjustment_id)
        assert after is not None
        record_change(conn, at=at, actor=user, action="adjustment.approve" if approve else "adjustment.reject",
                      subject=f"adjustment {adjustment_id}", before=adjustment.as_record(), after=after.as_record())
    return after, entry


def list_adjustments(ws: Workspace, period: str | None = None) -> list[store.AdjustmentRow]:
    with ws.engine.connect() as conn:
        return store.list_adjustments(conn, ws.period(period).label if period else None)
