"""The seal chain: every row that carries money or state, hashed and chained at each commit.

At the commit of every write transaction (`install` hooks the engine), rows of the covered
tables that are not sealed yet (append-only tables: ids above the last sealed id) or that
differ from their latest seal (tables whose rows change state: periods, adjustments) get a
seal: (seq, table, row key, row hash over the row's canonical JSON, chain hash =
H(previous chain hash, seq, table, key, row hash)). `verify_seals` recomputes the chain,
checks that every covered row has a latest seal matching its current content and that every
sealed row still exists, and compares the head with an expected one held outside the store.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Column, Connection, Engine, Index, String, Table, event, func, insert, select

from attain.storage.ledger_tables import (
    audit_log,
    ledger_adjustments,
    ledger_entries,
    ledger_periods,
    ledger_runs,
)
from attain.storage.schema import VERSIONED, ExactDecimal, RowId, imports, metadata

seals = Table(
    "seals", metadata,
    Column("seq", RowId, primary_key=True, autoincrement=True),
    Column("table_name", String(64), nullable=False),
    Column("row_key", String(500), nullable=False),
    Column("row_hash", String(64), nullable=False),
    Column("chain_hash", String(64), nullable=False),
)
Index("ix_seals_table_name", seals.c.table_name, seals.c.seq)

# Rows that are appended and never change after their transaction: sealed once, by id.
APPEND_ONLY: dict[str, tuple[Table, str]] = {
    "imports": (imports, "id"),
    **{table.name: (table, "id") for table in VERSIONED.values()},
    "ledger_runs": (ledger_runs, "id"),
    "ledger_entries": (ledger_entries, "seq"),
    "audit_log": (audit_log, "seq"),
}
# Rows whose state legitimately changes (a period's state, an adjustment's decision): resealed
# when they change; each change is also in the audit log with its before and after.
MUTABLE: dict[str, tuple[Table, str]] = {
    "ledger_periods": (ledger_periods, "label"),
    "ledger_adjustments": (ledger_adjustments, "id"),
}
COVERED = {**APPEND_ONLY, **MUTABLE}
_SEALING = "attain_sealing"


def _canonical(value: Any, column: Column[Any]) -> Any:
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, Decimal) or isinstance(column.type, ExactDecimal):
        try:
            number = value if isinstance(value, Decimal) else Decimal(str(value))
        except InvalidOperation:
            return f"!{value}"
        if number.is_zero():
            number = number.copy_abs()
        return format(number, "f")
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def row_hash(table: Table, row: Any) -> str:
    """SHA-256 of the row's canonical JSON: columns by name, nulls left out (so a later nullable
    column does not change old rows' hashes), decimals in plain notation, ISO dates."""
    values = {c.name: _canonical(row[c.name], c) for c in sorted(table.columns, key=lambda c: c.name)
              if row[c.name] is not None}
    text = json.dumps([table.name, values], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def chain_hash(prev: str, seq: int, table_name: str, key: str, digest: str) -> str:
    return hashlib.sha256("\x1f".join((prev, str(seq), table_name, key, digest)).encode("utf-8")).hexdigest()


def _head(conn: Connection) -> tuple[int, str]:
    row = conn.execute(select(seals.c.seq, seals.c.chain_hash).order_by(seals.c.seq.desc()).limit(1)).first()
    return (int(row[0]), row[1]) if row else (0, "")


def _latest_seals(conn: Connection, name: str) -> dict[str, str]:
    rows = conn.execute(select(seals.c.row_key, seals.c.row_hash).where(seals.c.table_name == name)
                        .order_by(seals.c.seq))
    return {key: digest for key, digest in rows}


def _last_sealed_id(conn: Connection, name: str) -> int:
    latest = conn.execute(select(func.max(seals.c.seq)).where(seals.c.table_name == name)).scalar_one_or_none()
    if latest is None:
        return 0
    return int(conn.execute(select(seals.c.row_key).where(seals.c.seq == latest)).scalar_one())


def seal_pending(conn: Connection) -> int:
    """Seal every covered row not sealed yet or changed since its seal; returns how many."""
    if not conn.dialect.has_table(conn, "seals"):
        return 0  # a store being migrated, before the seals migration
    if conn.dialect.name == "postgresql":
        # One sealer at a time, so the chain never forks and ids are sealed in commit order.
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7370001)")
    pending: list[tuple[str, str, str]] = []
    for name, (table, key) in APPEND_ONLY.items():
        after = _last_sealed_id(conn, name)
        for row in conn.execute(select(table).where(table.c[key] > after).order_by(table.c[key])):
            mapping = row._mapping
            pending.append((name, str(mapping[key]), row_hash(table, mapping)))
    for name, (table, key) in MUTABLE.items():
        latest = _latest_seals(conn, name)
        for row in conn.execute(select(table).order_by(table.c[key])):
            mapping = row._mapping
            digest = row_hash(table, mapping)
            if latest.get(str(mapping[key])) != digest:
                pending.append((name, str(mapping[key]), digest))
    if not pending:
        return 0
    seq, prev = _head(conn)
    records = []
    for name, key, digest in pending:
        seq += 1
        prev = chain_hash(prev, seq, name, key, digest)
        records.append({"seq": seq, "table_name": name, "row_key": key, "row_hash": digest, "chain_hash": prev})
    for start in range(0, len(records), 5000):
        conn.execute(insert(seals), records[start:start + 5000])
    return len(records)


