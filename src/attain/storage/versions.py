"""Append-only versioned records: diff incoming records against the latest versions, add new ones.

An import writes inside one transaction: `begin_import` records the import (and, on
PostgreSQL, serializes importers), `append_versions` adds a version for every new or changed
key (same content: nothing), and `finish_import` stamps the moment the import became known.
Reads "as known at" a moment take, per key, the latest version recorded by an import
finished by then.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import islice
from typing import Any

from sqlalchemy import Connection, Date, String, Table, func, insert, select, type_coerce, update

from attain.storage.schema import ExactDecimal, imports

CHUNK = 5000
SCAN_THRESHOLD = 20_000
_LOOKUP = 900  # keys per IN (...) lookup, below every backend's bound-parameter limit


@dataclass(frozen=True, slots=True, kw_only=True)
class Counts:
    """What an import did to the store, per row: new keys, changed keys, unchanged keys."""

    new: int = 0
    changed: int = 0
    unchanged: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(new=self.new + other.new, changed=self.changed + other.changed,
                      unchanged=self.unchanged + other.unchanged)

    @property
    def written(self) -> int:
        return self.new + self.changed


def begin_import(conn: Connection, *, kind: str, source: str, file_name: str, file_sha256: str,
                 started_at: datetime) -> int:
    """Record an import in the current transaction and return its id."""
    if conn.dialect.name == "postgresql":
        # One import at a time, so import ids follow the order imports become known.
        conn.exec_driver_sql("LOCK TABLE imports IN SHARE ROW EXCLUSIVE MODE")
    result = conn.execute(insert(imports).values(
        kind=kind, source=source, file_name=file_name[:500], file_sha256=file_sha256,
        started_at=started_at, recorded_at=started_at,
    ))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def finish_import(conn: Connection, import_id: int, counts: Counts, rejected: int,
                  now: datetime) -> datetime:
    """Stamp the import as known from `now` (strictly after every earlier import)."""
    latest = conn.execute(
        select(func.max(imports.c.recorded_at)).where(imports.c.id != import_id)
    ).scalar_one_or_none()
    recorded_at = now if latest is None or now > latest else latest + timedelta(microseconds=1)
    conn.execute(update(imports).where(imports.c.id == import_id).values(
        recorded_at=recorded_at, rows_new=counts.new, rows_changed=counts.changed,
        rows_unchanged=counts.unchanged, rows_rejected=rejected,
    ))
    return recorded_at


def known_import(conn: Connection, as_of: datetime | None) -> int:
    """The last import known at `as_of` (all when None); 0 when there is none."""
    query = select(func.max(imports.c.id))
    if as_of is not None:
        query = query.where(imports.c.recorded_at <= as_of)
    return int(conn.execute(query).scalar_one_or_none() or 0)


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def latest_hashes(conn: Connection, table: Table, source: str,
                  keys: Sequence[str]) -> dict[str, tuple[int, str]]:
    """The latest (version, content hash) of each of `keys` already stored for `source`."""
    found: dict[str, tuple[int, str]] = {}
    if len(keys) > SCAN_THRESHOLD:
        # For a large file one pass over the source's rows beats thousands of IN lookups.
        wanted = set(keys)
        rows = conn.execute(select(table.c.key, table.c.version, table.c.content_hash)
                            .where(table.c.source == source))
        for key, version, digest in rows:
            if key in wanted and (key not in found or version > found[key][0]):
                found[key] = (version, digest)
        return found
    for chunk in _chunks(keys, _LOOKUP):
        rows = conn.execute(
            select(table.c.key, table.c.version, table.c.content_hash)
            .where(table.c.source == source, table.c.key.in_(chunk))
        )
        for key, version, digest in rows:
            if key not in found or version > found[key][0]:
                found[key] = (version, digest)
    return found


def latest_rows(conn: Connection, table: Table, source: str, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The latest stored columns of each of `keys` for `source` (for before/after audit records)."""
    found: dict[str, tuple[int, dict[str, Any]]] = {}
    for chunk in _chunks(list(keys), _LOOKUP):
        for row in conn.execute(select(table).where(table.c.source == source, table.c.key.in_(chunk))):
            mapping = dict(row._mapping)
            key = mapping["key"]
            if key not in found or mapping["version"] > found[key][0]:
                found[key] = (mapping["version"], mapping)
    return {key: columns for key, (_, columns) in found.items()}


