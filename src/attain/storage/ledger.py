"""Reading and appending ledger rows: entries (append-only, keyed), periods, runs, adjustments, audit."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, insert, select, text, update
from sqlalchemy.exc import OperationalError

from attain.core.errors import ConflictError
from attain.core.periods import Period
from attain.ledger.cycle import PeriodState
from attain.ledger.entries import Entry, differing_field, entry_from_record, entry_record
from attain.storage.ledger_tables import (
    audit_log,
    ledger_adjustments,
    ledger_entries,
    ledger_locks,
    ledger_periods,
    ledger_runs,
)

# How long a ledger write waits for another one to finish before it gives up with a clear message.
LOCK_WAIT_SECONDS = 600


def lock_ledger(conn: Connection) -> None:
    """Take the ledger's write lock for the rest of the transaction; the first statement of every
    use case that changes the ledger (a run, an adjustment, publish, close, reopen).

    It updates the one row of `ledger_locks` (created with the schema, so it exists before the
    first run): on PostgreSQL a row lock, on SQLite the database's write lock, taken before
    anything is read, so what follows reads the state the previous holder committed. A second
    writer waits (SQLite's busy timeout, PostgreSQL's lock_timeout) and then goes on, or gives up
    with a ConflictError having written nothing.
    """
    try:
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"SET LOCAL lock_timeout = '{LOCK_WAIT_SECONDS}s'"))
        taken = conn.execute(update(ledger_locks).where(ledger_locks.c.name == "ledger")
                             .values(taken=ledger_locks.c.taken + 1)).rowcount
        if not taken:
            conn.execute(insert(ledger_locks).values(name="ledger", taken=1))
    except OperationalError as exc:
        raise ConflictError("another run, approval, publish or close of this workspace is still writing "
                            f"the ledger ({str(exc.orig).strip().splitlines()[0]}); nothing was changed: "
                            "try again when it has finished") from None


_ENTRY_COLUMNS = ("key", "period", "origin", "participant_id", "plan_id", "component_id", "kind",
                  "currency", "amount", "explanation", "deals", "ref", "pay_item")


def _entry(row: Any) -> Entry:
    record = {name: row[name] for name in _ENTRY_COLUMNS}
    record["amount"] = format(row["amount"], "f")
    record["deals"] = json.loads(row["deals"])
    return entry_from_record(record)


def load_entries(conn: Connection, upto_seq: int | None = None, period: str | None = None) -> list[Entry]:
    """Entries in posting order, up to sequence `upto_seq` and in pay period `period` when given."""
    query = select(ledger_entries).order_by(ledger_entries.c.seq)
    if upto_seq is not None:
        query = query.where(ledger_entries.c.seq <= upto_seq)
    if period is not None:
        query = query.where(ledger_entries.c.period == period)
    return [_entry(r._mapping) for r in conn.execute(query)]


def run_entries(conn: Connection, run_id: int) -> list[Entry]:
    query = select(ledger_entries).where(ledger_entries.c.run_id == run_id).order_by(ledger_entries.c.seq)
    return [_entry(r._mapping) for r in conn.execute(query)]


def head_seq(conn: Connection) -> int:
    return int(conn.execute(select(func.max(ledger_entries.c.seq))).scalar_one_or_none() or 0)


def append_entries(conn: Connection, entries: Sequence[Entry], run_id: int | None, at: datetime) -> int:
    """Append entries; a key already posted with the same content is skipped, with other content
    it is refused naming the field that differs. Returns how many were appended."""
    if not entries:
        return 0
    keys = [e.key for e in entries]
    existing = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        for row in conn.execute(select(ledger_entries).where(ledger_entries.c.key.in_(chunk))):
            existing[row.key] = _entry(row._mapping)
    rows = []
    for entry in entries:
        if entry.key in existing:
            field = differing_field(existing[entry.key], entry)
            if field is not None:
                raise ConflictError(f"entry {entry.key} is already posted with another {field}; "
                                    "posted entries never change")
            continue
        record = entry_record(entry)
        record["amount"] = entry.amount
        record["deals"] = json.dumps(record["deals"], separators=(",", ":"))
        rows.append({**record, "run_id": run_id, "recorded_at": at})
    for start in range(0, len(rows), 1000):
        conn.execute(insert(ledger_entries), rows[start:start + 1000])
    return len(rows)


@dataclass(frozen=True, slots=True, kw_only=True)
class PeriodRow:
    """A pay period the ledger knows and its current state."""

    label: str
    start: date
    end: date
    state: PeriodState
    changed_at: datetime
    changed_by: str


def _period(r: Any) -> PeriodRow:
    return PeriodRow(label=r["label"], start=r["start_date"], end=r["end_date"], state=PeriodState(r["state"]),
                     changed_at=r["changed_at"], changed_by=r["changed_by"])


def get_period(conn: Connection, label: str, lock: bool = False) -> PeriodRow | None:
    query = select(ledger_periods).where(ledger_periods.c.label == label)
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).first()
    return _period(row._mapping) if row else None


def list_periods(conn: Connection) -> list[PeriodRow]:
    rows = conn.execute(select(ledger_periods).order_by(ledger_periods.c.start_date, ledger_periods.c.end_date))
    return [_period(r._mapping) for r in rows]


def add_period(conn: Connection, period: Period, at: datetime, by: str) -> PeriodRow:
    conn.execute(insert(ledger_periods).values(
        label=period.label, kind=period.kind.value, start_date=period.start, end_date=period.end,
        state=PeriodState.OPEN.value, changed_at=at, changed_by=by))
    row = get_period(conn, period.label)
    assert row is not None
    return row


def set_period_state(conn: Connection, label: str, state: PeriodState, at: datetime, by: str) -> None:
    conn.execute(update(ledger_periods).where(ledger_periods.c.label == label)
                 .values(state=state.value, changed_at=at, changed_by=by))


@dataclass(frozen=True, slots=True, kw_only=True)
class RunRow:
    """A recorded run: what was calculated, from which inputs, by whom, and what it posted."""

    id: int
    period: str
    started_at: datetime
    recorded_at: datetime
    user: str
    executor: str
    engine_version: str
    plans: tuple[tuple[str, ...], ...]
    input_fingerprint: str
    upto_import: int
    ledger_head: int
    ledger_start: date | None
    entries_posted: int
    totals: dict[str, Decimal]
    problems: tuple[str, ...]
    result_digest: str
    # The invariant checks the run made: (name, passed, detail); empty for runs before they existed.
    checks: tuple[tuple[str, bool, str], ...] = ()

    @property
    def failed_checks(self) -> tuple[tuple[str, bool, str], ...]:
        return tuple(c for c in self.checks if not c[1])


def _run(r: Any) -> RunRow:
    return RunRow(
        id=int(r["id"]), period=r["period"], started_at=r["started_at"], recorded_at=r["recorded_at"],
        user=r["user_name"], executor=r["executor"], engine_version=r["engine_version"],
        plans=tuple(tuple(p) for p in json.loads(r["plans"])),
        input_fingerprint=r["input_fingerprint"], upto_import=int(r["upto_import"]),
        ledger_head=int(r["ledger_head"]), ledger_start=r["ledger_start"], entries_posted=int(r["entries_posted"]),
        totals={k: Decimal(v) for k, v in json.loads(r["totals"]).items()},
        problems=tuple(json.loads(r["problems"])), result_digest=r["result_digest"],
        checks=tuple((str(n), bool(ok), str(d)) for n, ok, d in json.loads(r["checks"] or "[]")),
    )


def insert_run(conn: Connection, **columns: Any) -> int:
    columns = dict(columns)
    columns["plans"] = json.dumps(columns["plans"], separators=(",", ":"), ensure_ascii=False)
    columns["totals"] = json.dumps({k: format(v, "f") for k, v in sorted(columns["totals"].items())})
    columns["problems"] = json.dumps(list(columns["problems"]), ensure_ascii=False)
    columns["checks"] = json.dumps([list(c) for c in columns.get("checks", ())], ensure_ascii=False)
    result = conn.execute(insert(ledger_runs).values(**columns).returning(ledger_runs.c.id))
    return int(result.scalar_one())


def set_run_checks(conn: Connection, run_id: int, checks: Sequence[tuple[str, bool, str]]) -> None:
    """Record the invariant checks a run made (written once, after its entries, in its transaction)."""
    conn.execute(update(ledger_runs).where(ledger_runs.c.id == run_id)
                 .values(checks=json.dumps([list(c) for c in checks], ensure_ascii=False)))


def get_run(conn: Connection, run_id: int) -> RunRow | None:
    row = conn.execute(select(ledger_runs).where(ledger_runs.c.id == run_id)).first()
    return _run(row._mapping) if row else None


def list_runs(conn: Connection, period: str | None = None) -> list[RunRow]:
    query = select(ledger_runs).order_by(ledger_runs.c.id)
    if period is not None:
        query = query.where(ledger_runs.c.period == period)
    return [_run(r._mapping) for r in conn.execute(query)]


@dataclass(frozen=True, slots=True, kw_only=True)
class AdjustmentRow:
    """A manual adjustment: pending until someone other than its author approves or rejects it."""

    id: str
    participant_id: str
    period: str
    plan_id: str
    currency: str
    amount: Decimal
    reason: str
    author: str
    created_at: datetime
    status: str
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None

    def as_record(self) -> dict[str, str | None]:
        return {"id": self.id, "participant_id": self.participant_id, "period": self.period,
                "plan_id": self.plan_id, "currency": self.currency, "amount": format(self.amount, "f"),
                "reason": self.reason, "author": self.author, "status": self.status,
                "decided_by": self.decided_by, "decision_note": self.decision_note}


def _adjustment(r: Any) -> AdjustmentRow:
    return AdjustmentRow(**{name: r[name] for name in AdjustmentRow.__dataclass_fields__})


def next_adjustment_id(conn: Connection) -> str:
    count = int(conn.execute(select(func.count()).select_from(ledger_adjustments)).scalar_one())
    return f"ADJ-{count + 1:05d}"


def insert_adjustment(conn: Connection, adjustment: AdjustmentRow) -> None:
    conn.execute(insert(ledger_adjustments).values(**{
        name: getattr(adjustment, name) for name in AdjustmentRow.__dataclass_fields__}))


def get_adjustment(conn: Connection, adjustment_id: str) -> AdjustmentRow | None:
    row = conn.execute(select(ledger_adjustments).where(ledger_adjustments.c.id == adjustment_id)).first()
    return _adjustment(row._mapping) if row else None


def list_adjustments(conn: Connection, period: str | None = None) -> list[AdjustmentRow]:
    query = select(ledger_adjustments).order_by(ledger_adjustments.c.id)
    if period is not None:
        query = query.where(ledger_adjustments.c.period == period)
    return [_adjustment(r._mapping) for r in conn.execute(query)]


def decide_adjustment(conn: Connection, adjustment_id: str, status: str, by: str, at: datetime,
                      note: str | None) -> None:
    conn.execute(update(ledger_adjustments).where(ledger_adjustments.c.id == adjustment_id)
                 .values(status=status, decided_by=by, decided_at=at, decision_note=note))


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditRow:
    """One link of the audit chain."""

    seq: int
    at: datetime
    actor: str
    action: str
    subject: str
    before: str
    after: str
    prev_hash: str
    hash: str


def audit_rows(conn: Connection) -> list[AuditRow]:
    rows = conn.execute(select(audit_log).order_by(audit_log.c.seq))
    return [AuditRow(**{name: r._mapping[name] for name in AuditRow.__dataclass_fields__}) for r in rows]


def last_audit_hash(conn: Connection) -> str:
    row = conn.execute(select(audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(1)).first()
    return row[0] if row else ""


def append_audit(conn: Connection, *, at: datetime, actor: str, action: str, subject: str, before: str,
                 after: str, prev_hash: str, digest: str) -> None:
    conn.execute(insert(audit_log).values(at=at, actor=actor, action=action, subject=subject, before=before,
                                          after=after, prev_hash=prev_hash, hash=digest))


def periods_with_entries(conn: Connection) -> Iterable[str]:
    return [r[0] for r in conn.execute(select(ledger_entries.c.period).distinct())]


def periods_with_run_entries(conn: Connection) -> set[str]:
    """Pay periods holding entries a run posted (adjustments and payments are not among them)."""
    query = select(ledger_entries.c.period).where(ledger_entries.c.run_id.is_not(None)).distinct()
    return {r[0] for r in conn.execute(query)}


def periods_run(conn: Connection) -> set[str]:
    """Pay periods that were run at least once."""
    return {r[0] for r in conn.execute(select(ledger_runs.c.period).distinct())}
