"""Indexes for reading one payee's records, and the split members of every split version.

A payee's result depends on the deals they own, the deals split to them and (with roll-up
crediting) the deals of everyone below them; on their quotas and metric observations; and on
their org terms. These indexes let `storage/payee_reads.py` find exactly those rows.

A split version keeps a deal's whole split set as one JSON text, which no index can search by
participant. `split_members` holds one row per (split version, participant), written by a
trigger on `split_versions` in the same transaction as the version itself, so every writer (an
import, a bulk load) keeps it without knowing of it; existing versions are filled in here.
A later migration that rebuilds split_versions on SQLite (a batch "move and copy") drops the
trigger with the old table and must create it again.

Revision ID: 0003_payee_reads
Revises: 0002_ledger
Create Date: 2026-11-21 15:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision = "0003_payee_reads"
down_revision = "0002_ledger"
branch_labels = None
depends_on = None

INDEXES = (
    ("deal_versions", "ix_deal_versions_owner_id", "owner_id"),
    ("participant_versions", "ix_participant_versions_participant_id", "participant_id"),
    ("participant_versions", "ix_participant_versions_manager_id", "manager_id"),
    ("participant_versions", "ix_participant_versions_team", "team"),
    ("quota_versions", "ix_quota_versions_participant_id", "participant_id"),
    ("metric_versions", "ix_metric_versions_participant_id", "participant_id"),
)

# The members of one split version: each [participant, share, role] element of its `shares`
# (storage/codecs.py writes them sorted, as JSON), once per participant.
SQLITE_MEMBERS = """
SELECT DISTINCT {row}.id, {row}.import_id, {row}.source, {row}.deal_id, json_extract(member.value, '$[0]')
FROM json_each({row}.shares) AS member
"""
POSTGRES_MEMBERS = """
SELECT DISTINCT {row}.id, {row}.import_id, {row}.source, {row}.deal_id, member ->> 0
FROM jsonb_array_elements(CAST({row}.shares AS jsonb)) AS member
"""
COLUMNS = "split_version_id, import_id, source, deal_id, participant_id"


def upgrade() -> None:
    for table, name, column in INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(name, [column], unique=False)
    op.create_table(
        "split_members",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("split_version_id", ROW_ID, nullable=False),
        sa.Column("import_id", ROW_ID, nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("deal_id", sa.String(200), nullable=False),
        sa.Column("participant_id", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_split_members")),
    )
    with op.batch_alter_table("split_members", schema=None) as batch_op:
        batch_op.create_index("ix_split_members_participant_id", ["participant_id"], unique=False)
    if op.get_context().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION split_members_add() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO split_members ({COLUMNS}) {POSTGRES_MEMBERS.format(row="NEW")};
                RETURN NULL;
            END $$""")
        op.execute("CREATE TRIGGER split_members_add AFTER INSERT ON split_versions "
                   "FOR EACH ROW EXECUTE FUNCTION split_members_add()")
        op.execute(f"INSERT INTO split_members ({COLUMNS}) "
                   + POSTGRES_MEMBERS.format(row="s").replace("FROM ", "FROM split_versions AS s, ", 1))
    else:
        op.execute(f"""
            CREATE TRIGGER split_members_add AFTER INSERT ON split_versions
            BEGIN
                INSERT INTO split_members ({COLUMNS}) {SQLITE_MEMBERS.format(row="NEW")};
            END""")
        op.execute(f"INSERT INTO split_members ({COLUMNS}) "
                   + SQLITE_MEMBERS.format(row="s").replace("FROM ", "FROM split_versions AS s, ", 1))


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP TRIGGER split_members_add ON split_versions")
        op.execute("DROP FUNCTION split_members_add()")
    else:
        op.execute("DROP TRIGGER split_members_add")
    op.drop_table("split_members")
    for table, name, _column in reversed(INDEXES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(name)
