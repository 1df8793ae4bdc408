"""The bulk run: a plan compiled once per plan version and data, then executed as SQL.

Building the Ibis expression of a plan and compiling it to SQL costs about a second for a plan
like the benchmark's (Ibis rewrites the nested selects), whatever the volume of data. A bulk
run therefore compiles once and keeps the compiled query, per connection, keyed by everything
the SQL depends on: the plan (its full content), the period and calendar, and what is read
(for Parquet files their paths, sizes and modification times, so a rewritten file is a new
query; callers reading other sources give their own key). Running the same plan version again
(a second period run, a re-run after a correction, a what-if on the same data) executes the SQL
without compiling it again.

The query has one row per payee and sub-period and one amount column per component; a plan
whose components have different period lengths (a quarterly bonus and a monthly SPIFF) has rows
for each length, with null in the columns of the components of the other length.

On DuckDB the SQL text is handed to DuckDB directly (Ibis would compile the expression a
second time before running it); other backends run the Ibis expression.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from attain.core.money import calculation_context, minor_unit
from attain.core.periods import FiscalCalendar, Period
from attain.core.plan import Plan

INPUT_FILES = ("deals", "splits", "participants", "quotas")
CACHE_SIZE = 16
KEPT_QUERIES = 64  # compiled queries kept on disk per workspace (`kept`)


@dataclass(frozen=True, slots=True)
class BulkQuery:
    """A compiled bulk run: one row per payee and sub-period, one amount column per component."""

    expr: Any
    sql: str | None
    components: tuple[str, ...]
    compile_seconds: float = 0.0
    # The in-memory tables the SQL names (sub-periods, quota periods), for a query read back
    # from disk (`kept`), which has no expression to register them from.
    tables: tuple[tuple[str, Any], ...] = ()


# Per connection object (the SQL names views registered on that very connection; Ibis backends
# compare equal by their connection arguments, so the key is the object's identity, dropped when
# the connection is collected), least recently used last.
_cache: dict[int, OrderedDict[Hashable, BulkQuery]] = {}
_lock = threading.Lock()


def cached(con: Any, key: Hashable, build: Callable[[], BulkQuery]) -> BulkQuery:
    """The query cached for `key` on `con`, else `build()` timed and kept (the 16 most recent)."""
    with _lock:
        queries = _cache.get(id(con))
        if queries is None:
            queries = _cache[id(con)] = OrderedDict()
            weakref.finalize(con, _cache.pop, id(con), None)
        hit = queries.get(key)
        if hit is not None:
            queries.move_to_end(key)
            return hit
    started = time.perf_counter()
    query = build()
    query = dataclasses.replace(query, compile_seconds=time.perf_counter() - started)
    with _lock:
        queries[key] = query
        while len(queries) > CACHE_SIZE:
            queries.popitem(last=False)
    return query


def kept(folder: Path, key: str, build: Callable[[], BulkQuery]) -> BulkQuery:
    """The DuckDB query compiled for `key`, read from `folder` if a process compiled it before,
    else `build()` and kept there: a new process (the next `attain bulk`) runs a plan version
    again without compiling it. Only for queries over views the caller registers under fixed
    names (the SQL names them), and `key` must say everything the SQL depends on, including the
    versions of the libraries that wrote it (`library_versions`). The SQL, its components and
    its in-memory tables are written to a temporary folder and renamed: never half-written."""
    import hashlib
    import json

    import pyarrow.parquet as pq

    place = folder / ("query-" + hashlib.sha256(key.encode()).hexdigest()[:32])
    index = place / "query.json"
    if index.exists():
        meta = json.loads(index.read_text(encoding="utf-8"))
        tables = tuple((name, pq.ParquetFile(place / f"{number}.parquet").read())
                       for number, name in enumerate(meta["tables"]))
        return BulkQuery(expr=None, sql=(place / "query.sql").read_text(encoding="utf-8"),
                         components=tuple(meta["components"]), tables=tables)
    query = build()
    sql = query.sql
    if sql is None:
        return query
    import ibis.expr.operations as ops

    memtables = sorted(query.expr.op().find(ops.InMemoryTable), key=lambda m: m.name)

    def fill(temporary: Path) -> None:
        for number, memtable in enumerate(memtables):
            pq.write_table(memtable.data.to_pyarrow(memtable.schema), temporary / f"{number}.parquet")
        (temporary / "query.sql").write_text(sql, encoding="utf-8")
        (temporary / "query.json").write_text(json.dumps({"components": list(query.components),
                                                          "tables": [m.name for m in memtables]}), encoding="utf-8")

    publish_folder(place, fill, "query-", KEPT_QUERIES)
    return query


def publish_folder(place: Path, fill: Callable[[Path], None], prefix: str, keep: int) -> None:
    """Write a cache folder whole or not at all: `fill` a temporary folder beside `place`, rename
    it into place (another process that got there first wrote the same content: it stays), then
    keep only the `keep` most recent `prefix*` folders."""
    import os
    import shutil

    temporary = place.with_name(f"{place.name}.{os.getpid()}.tmp")
    temporary.mkdir(parents=True, exist_ok=True)
    fill(temporary)
    try:
        temporary.replace(place)
    except OSError:
        shutil.rmtree(temporary, ignore_errors=True)
    prune(place.parent, prefix, keep)


def prune(folder: Path, prefix: str, keep: int) -> None:
    """Remove all but the `keep` most recently written `prefix*` folders of a cache: what they
    held can be derived again, and nothing else cleans them up."""
    import shutil

    found = sorted((p for p in folder.glob(f"{prefix}*") if p.is_dir() and not p.name.endswith(".tmp")),
                   key=lambda p: p.stat().st_mtime_ns, reverse=True)
    for old in found[keep:]:
        shutil.rmtree(old, ignore_errors=True)


def library_versions() -> tuple[str, ...]:
    """The versions the compiled SQL depends on: Attain's, Ibis's, sqlglot's and DuckDB's."""
    from importlib.metadata import version

    from attain import __version__

    return (__version__, *(version(name) for name in ("ibis-framework", "sqlglot", "duckdb")))


def _files_key(folder: Path) -> tuple[tuple[str, int, int], ...]:
    stamps = []
    for name in INPUT_FILES:
        path = (folder / f"{name}.parquet").resolve()
        stat = path.stat()
        stamps.append((str(path), stat.st_size, stat.st_mtime_ns))
    return tuple(stamps)


def prepare(plan: Plan, source: Path | str | Mapping[str, Any], period: Period, con: Any, calendar: FiscalCalendar,
            profile: Any) -> BulkQuery:
    """The compiled query for `plan` over the Parquet files in folder `source` (compiled on first
    use), or in a storage URL (`s3a://bucket/q1/`, read by the backend), or over the tables
    named in mapping `source` (compiled every time: what a URL or a table name holds can change
    under the same name)."""
    from attain.engine.vectorized.sources import BULK_TABLES, from_parquet, from_tables

    if isinstance(source, str):
        base = source.rstrip("/")
        source = {name: con.read_parquet(f"{base}/{name}.parquet") for name in BULK_TABLES}

    def build() -> BulkQuery:
        sources = (from_parquet(con, source, calendar) if isinstance(source, Path)
                   else from_tables(con, dict(source), calendar))
        return compile_sources(plan, period, sources, con, calendar, profile)

    if not isinstance(source, Path):
        started = time.perf_counter()
        query = build()
        return BulkQuery(expr=query.expr, sql=query.sql, components=query.components,
                         compile_seconds=time.perf_counter() - started)
    return cached(con, (plan, period, calendar, _files_key(source)), build)


def compile_sources(plan: Plan, period: Period, sources: Any, con: Any, calendar: FiscalCalendar,
                    profile: Any) -> BulkQuery:
    """Compile `plan` over `sources` (sources.Sources) to one query of amounts per payee and sub-period."""
    import ibis
    import ibis.expr.datatypes as dt

    from attain.engine.vectorized.compiler import compile_plan
    from attain.engine.vectorized.numeric import Exact

    with calculation_context():
        compiled = compile_plan(plan, period, sources, Exact(profile), calendar, attribution=False)
        money = dt.Decimal(38, max(0, -int(minor_unit(plan.currency).as_tuple().exponent)))
        names = tuple(component.id for component in plan.components)
        tables = []
        for kind_plan in compiled.kinds:
            table = kind_plan.table
            own = {component.id: index for index, component in kind_plan.components}
            amounts = {name: (table[f"c{own[name]}_amount"] if name in own else ibis.null()).cast(money)
                       for name in names}
            tables.append(table.select("participant_id", "sub", **amounts))
        if not tables:
            expr = ibis.memtable({"participant_id": [], "sub": [], **{n: [] for n in names}},
                                 schema={"participant_id": "string", "sub": "string", **{n: money for n in names}})
        else:
            expr = tables[0] if len(tables) == 1 else ibis.union(*tables, distinct=False)
        sql = str(con.compile(expr)) if con.name == "duckdb" else None
    return BulkQuery(expr=expr, sql=sql, components=names)


def execute(query: BulkQuery, con: Any, output: Path | None = None) -> Any:
    """Run a compiled bulk query: an Arrow table, or None once written to `output` as Parquet."""
    if query.sql is None:
        if output is not None:
            con.to_parquet(query.expr, str(output))
            return None
        return con.to_pyarrow(query.expr)
    register(query, con)
    if output is not None:
        con.con.sql(query.sql).write_parquet(str(output))
        return None
    return con.con.sql(query.sql).to_arrow_table()


def register(query: BulkQuery, con: Any) -> None:
    """Register with DuckDB the small in-memory tables the query reads (sub-periods, fx, quota
    periods), as Ibis does before running an expression, so `query.sql` can run as text."""
    if query.expr is None:
        for name, table in query.tables:
            con.con.register(name, table)
        return
    con._run_pre_execute_hooks(query.expr)


def clear_cache() -> None:
    with _lock:
        _cache.clear()


__all__ = ["BulkQuery", "cached", "clear_cache", "compile_sources", "execute", "kept", "library_versions", "prepare",
           "prune", "publish_folder", "register"]
