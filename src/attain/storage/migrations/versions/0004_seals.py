"""Add the seal chain over every row that carries money or state (storage/seals.py).

Existing rows are sealed at the commit of this migration's transaction, by the engine's
commit hook, so an upgraded store verifies from its first row.

Revision ID: 0004_seals
Revises: 0003_payee_reads
Create Date: 2026-12-08 02:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision = "0004_seals"
down_revision = "0003_payee_reads"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "seals",
        sa.Column("seq", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("table_name", sa.String(64), nullable=False),
        sa.Column("row_key", sa.String(500), nullable=False),
        sa.Column("row_hash", sa.String(64), nullable=False),
        sa.Column("chain_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_seals")),
    )
    op.create_index("ix_seals_table_name", "seals", ["table_name", "seq"])


def downgrade() -> None:
    op.drop_index("ix_seals_table_name", "seals")
    op.drop_table("seals")