def has_rows(conn: Connection, table: Table, source: str) -> bool:
    return conn.execute(select(table.c.id).where(table.c.source == source).limit(1)).first() \
        is not None


def append_versions(conn: Connection, table: Table, source: str, import_id: int,
                    rows: Iterable[tuple[str, str, dict[str, Any]]],
                    on_chunk: Any = None, on_version: Any = None, on_written: Any = None,
                    empty: bool | None = None, scan: bool = True) -> Counts:
    """Add a version for each new or changed (key, hash, columns); same content is a no-op.

    `on_written`, if given, receives each chunk's new version rows as inserted (spine and
    columns), e.g. to write the import's columnar segment (storage/segments.py). An import that
    calls this once per part of a file says whether the source was `empty` before its first part
    and (`scan=False`) that its keys are to be looked up, not found by scanning the source's rows
    once per part."""
    total = Counts()
    if empty is None:
        empty = not has_rows(conn, table, source)
    items = rows if isinstance(rows, list) else list(rows)
    prefetched = None
    if scan and not empty and len(items) > SCAN_THRESHOLD:
        prefetched = latest_hashes(conn, table, source, [k for k, _, _ in items])
    for chunk in _chunks(items, CHUNK):
        if prefetched is not None:
            existing = prefetched
        else:
            existing = {} if empty else latest_hashes(conn, table, source,
                                                      [k for k, _, _ in chunk])
        fresh: list[dict[str, Any]] = []
        new = changed = unchanged = 0
        for key, digest, columns in chunk:
            before = existing.get(key)
            if before is not None and before[1] == digest:
                unchanged += 1
                continue
            if before is None:
                new += 1
            else:
                changed += 1
            if on_version is not None:
                on_version(key, columns)
            fresh.append({**columns, "import_id": import_id, "source": source, "key": key,
                          "version": 1 if before is None else before[0] + 1,
                          "content_hash": digest})
        if fresh:
            _insert_many(conn, table, fresh)
            if on_written is not None:
                on_written(fresh)
        total = total + Counts(new=new, changed=changed, unchanged=unchanged)
        if on_chunk is not None:
            on_chunk(len(chunk))
    return total


