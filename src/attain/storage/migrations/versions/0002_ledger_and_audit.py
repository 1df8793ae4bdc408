"""Add the ledger: pay periods, runs, append-only entries, adjustments, and the audit chain.

Revision ID: 0002_ledger
Revises: 0001
Create Date: 2026-11-21 13:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# Exact decimals: NUMERIC on PostgreSQL, canonical decimal text elsewhere (see schema.ExactDecimal).
EXACT = sa.String(64).with_variant(sa.Numeric(), "postgresql")
ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision = "0002_ledger"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_periods",
        sa.Column("label", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.Column("changed_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("label", name=op.f("pk_ledger_periods")),
    )
    op.create_table(
        "ledger_runs",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("user_name", sa.String(200), nullable=False),
        sa.Column("executor", sa.String(32), nullable=False),
        sa.Column("engine_version", sa.String(32), nullable=False),
        sa.Column("plans", sa.Text(), nullable=False),
        sa.Column("input_fingerprint", sa.String(64), nullable=False),
        sa.Column("upto_import", sa.Integer(), nullable=False),
        sa.Column("ledger_head", sa.Integer(), nullable=False),
        sa.Column("ledger_start", sa.Date(), nullable=True),
        sa.Column("entries_posted", sa.Integer(), nullable=False),
        sa.Column("totals", sa.Text(), nullable=False),
        sa.Column("problems", sa.Text(), nullable=False),
        sa.Column("result_digest", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(["period"], ["ledger_periods.label"],
                                name=op.f("fk_ledger_runs_period_ledger_periods")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_runs")),
    )
    op.create_index("ix_ledger_runs_period", "ledger_runs", ["period"])
    op.create_table(
        "ledger_entries",
        sa.Column("seq", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("key", sa.String(400), nullable=False),
        sa.Column("run_id", ROW_ID, nullable=True),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("participant_id", sa.String(200), nullable=False),
        sa.Column("plan_id", sa.String(200), nullable=False),
        sa.Column("component_id", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount", EXACT, nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("deals", sa.Text(), nullable=False),
        sa.Column("ref", sa.String(200), nullable=False),
        sa.Column("pay_item", sa.String(64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["ledger_runs.id"], name=op.f("fk_ledger_entries_run_id_ledger_runs")),
        sa.ForeignKeyConstraint(["period"], ["ledger_periods.label"],
                                name=op.f("fk_ledger_entries_period_ledger_periods")),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_ledger_entries")),
        sa.UniqueConstraint("key", name=op.f("uq_ledger_entries_key")),
    )
    op.create_index("ix_ledger_entries_period", "ledger_entries", ["period"])
    op.create_index("ix_ledger_entries_participant", "ledger_entries", ["participant_id"])
    op.create_table(
        "ledger_adjustments",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("participant_id", sa.String(200), nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("plan_id", sa.String(200), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount", EXACT, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("decided_by", sa.String(200), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["period"], ["ledger_periods.label"],
                                name=op.f("fk_ledger_adjustments_period_ledger_periods")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_adjustments")),
    )
    op.create_index("ix_ledger_adjustments_period", "ledger_adjustments", ["period"])
    op.create_table(
        "audit_log",
        sa.Column("seq", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(400), nullable=False),
        sa.Column("before", sa.Text(), nullable=False),
        sa.Column("after", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_log")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_log_hash")),
    )


def downgrade() -> None:
    op.drop_table("audit_log")
    op.drop_index("ix_ledger_adjustments_period", "ledger_adjustments")
    op.drop_table("ledger_adjustments")
    op.drop_index("ix_ledger_entries_participant", "ledger_entries")
    op.drop_index("ix_ledger_entries_period", "ledger_entries")
    op.drop_table("ledger_entries")
    op.drop_index("ix_ledger_runs_period", "ledger_runs")
    op.drop_table("ledger_runs")
    op.drop_table("ledger_periods")
