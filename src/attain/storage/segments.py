"""Columnar segments: a Parquet copy of the deal and split versions each import recorded.

The store's tables are the system of record; a bulk run over millions of deals cannot read
them row by row through a database driver. So every import that records deal or split
versions also writes exactly those version rows (import id, source, key, version and
content) to one Parquet file, `<folder>/<kind>/<import id>.parquet`, and a bulk run reads the
segments of the imports it may see with DuckDB.

Rules that keep the copy faithful to the store:

- A segment is written to a temporary name and renamed before the import's transaction
  commits. It carries, in its Parquet metadata, the import's id, kind, file hash, start time
  and number of versions.
- A segment is only read for an import the database has committed, and only when its
  metadata matches that import's row. A segment left by an import that never committed (a
  crash between the rename and the commit) is ignored; if its import id is reused by a later
  import (SQLite reuses a rolled-back id), the metadata no longer matches and the segment is
  rebuilt from the database.
- A missing or mismatched segment of a committed import is rebuilt from the database
  (`rebuild_segment`; `ensure_segments` does it on demand).

Deals are stored with their custom fields as text columns named `f_<field>`; a split set is
one row per share (a version with no shares left is one row with no participant, so it still
hides the earlier version).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Connection, select

from attain.core.errors import UnsupportedError
from attain.core.money import decimal_places, to_decimal
from attain.storage.schema import deal_versions, imports, split_versions

SEGMENT_KINDS = ("deals", "splits")
FIELD_PREFIX = "f_"
META_KEY = b"attain.segment"
PRECISION = 38
DEAL_DATES = ("booked_on", "signed_on", "invoiced_on", "recognized_on", "cancelled_on")
SPINE = [("import_id", pa.int64()), ("source", pa.string()), ("key", pa.string()), ("version", pa.int32())]


@dataclass(frozen=True, slots=True)
class ImportStamp:
    """What ties a segment to its import row: written into the segment, compared on reading."""

    import_id: int
    kind: str
    file_sha256: str
    started_at: datetime
    versions: int

    def text(self) -> str:
        return json.dumps({"import_id": self.import_id, "kind": self.kind, "file_sha256": self.file_sha256,
                           "started_at": self.started_at.isoformat(), "versions": self.versions}, sort_keys=True)


@dataclass(frozen=True, slots=True)
class Segment:
    """A segment a bulk run may read: its file, and whether its import changed existing keys."""

    import_id: int
    path: Path
    changed: bool


def segments_folder(workspace_root: Path) -> Path:
    """Where a workspace keeps its segments."""
    return workspace_root / "store" / "segments"


def segment_path(folder: Path, kind: str, import_id: int) -> Path:
    return folder / kind / f"{import_id}.parquet"


def _decimal_array(values: Sequence[Decimal | None], name: str) -> pa.Array:
    scale = decimal_places(values)
    digits = max((max(len(v.as_tuple().digits) + int(v.as_tuple().exponent), 0) for v in values
                  if v is not None), default=1)
    try:
        return pa.array(values, type=_decimal_type(scale, digits, name))
    except (pa.ArrowInvalid, ValueError) as exc:
        raise UnsupportedError(f"{name} does not fit a {PRECISION}-digit decimal: {exc}") from None


def _decimal_type(scale: int, digits: int, name: str) -> pa.DataType:
    if scale >= PRECISION:
        raise UnsupportedError(f"{name} has {scale} decimal places; a segment keeps at most {PRECISION - 1}")
    # 18 digits fit a 64-bit integer, which DuckDB computes on much faster than 128-bit ones.
    return pa.decimal128(18 if digits + scale <= 18 else PRECISION, scale)


def _spine(rows: Sequence[Mapping[str, Any]]) -> dict[str, pa.Array]:
    return {name: pa.array([r[name] for r in rows], kind) for name, kind in SPINE}


def deal_table(rows: Sequence[Mapping[str, Any]]) -> pa.Table:
    """Deal version rows (the stored columns plus the spine) as a segment table."""
    columns = _spine(rows)
    for name in ("deal_id", "owner_id"):
        columns[name] = pa.array([r[name] for r in rows], pa.string())
    columns["amount"] = _decimal_array([to_decimal(r["amount"]) for r in rows], "a deal amount")
    columns["currency"] = pa.array([r["currency"] for r in rows], pa.string())
    columns["status"] = pa.array([r["status"] for r in rows], pa.string())
    for name in DEAL_DATES:
        columns[name] = pa.array([r[name] for r in rows], pa.date32())
    columns["delivered"] = _decimal_array([to_decimal(r["delivered"]) for r in rows], "a delivered share")
    fields = [json.loads(r["fields"]) if r["fields"] else {} for r in rows]
    for name in sorted({k for f in fields for k in f}):
        columns[FIELD_PREFIX + name] = pa.array([f.get(name) for f in fields], pa.string())
    return pa.table(columns)


def split_table(rows: Sequence[Mapping[str, Any]]) -> pa.Table:
    """Split-set version rows as a segment table: one row per share (None for an empty set)."""
    spine: list[Mapping[str, Any]] = []
    deal_ids: list[str] = []
    pids: list[str | None] = []
    shares: list[Decimal | None] = []
    roles: list[str | None] = []
    for r in rows:
        entries = json.loads(r["shares"]) or [[None, None, None]]
        for pid, share, role in entries:
            spine.append(r)
            deal_ids.append(r["deal_id"])
            pids.append(pid)
            shares.append(None if share is None else to_decimal(share))
            roles.append(role)
    columns = _spine(spine)
    columns["deal_id"] = pa.array(deal_ids, pa.string())
    columns["participant_id"] = pa.array(pids, pa.string())
    columns["share"] = _decimal_array(shares, "a split share")
    columns["role"] = pa.array(roles, pa.string())
    return pa.table(columns)


TABLES = {"deals": deal_table, "splits": split_table}


def write_segment(folder: Path, kind: str, stamp: ImportStamp, table: pa.Table) -> Path:
    """Write a segment under a temporary name, then rename it into place (atomic on one file system)."""
    target = segment_path(folder, kind, stamp.import_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    schema = table.schema.with_metadata({META_KEY: stamp.text().encode("utf-8")})
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with pq.ParquetWriter(temporary, schema, compression="zstd") as writer:
            writer.write_table(table.replace_schema_metadata(schema.metadata), row_group_size=1_000_000)
        with temporary.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return target


def read_stamp(path: Path) -> ImportStamp | None:
    """The stamp a segment was written with (None for a file that is not a readable segment)."""
    try:
        metadata = pq.read_schema(path).metadata or {}
        data = json.loads(metadata[META_KEY])
        return ImportStamp(import_id=int(data["import_id"]), kind=data["kind"], file_sha256=data["file_sha256"],
                           started_at=datetime.fromisoformat(data["started_at"]), versions=int(data["versions"]))
    except (OSError, KeyError, ValueError, pa.ArrowException):
        return None


class SegmentWriter:
    """Collects the versions one import writes and writes them as its segment before the commit.

    Each chunk of versions becomes a columnar table as it arrives (a few dozen bytes a row, where
    the rows themselves take kilobytes), so an import of millions of deals holds its segment in
    memory as Arrow, never as Python rows; the chunks are joined under one schema when written."""

    def __init__(self, folder: Path, kind: str) -> None:
        self.folder = folder
        self.kind = kind
        self.tables: list[pa.Table] = []
        self.versions = 0
        self.unsupported: str | None = None  # why the rows cannot be kept exactly, if they cannot

    def add(self, rows: Sequence[Mapping[str, Any]]) -> None:
        self.versions += len(rows)
        if self.unsupported or not rows:
            return
        try:
            self.tables.append(TABLES[self.kind](rows))
        except UnsupportedError as exc:
            self.unsupported = str(exc)
            self.tables = []

    def table(self) -> pa.Table:
        """The segment's table, or UnsupportedError saying why its values cannot be kept exactly."""
        if self.unsupported:
            raise UnsupportedError(self.unsupported)
        return unify(self.tables) if self.tables else TABLES[self.kind]([])

    def write(self, import_id: int, file_sha256: str, started_at: datetime) -> Path | None:
        """Write the segment; None (nothing written) when its values cannot be kept in Parquet
        exactly: the bulk run then rebuilds it on demand and refuses with the same reason."""
        stamp = ImportStamp(import_id=import_id, kind=self.kind, file_sha256=file_sha256,
                            started_at=started_at, versions=self.versions)
        try:
            table = self.table()
        except UnsupportedError:
            segment_path(self.folder, self.kind, import_id).unlink(missing_ok=True)
            return None
        return write_segment(self.folder, self.kind, stamp, table)


