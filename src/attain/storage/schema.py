"""The SQL tables of the store: imports, and one append-only versioned table per record kind.

Every versioned table has the same spine: the import that recorded the row, the source
system, the record's key within that source, a version number per key, and a hash of the
content. Nothing is updated or deleted: a changed record is a new version, and what was
known at a moment is the latest version recorded by an import committed by then.
Money and ratios are exact: NUMERIC on PostgreSQL, canonical decimal text on SQLite.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator, TypeEngine

from attain.core.money import to_decimal

metadata = MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})

RowId = BigInteger().with_variant(Integer(), "sqlite")


class ExactDecimal(TypeDecorator[Decimal]):
    """A Decimal stored exactly: NUMERIC (any scale) on PostgreSQL, decimal text on SQLite."""

    impl = String(64)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(asdecimal=True))
        return dialect.type_descriptor(String(64))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        number = to_decimal(value)
        return number if dialect.name == "postgresql" else format(number, "f")

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return value if isinstance(value, Decimal) else to_decimal(str(value))


imports = Table(
    "imports", metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("source", String(200), nullable=False),
    Column("file_name", String(500), nullable=False),
    Column("file_sha256", String(64), nullable=False),
    Column("started_at", DateTime(), nullable=False),
    # Set last, inside the import's transaction: "as known at T" reads imports recorded by T.
    Column("recorded_at", DateTime(), nullable=False),
    Column("rows_new", Integer, nullable=False, default=0),
    Column("rows_changed", Integer, nullable=False, default=0),
    Column("rows_unchanged", Integer, nullable=False, default=0),
    Column("rows_rejected", Integer, nullable=False, default=0),
)
Index("ix_imports_recorded_at", imports.c.recorded_at)


def _versioned(name: str, *columns: Column[Any]) -> Table:
    table = Table(
        name, metadata,
        Column("id", RowId, primary_key=True, autoincrement=True),
        Column("import_id", RowId, ForeignKey("imports.id"), nullable=False),
        Column("source", String(200), nullable=False),
        Column("key", String(500), nullable=False),
        Column("version", Integer, nullable=False),
        Column("content_hash", String(32), nullable=False),
        *columns,
        UniqueConstraint("source", "key", "version", name=f"uq_{name}_source_key_version"),
    )
    Index(f"ix_{name}_import", table.c.import_id)
    Index(f"ix_{name}_key", table.c.key)
    return table


participant_versions = _versioned(
    "participant_versions",
    Column("participant_id", String(200), nullable=False),
    Column("effective_from", Date()),
    Column("name", String(500), nullable=False),
    Column("role", String(200), nullable=False),
    Column("team", String(200), nullable=False),
    Column("manager_id", String(200)),
    Column("start_date", Date()),
    Column("end_date", Date()),
    Column("currency", String(3)),
    Column("ramp", String(500), nullable=False),
)

quota_versions = _versioned(
    "quota_versions",
    Column("participant_id", String(200), nullable=False),
    Column("metric", String(200), nullable=False),
    Column("period", String(20), nullable=False),
    Column("effective_from", Date()),
    Column("amount", ExactDecimal(), nullable=False),
    Column("reason", Text(), nullable=False),
)

deal_versions = _versioned(
    "deal_versions",
    Column("deal_id", String(200), nullable=False),
    Column("owner_id", String(200), nullable=False),
    Column("amount", ExactDecimal(), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", String(16), nullable=False),
    Column("booked_on", Date()),
    Column("signed_on", Date()),
    Column("invoiced_on", Date()),
    Column("recognized_on", Date()),
    Column("cancelled_on", Date()),
    Column("delivered", ExactDecimal(), nullable=False),
    Column("fields", Text(), nullable=False),
)

# One version per deal holds the deal's whole split set, so a split removed in a later
# export is gone from the next version without deleting anything.
split_versions = _versioned(
    "split_versions",
    Column("deal_id", String(200), nullable=False),
    Column("shares", Text(), nullable=False),
)

metric_versions = _versioned(
    "metric_versions",
    Column("participant_id", String(200), nullable=False),
    Column("metric", String(200), nullable=False),
    Column("period", String(20), nullable=False),
    Column("value", ExactDecimal(), nullable=False),
)

rate_versions = _versioned(
    "rate_versions",
    Column("from_currency", String(3), nullable=False),
    Column("to_currency", String(3), nullable=False),
    Column("on", Date(), nullable=False),
    Column("rate", ExactDecimal(), nullable=False),
)

plan_versions = _versioned(
    "plan_versions",
    Column("plan_id", String(200), nullable=False),
    Column("label", String(200), nullable=False),
    Column("effective_from", Date()),
    Column("effective_to", Date()),
    Column("source_text", Text(), nullable=False),
)

# Who a plan applies to, with effective dates: one row per target (participant, role or team).
plan_assignments = _versioned(
    "plan_assignments",
    Column("plan_id", String(200), nullable=False),
    Column("target_kind", String(16), nullable=False),
    Column("target", String(200), nullable=False),
    Column("effective_from", Date()),
    Column("effective_to", Date()),
    Column("active", Integer, nullable=False),
)

VERSIONED: dict[str, Table] = {
    "participants": participant_versions,
    "quotas": quota_versions,
    "deals": deal_versions,
    "splits": split_versions,
    "metrics": metric_versions,
    "rates": rate_versions,
    "plans": plan_versions,
    "assignments": plan_assignments,
}
