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

import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.datatypes as dt

from attain.core.money import calculation_context, minor_unit
from attain.core.periods import FiscalCalendar, Period
from attain.core.plan import Plan

INPUT_FILES = ("deals", "splits", "participants", "quotas")
CACHE_SIZE = 16


@dataclass(frozen=True, slots=True)
class BulkQuery:
    """A compiled bulk run: one row per payee and sub-period, one amount column per component."""

    expr: Any
    sql: str | None
    components: tuple[str, ...]
    compile_seconds: float = 0.0


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
    query = BulkQuery(expr=query.expr, sql=query.sql, components=query.components,
                      compile_seconds=time.perf_counter() - started)
    with _lock:
        queries[key] = query
        while len(queries) > CACHE_SIZE:
            queries.popitem(last=False)
    return query


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
    con._run_pre_execute_hooks(query.expr)


def clear_cache() -> None:
    with _lock:
        _cache.clear()


__all__ = ["BulkQuery", "cached", "clear_cache", "compile_sources", "execute", "prepare", "register"]
