"""Create the store: imports and versioned records.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-21 12:01:29.750307
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# Exact decimals: NUMERIC on PostgreSQL, canonical decimal text elsewhere (see schema.ExactDecimal).
EXACT = sa.String(64).with_variant(sa.Numeric(), "postgresql")
ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('imports',
    sa.Column('id', ROW_ID, autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('file_name', sa.String(length=500), nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.Column('rows_new', sa.Integer(), nullable=False),
    sa.Column('rows_changed', sa.Integer(), nullable=False),
    sa.Column('rows_unchanged', sa.Integer(), nullable=False),
    sa.Column('rows_rejected', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_imports'))
    )
    with op.batch_alter_table('imports', schema=None) as batch_op:
        batch_op.create_index('ix_imports_recorded_at', ['recorded_at'], unique=False)

    op.create_table('deal_versions',
    sa.Column('id', ROW_ID, autoincrement=True, nullable=False),
    sa.Column('import_id', ROW_ID, nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('key', sa.String(length=500), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=32), nullable=False),
    sa.Column('deal_id', sa.String(length=200), nullable=False),
    sa.Column('owner_id', sa.String(length=200), nullable=False),
    sa.Column('amount', EXACT, nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('booked_on', sa.Date(), nullable=True),
    sa.Column('signed_on', sa.Date(), nullable=True),
    sa.Column('invoiced_on', sa.Date(), nullable=True),
    sa.Column('recognized_on', sa.Date(), nullable=True),
    sa.Column('cancelled_on', sa.Date(), nullable=True),
    sa.Column('delivered', EXACT, nullable=False),
    sa.Column('fields', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['imports.id'], name=op.f('fk_deal_versions_import_id_imports')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deal_versions')),
    sa.UniqueConstraint('source', 'key', 'version', name='uq_deal_versions_source_key_version')
    )
    with op.batch_alter_table('deal_versions', schema=None) as batch_op:
        batch_op.create_index('ix_deal_versions_import', ['import_id'], unique=False)
        batch_op.create_index('ix_deal_versions_key', ['key'], unique=False)

    op.create_table('metric_versions',
    sa.Column('id', ROW_ID, autoincrement=True, nullable=False),
    sa.Column('import_id', ROW_ID, nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('key', sa.String(length=500), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=32), nullable=False),
    sa.Column('participant_id', sa.String(length=200), nullable=False),
    sa.Column('metric', sa.String(length=200), nullable=False),
    sa.Column('period', sa.String(length=20), nullable=False),
    sa.Column('value', EXACT, nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['imports.id'], name=op.f('fk_metric_versions_import_id_imports')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_metric_versions')),
    sa.UniqueConstraint('source', 'key', 'version', name='uq_metric_versions_source_key_version')
    )
    with op.batch_alter_table('metric_versions', schema=None) as batch_op:
        batch_op.create_index('ix_metric_versions_import', ['import_id'], unique=False)
        batch_op.create_index('ix_metric_versions_key', ['key'], unique=False)

    op.create_table('participant_versions',
    sa.Column('id', ROW_ID, autoincrement=True, nullable=False),
    sa.Column('import_id', ROW_ID, nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('key', sa.String(length=500), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=32), nullable=False),
    sa.Column('participant_id', sa.String(length=200), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=True),
    sa.Column('name', sa.String(length=500), nullable=False),
    sa.Column('role', sa.String(length=200), nullable=False),
    sa.Column('team', sa.String(length=200), nullable=False),
    sa.Column('manager_id', sa.String(length=200), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('ramp', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['imports.id'], name=op.f('fk_participant_versions_import_id_imports')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_participant_versions')),
    sa.UniqueConstraint('source', 'key', 'version', name='uq_participant_versions_source_key_version')
    )
    with op.batch_alter_table('participant_versions', schema=None) as batch_op:
        batch_op.create_index('ix_participant_versions_import', ['import_id'], unique=False)
        batch_op.create_index('ix_participant_versions_key', ['key'], unique=False)

    op.create_table('plan_assignments',
    sa.Column('id', ROW_ID, autoincrement=True, nullable=False),
    sa.Column('import_id', ROW_ID, nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('key', sa.String(length=500), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=32), nullable=False),
    sa.Column('plan_id', sa.String(length=200), nullable=False),
    sa.Column('target_kind', sa.String(length=16), nullable=False),
    sa.Column('target', sa.String(length=200), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=True),
    sa.Column('effective_to', sa.Date(), nullable=True),
    sa.Column('active', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['imports.id'], name=op.f('fk_plan_assignments_import_id_imports')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_assignments')),
    sa.UniqueConstraint('source', 'key', 'version', name='uq_plan_assignments_source_key_version')
    )
    with op.batch_alter_table('plan_assignments', schema=None) as batch_op:
        batch_op.create_index('ix_plan_assignments_import', ['import_id'], unique=False)
        batch_op.create_index('ix_plan_assignments_key', ['key'], unique=False)

    op.create_table('plan_versions',
    sa.Column('id', ROW_ID, autoincrement=True, nullable=False),
    sa.Column('import_id', ROW_ID, nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('key', sa.String(length=500), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=32), nullable=False),
    sa.Column('plan_id', sa.String(length=200), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=True),
    sa.Column('effective_to', sa.Date(), nullable=True),
    sa.Column('source_text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['imports.id'], name=op.f('fk_plan_versions_import_id_imports')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_versions')),
    sa.UniqueConstraint('source', 'key', 'version', name='uq_plan_versions_source_key_version')
    )
    with op.batch_alter_table('plan_versions', schema=None) as batch_op:
        batch_op.create_index('ix_plan_versions_import', ['import_id'], unique=False)
        batch_op.create_index('ix_plan_versions_key', ['key'], unique=False)

    op.create_table('quota_versions',
    sa.Column('id', ROW_ID, autoincrement=True, nullable=False),
    sa.Column('import_id', ROW_ID, nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('key', sa.String(length=500), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=32), nullable=False),
    sa.Column('participant_id', sa.String(length=200), nullable=False),
    sa.Column('metric', sa.String(length=200), nullable=False),
    sa.Column('period', sa.String(length=20), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=True),
    sa.Column('amount', EXACT, nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['imports.id'], name=op.f('fk_quota_versions_import_id_imports')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quota_versions')),
    sa.UniqueConstraint('source', 'key', 'version', name='uq_quota_versions_source_key_version')
    )
    with op.batch_alter_table('quota_versions', schema=None) as batch_op:
        batch_op.create_index('ix_quota_versions_import', ['import_id'], unique=False)
        batch_op.create_index('ix_quota_versions_key', ['key'], unique=False)

    op.create_table('rate_versions',
    sa.Column('id', ROW_ID, autoincrement=True, nullable=False),
    sa.Column('import_id', ROW_ID, nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('key', sa.String(length=500), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=32), nullable=False),
    sa.Column('from_currency', sa.String(length=3), nullable=False),
    sa.Column('to_currency', sa.String(length=3), nullable=False),
    sa.Column('on', sa.Date(), nullable=False),
    sa.Column('rate', EXACT, nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['imports.id'], name=op.f('fk_rate_versions_import_id_imports')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rate_versions')),
    sa.UniqueConstraint('source', 'key', 'version', name='uq_rate_versions_source_key_version')
    )
    with op.batch_alter_table('rate_versions', schema=None) as batch_op:
        batch_op.create_index('ix_rate_versions_import', ['import_id'], unique=False)
        batch_op.create_index('ix_rate_versions_key', ['key'], unique=False)

    op.create_table('split_versions',
    sa.Column('id', ROW_ID, autoincrement=True, nullable=False),
    sa.Column('import_id', ROW_ID, nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('key', sa.String(length=500), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=32), nullable=False),
    sa.Column('deal_id', sa.String(length=200), nullable=False),
    sa.Column('shares', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['imports.id'], name=op.f('fk_split_versions_import_id_imports')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_split_versions')),
    sa.UniqueConstraint('source', 'key', 'version', name='uq_split_versions_source_key_version')
    )
    with op.batch_alter_table('split_versions', schema=None) as batch_op:
        batch_op.create_index('ix_split_versions_import', ['import_id'], unique=False)
        batch_op.create_index('ix_split_versions_key', ['key'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('split_versions', schema=None) as batch_op:
        batch_op.drop_index('ix_split_versions_key')
        batch_op.drop_index('ix_split_versions_import')

    op.drop_table('split_versions')
    with op.batch_alter_table('rate_versions', schema=None) as batch_op:
        batch_op.drop_index('ix_rate_versions_key')
        batch_op.drop_index('ix_rate_versions_import')

    op.drop_table('rate_versions')
    with op.batch_alter_table('quota_versions', schema=None) as batch_op:
        batch_op.drop_index('ix_quota_versions_key')
        batch_op.drop_index('ix_quota_versions_import')

    op.drop_table('quota_versions')
    with op.batch_alter_table('plan_versions', schema=None) as batch_op:
        batch_op.drop_index('ix_plan_versions_key')
        batch_op.drop_index('ix_plan_versions_import')

    op.drop_table('plan_versions')
    with op.batch_alter_table('plan_assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_plan_assignments_key')
        batch_op.drop_index('ix_plan_assignments_import')

    op.drop_table('plan_assignments')
    with op.batch_alter_table('participant_versions', schema=None) as batch_op:
        batch_op.drop_index('ix_participant_versions_key')
        batch_op.drop_index('ix_participant_versions_import')

    op.drop_table('participant_versions')
    with op.batch_alter_table('metric_versions', schema=None) as batch_op:
        batch_op.drop_index('ix_metric_versions_key')
        batch_op.drop_index('ix_metric_versions_import')

    op.drop_table('metric_versions')
    with op.batch_alter_table('deal_versions', schema=None) as batch_op:
        batch_op.drop_index('ix_deal_versions_key')
        batch_op.drop_index('ix_deal_versions_import')

    op.drop_table('deal_versions')
    with op.batch_alter_table('imports', schema=None) as batch_op:
        batch_op.drop_index('ix_imports_recorded_at')

    op.drop_table('imports')