def unify(tables: Sequence[pa.Table]) -> pa.Table:
    """Chunks of one segment as one table: custom-field columns a chunk lacks are null, and each
    decimal column gets the type one table of all the rows would have (the largest scale; 18
    digits when every value still fits them, else 38)."""
    if len(tables) == 1:
        return tables[0]
    names = [n for n in tables[0].column_names if not n.startswith(FIELD_PREFIX)]
    names += sorted({n for t in tables for n in t.column_names if n.startswith(FIELD_PREFIX)})
    types: dict[str, pa.DataType] = {}
    for name in names:
        kinds = [t.schema.field(name).type for t in tables if name in t.column_names]
        if not pa.types.is_decimal(kinds[0]) or all(k == kinds[0] for k in kinds):
            types[name] = kinds[0]
            continue
        scale = max(k.scale for k in kinds)
        digits = max(_integer_digits(t.column(name)) for t in tables)
        types[name] = _decimal_type(scale, digits, name)
    schema = pa.schema([(name, types[name]) for name in names])
    try:
        aligned = [pa.table([t.column(n).cast(types[n]) if n in t.column_names else pa.nulls(t.num_rows, types[n])
                             for n in names], schema=schema) for t in tables]
    except pa.ArrowInvalid as exc:
        raise UnsupportedError(f"a segment's decimals do not fit a {PRECISION}-digit decimal: {exc}") from None
    return pa.concat_tables(aligned)