def _insert_many(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    if conn.dialect.name == "postgresql":
        _copy_rows(conn, table, rows)
        return
    # SQLite: plain DB-API executemany with values already in their stored form (decimal text,
    # ISO dates), which is several times faster than binding each row through the ORM types.
    names = [c.name for c in table.columns if c.name != "id"]
    quoted = ", ".join(f'"{name}"' for name in names)
    marks = ", ".join("?" for _ in names)
    driver = conn.connection.driver_connection
    driver.executemany(  # type: ignore[union-attr]
        f'INSERT INTO "{table.name}" ({quoted}) VALUES ({marks})',
        [tuple(_sqlite_value(row.get(name)) for name in names) for row in rows],
    )


def _copy_rows(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """COPY rows into PostgreSQL in the current transaction (much faster than INSERTs)."""
    names = [c.name for c in table.columns if c.name != "id"]
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join(_copy_text(row.get(name)) for name in names))
        buffer.write("\n")
    quoted = ", ".join(f'"{name}"' for name in names)
    driver = conn.connection.driver_connection
    statement = f'COPY "{table.name}" ({quoted}) FROM STDIN'
    with driver.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
        copy.write(buffer.getvalue())


def _sqlite_value(value: Any) -> Any:
    if value is None or type(value) is str:
        return value
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _copy_text(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return (text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
            .replace("\r", "\\r"))


def latest_versions(conn: Connection, table: Table, upto_import: int,
                    where: Any = None) -> list[Mapping[str, Any]]:
    """Per (source, key), the latest version recorded by an import with id <= `upto_import`.

    `where` filters the chosen versions (e.g. deals dated in a period); it is applied after the
    latest version is chosen, so a later version that moved out of the filter hides the
    earlier one.
    """
    if where is None:
        return _latest_by_scan(conn, table, upto_import)
    ranked = select(
        table,
        func.row_number().over(
            partition_by=(table.c.source, table.c.key), order_by=table.c.version.desc()
        ).label("rank_"),
    ).where(table.c.import_id <= upto_import).subquery()
    query = select(ranked).where(ranked.c.rank_ == 1)
    if where is not None:
        query = query.where(where(ranked.c))
    query = query.order_by(ranked.c.key, ranked.c.source)
    rows: list[Mapping[str, Any]] = [*conn.execute(query).mappings()]
    return rows


def _latest_by_scan(conn: Connection, table: Table, upto_import: int) -> list[Mapping[str, Any]]:
    """`latest_versions` without a filter: one ordered pass, keeping each (key, source)'s last
    version. The same rows in the same order as the ranked query, about four times faster (no
    window to compute; the database only sorts)."""
    # SQLite keeps dates as ISO text, which SQLAlchemy parses with a regular expression, and
    # decimals as the text the store wrote (storage/schema.ExactDecimal); read both as text and
    # parse them with date.fromisoformat and Decimal (several times faster, the same values).
    as_text = conn.dialect.name == "sqlite"
    parsers: dict[str, Callable[[str], Any]] = {
        c.name: date.fromisoformat if isinstance(c.type, Date) else Decimal
        for c in table.columns if as_text and isinstance(c.type, Date | ExactDecimal)}
    columns = [type_coerce(c, String).label(c.name) if c.name in parsers else c for c in table.columns]
    query = (select(*columns).where(table.c.import_id <= upto_import)
             .order_by(table.c.key, table.c.source, table.c.version))
    result = conn.execute(query)
    names = list(result.keys())
    where = [(names.index(name), parse) for name, parse in parsers.items()]
    rows = result.all()
    at_key, at_source = names.index("key"), names.index("source")
    latest: list[Mapping[str, Any]] = []
    for index, row in enumerate(rows):
        following = rows[index + 1] if index + 1 < len(rows) else None
        if following is not None and row[at_key] == following[at_key] and row[at_source] == following[at_source]:
            continue
        values = list(row)
        for at, parse in where:
            if values[at] is not None:
                values[at] = parse(values[at])
        latest.append(dict(zip(names, values, strict=True)))
    return latest


def key_sources(conn: Connection, table: Table, keys: Iterable[str], exclude_source: str) -> dict[str, str]:
    """The source holding each of `keys` outside `exclude_source` (looked up on the key index)."""
    found: dict[str, str] = {}
    for chunk in _chunks(sorted(set(keys)), _LOOKUP):
        query = select(table.c.key, table.c.source).distinct().where(table.c.key.in_(chunk),
                                                                     table.c.source != exclude_source)
        for key, source in conn.execute(query):
            found.setdefault(key, source)
    return found


def keys_present(conn: Connection, table: Table, keys: Iterable[str], column: str = "key") -> set[str]:
    """Which of `keys` appear in `column` of `table`."""
    found: set[str] = set()
    target = table.c[column]
    wanted = set(keys)
    if len(wanted) > SCAN_THRESHOLD:
        return {value for (value,) in conn.execute(select(target).distinct()) if value in wanted}
    for chunk in _chunks(sorted(wanted), _LOOKUP):
        found.update(value for (value,) in conn.execute(select(target).distinct().where(target.in_(chunk))))
    return found
