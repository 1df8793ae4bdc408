"""Adjustment use cases: add one (amount, reason, author), approve or reject it (never by its author);
an approved adjustment is posted as an entry in its open period."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from attain.app.audit import record_change
from attain.app.runs import ensure_period
from attain.app.workspace import Workspace, utc_now
from attain.core.errors import ConflictError, InputError, NotFoundError
from attain.core.money import MoneyFormatError, check_currency, minor_unit, to_decimal
from attain.ledger.cycle import require_open
from attain.ledger.entries import Entry, EntryKind
from attain.storage import ledger as store


def add_adjustment(ws: Workspace, *, participant_id: str, period: str, amount: str | Decimal, reason: str,
                   user: str, plan_id: str = "", currency: str | None = None,
                   clock: Callable[[], datetime] = utc_now) -> store.AdjustmentRow:
    """Record a pending adjustment in an open period; it counts only once someone else approves it."""
    try:
        value = to_decimal(amount)
        code = check_currency(currency or ws.settings.currency)
    except MoneyFormatError as exc:
        raise InputError(f"adjustment: {exc}") from None
    if value % minor_unit(code) != 0:
        raise InputError(f"adjustment: {value} has more decimals than {code} allows")
    if not reason.strip():
        raise InputError("an adjustment needs a reason (--reason)")
    pay_period = ws.period(period)
    at = clock()
    with ws.engine.begin() as conn:
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


def decide_adjustment(ws: Workspace, adjustment_id: str, *, approve: bool, user: str, note: str = "",
                      clock: Callable[[], datetime] = utc_now) -> tuple[store.AdjustmentRow, Entry | None]:
    """Approve (posting the entry) or reject a pending adjustment. The author may do neither."""
    at = clock()
    with ws.engine.begin() as conn:
        adjustment = store.get_adjustment(conn, adjustment_id)
        if adjustment is None:
            raise NotFoundError(f"no adjustment {adjustment_id}")
        if adjustment.status != "pending":
            raise ConflictError(f"adjustment {adjustment_id} is already {adjustment.status} "
                                f"(by {adjustment.decided_by})")
        if adjustment.author == user:
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
