"""The ledger's SQL tables: pay periods, runs, append-only entries, adjustments and the audit chain.

They live on the store's one MetaData, so migrations see them; nothing in them is ever updated
except a period's current state and an adjustment's approval, and both are also written to the
hash-chained audit log with their before and after.
"""

from __future__ import annotations

from sqlalchemy import Column, Date, DateTime, ForeignKey, Index, Integer, String, Table, Text

from attain.storage.schema import ExactDecimal, RowId, metadata

ledger_periods = Table(
    "ledger_periods", metadata,
    Column("label", String(16), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("start_date", Date(), nullable=False),
    Column("end_date", Date(), nullable=False),
    Column("state", String(16), nullable=False),
    Column("changed_at", DateTime(), nullable=False),
    Column("changed_by", String(200), nullable=False),
)

ledger_runs = Table(
    "ledger_runs", metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("period", String(16), ForeignKey("ledger_periods.label"), nullable=False),
    Column("started_at", DateTime(), nullable=False),
    Column("recorded_at", DateTime(), nullable=False),
    Column("user_name", String(200), nullable=False),
    Column("executor", String(32), nullable=False),
    Column("engine_version", String(32), nullable=False),
    # JSON: [[plan id, version, content hash, source text], ...] as calculated.
    Column("plans", Text(), nullable=False),
    Column("input_fingerprint", String(64), nullable=False),
    Column("upto_import", Integer, nullable=False),
    Column("ledger_head", Integer, nullable=False),
    Column("ledger_start", Date()),
    Column("entries_posted", Integer, nullable=False),
    # JSON: {currency: total posted} and the data problems the calculation met.
    Column("totals", Text(), nullable=False),
    Column("problems", Text(), nullable=False),
    Column("result_digest", String(64), nullable=False),
    # JSON: [[check name, passed, detail], ...], the invariants the run checked (NULL before 0010).
    Column("checks", Text()),
)
Index("ix_ledger_runs_period", ledger_runs.c.period)

ledger_entries = Table(
    "ledger_entries", metadata,
    Column("seq", RowId, primary_key=True, autoincrement=True),
    Column("key", String(400), nullable=False, unique=True),
    Column("run_id", RowId, ForeignKey("ledger_runs.id")),
    Column("period", String(16), ForeignKey("ledger_periods.label"), nullable=False),
    Column("origin", String(16), nullable=False),
    Column("participant_id", String(200), nullable=False),
    Column("plan_id", String(200), nullable=False),
    Column("component_id", String(200), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount", ExactDecimal(), nullable=False),
    Column("explanation", Text(), nullable=False),
    Column("deals", Text(), nullable=False),
    Column("ref", String(200), nullable=False),
    Column("pay_item", String(64), nullable=False),
    Column("recorded_at", DateTime(), nullable=False),
)
Index("ix_ledger_entries_period", ledger_entries.c.period)
Index("ix_ledger_entries_participant", ledger_entries.c.participant_id)

ledger_adjustments = Table(
    "ledger_adjustments", metadata,
    Column("id", String(32), primary_key=True),
    Column("participant_id", String(200), nullable=False),
    Column("period", String(16), ForeignKey("ledger_periods.label"), nullable=False),
    Column("plan_id", String(200), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount", ExactDecimal(), nullable=False),
    Column("reason", Text(), nullable=False),
    Column("author", String(200), nullable=False),
    Column("created_at", DateTime(), nullable=False),
    # pending -> approved (posted as an entry) or rejected; decided by someone other than the author.
    Column("status", String(16), nullable=False),
    Column("decided_by", String(200)),
    Column("decided_at", DateTime()),
    Column("decision_note", Text()),
)
Index("ix_ledger_adjustments_period", ledger_adjustments.c.period)

# One row, `ledger`, created with the schema: the lock every ledger write takes first (see
# storage/ledger.py `lock_ledger`), so runs, approvals, publish and close never interleave.
ledger_locks = Table(
    "ledger_locks", metadata,
    Column("name", String(32), primary_key=True),
    Column("taken", Integer, nullable=False),
)

audit_log = Table(
    "audit_log", metadata,
    Column("seq", RowId, primary_key=True, autoincrement=True),
    Column("at", DateTime(), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(64), nullable=False),
    Column("subject", String(400), nullable=False),
    Column("before", Text(), nullable=False),
    Column("after", Text(), nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False, unique=True),
)