def install(engine: Engine) -> None:
    """Seal at the commit of every transaction on `engine`, inside that transaction."""

    @event.listens_for(engine, "commit")
    def _seal_on_commit(conn: Connection) -> None:
        if conn.info.get(_SEALING):
            return
        conn.info[_SEALING] = True
        try:
            seal_pending(conn)
        finally:
            conn.info[_SEALING] = False


@dataclass(frozen=True, slots=True, kw_only=True)
class SealProblem:
    """The first row or seal that no longer matches."""

    table: str
    key: str
    what: str

    def __str__(self) -> str:
        return f"{self.table} {self.key}: {self.what}"


@dataclass(frozen=True, slots=True, kw_only=True)
class SealReport:
    """The chain's length and head, and what no longer matches (empty when everything holds)."""

    length: int
    head: str
    problems: tuple[SealProblem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def current_head(conn: Connection) -> tuple[int, str]:
    """(length, head hash) of the seal chain, for an outside party to hold."""
    return _head(conn)


def verify_seals(conn: Connection, expect: tuple[int, str] | None = None) -> SealReport:
    """Recompute the chain, check every covered row against its latest seal, and the expected head."""
    problems: list[SealProblem] = []
    prev, length, at_expected = "", 0, None
    latest: dict[str, dict[str, str]] = {name: {} for name in COVERED}
    for seq, name, key, digest, stored in conn.execute(
            select(seals.c.seq, seals.c.table_name, seals.c.row_key, seals.c.row_hash, seals.c.chain_hash)
            .order_by(seals.c.seq)):
        length += 1
        expected = chain_hash(prev, int(seq), name, key, digest)
        if int(seq) != length or expected != stored:
            problems.append(SealProblem(table="seals", key=str(seq), what=(
                "the chain breaks here: a seal was edited, inserted or removed")))
            break
        prev = stored
        if expect is not None and length == expect[0]:
            at_expected = stored
        latest.setdefault(name, {})[key] = digest
    if expect is not None:
        if length < expect[0]:
            problems.append(SealProblem(table="seals", key=str(length), what=(
                f"the chain has {length} seal(s), the expected head is at {expect[0]}: newest seals removed")))
        elif at_expected != expect[1]:
            problems.append(SealProblem(table="seals", key=str(expect[0]), what=(
                f"the chain at {expect[0]} is {at_expected}, not the expected {expect[1]}")))
    for name, (table, key) in COVERED.items():
        sealed = latest.get(name, {})
        seen: set[str] = set()
        for row in conn.execute(select(table).order_by(table.c[key])):
            mapping = row._mapping
            row_key = str(mapping[key])
            seen.add(row_key)
            digest = sealed.get(row_key)
            if digest is None:
                problems.append(SealProblem(table=name, key=row_key, what="has no seal (inserted by hand?)"))
            elif digest != row_hash(table, mapping):
                problems.append(SealProblem(table=name, key=row_key, what="differs from its seal (edited by hand)"))
        for row_key in sealed.keys() - seen:
            problems.append(SealProblem(table=name, key=row_key, what="is sealed but no longer exists (deleted)"))
    return SealReport(length=length, head=prev, problems=tuple(problems))


__all__ = ["COVERED", "SealProblem", "SealReport", "current_head", "install", "seal_pending",
           "seals", "verify_seals"]
