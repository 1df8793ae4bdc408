"""The ledger's write lock, and the invariant checks each run records.

`ledger_locks` holds one row, `ledger`, that exists before the first run: every use case that
changes the ledger (a run, an adjustment's approval, publish, close, reopen) takes it first in its
transaction (an UPDATE: on PostgreSQL a row lock, on SQLite the database's write lock), so they
run one after the other and each reads the state the previous one committed.

`ledger_runs.checks` is the JSON list of invariant checks a run made ([name, passed, detail]);
`period publish` refuses a period whose last run has a failed check. Runs recorded before this
migration have none (NULL) and are checked as before.

Revision ID: 0010_ledger_locks
Revises: 0004_seals
Create Date: 2026-12-08 01:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_ledger_locks"
down_revision = "0004_seals"
branch_labels = None
depends_on = None


def upgrade() -> None:
    locks = op.create_table(
        "ledger_locks",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("taken", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_ledger_locks")),
    )
    op.bulk_insert(locks, [{"name": "ledger", "taken": 0}])
    with op.batch_alter_table("ledger_runs") as batch:
        batch.add_column(sa.Column("checks", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ledger_runs") as batch:
        batch.drop_column("checks")
    op.drop_table("ledger_locks")