def _integer_digits(column: pa.ChunkedArray) -> int:
    import pyarrow.compute as pc

    largest = pc.max(pc.abs(column)).as_py()
    if largest is None:
        return 1
    shape = largest.as_tuple()
    return max(len(shape.digits) + int(shape.exponent), 0)


def _committed(conn: Connection, kind: str, upto_import: int) -> list[tuple[ImportStamp, bool]]:
    rows = conn.execute(
        select(imports.c.id, imports.c.file_sha256, imports.c.started_at, imports.c.rows_new, imports.c.rows_changed)
        .where(imports.c.kind == kind, imports.c.id <= upto_import).order_by(imports.c.id)
    )
    return [(ImportStamp(import_id=int(i), kind=kind, file_sha256=sha, started_at=started,
                         versions=int(new) + int(changed)), int(changed) > 0)
            for i, sha, started, new, changed in rows if int(new) + int(changed) > 0]


def _same(found: ImportStamp | None, expected: ImportStamp) -> bool:
    return found is not None and found == expected


REBUILD_ROWS = 50_000


def rebuild_segment(conn: Connection, folder: Path, stamp: ImportStamp) -> Path:
    """Write the segment of a committed import again, from the versions the database holds (read
    a part at a time, as an import writes it: an import of millions of deals is never held as
    Python rows)."""
    table = deal_versions if stamp.kind == "deals" else split_versions
    writer = SegmentWriter(folder, stamp.kind)
    result = conn.execution_options(yield_per=REBUILD_ROWS).execute(
        select(table).where(table.c.import_id == stamp.import_id).order_by(table.c.id))
    for part in result.partitions():
        writer.add([dict(r._mapping) for r in part])
    return write_segment(folder, stamp.kind, stamp, writer.table())


def ensure_segments(conn: Connection, folder: Path, kind: str, upto_import: int,
                    rebuild: bool = False) -> tuple[list[Segment], int]:
    """The segments of `kind` for committed imports up to `upto_import`, each checked against its
    import row; a missing or mismatched one is rebuilt from the database (every one with
    `rebuild`). Returns the segments and how many were rebuilt."""
    segments = []
    rebuilt = 0
    for stamp, changed in _committed(conn, kind, upto_import):
        path = segment_path(folder, kind, stamp.import_id)
        if rebuild or not path.is_file() or not _same(read_stamp(path), stamp):
            rebuild_segment(conn, folder, stamp)
            rebuilt += 1
        segments.append(Segment(import_id=stamp.import_id, path=path, changed=changed))
    return segments, rebuilt


__all__ = ["SEGMENT_KINDS", "ImportStamp", "Segment", "SegmentWriter", "ensure_segments", "read_stamp",
           "rebuild_segment", "segment_path", "segments_folder", "write_segment"]
