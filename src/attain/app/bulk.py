"""The bulk calculation from the store: every payee of every plan in force, at volume, as payout lines.

`attain calc` from the store reads every record into Python objects: right for statements and
explanations, impossible at millions of deals. A bulk run instead reads deals and splits from
the store's columnar segments (storage/segments.py) with DuckDB, takes the latest version per
key as known at an import (the store's rule), and hands those relations to the vectorized
executor's plan compiler. The small record kinds (participants, quotas, metrics, rates) are read
from the database by the store's own code, so org terms, quota changes, proration and ramps
follow the reference rules exactly. The payout lines (participant, plan, sub-period,
component, amount) are written to one Parquet file.

A plan the bulk run cannot compute (plan-wide caps and floors, roll-up crediting, or what the
vectorized executor refuses) is refused with UnsupportedError before anything is read or
written. The compiled SQL is kept per connection (engine.vectorized.bulk) and reused while the
plan, the period and the column types stay the same. The resolved small tables are kept as
Parquet beside the segments, keyed by the last import of their kinds, so a second run (another
plan, a re-run after new deals) does not resolve 100,000 participants and quotas again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attain.app.imports import BULK_RESOLVED_KINDS
from attain.core.errors import DataError, NotFoundError, UnsupportedError
from attain.core.periods import FiscalCalendar, Period, parse_period

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from attain.app.workspace import Workspace
    from attain.core.plan import Plan
    from attain.engine.vectorized.bulk import BulkQuery
    from attain.storage.segments import Segment

VIEW_PREFIX = "attain_bulk_"
DEAL_COLUMNS = ("deal_id", "owner_id", "amount", "currency", "status", "booked_on", "signed_on", "invoiced_on",
                "recognized_on", "delivered")
SPLIT_COLUMNS = ("deal_id", "participant_id", "share", "role")
DECIMALS = {"deals": ("amount", "delivered"), "splits": ("share",)}


@dataclass(frozen=True, slots=True, kw_only=True)
class BulkReport:
    """What a bulk run did: the lines it wrote, where, and how long each step took."""

    period: str
    upto_import: int
    plans: tuple[str, ...]
    output: Path
    lines: int
    payees: int
    total: Decimal
    segments: int
    segments_rebuilt: int
    seconds: dict[str, float] = field(default_factory=dict)


def refuse_for_bulk(plan: Plan) -> None:
    """Raise UnsupportedError for a plan the bulk run cannot compute (checked before anything runs)."""
    from attain.engine.vectorized.refusals import refuse_unsupported

    refuse_unsupported(plan)
    where = f"plan {plan.id!r}: "
    if plan.cap is not None or plan.floor is not None:
        raise UnsupportedError(where + "plan-wide caps and floors are not computed by the bulk run "
                               "(use `attain calc --executor duckdb`)")
    if plan.crediting.rollup:
        raise UnsupportedError(where + "roll-up crediting is not computed by the bulk run (use `attain calc`)")


def bulk_calculate(
    ws: Workspace,
    period_label: str,
    *,
    plan_ids: Sequence[str] = (),
    as_of: datetime | None = None,
    output: Path | None = None,
    connection: Any = None,
    rebuild_segments: bool = False,
    progress: Callable[[str], None] | None = None,
) -> BulkReport:
    """Calculate every plan in force (or those named) for `period_label` from the store, as known
    at `as_of`, and write its payout lines to `output` (default: the workspace's store/bulk/).
    `progress` is told each step as it starts (reading the store, each plan compiled or found
    kept, calculating)."""
    from attain.app.plan_versions import refuse_failing_check, single_versions
    from attain.app.runs import load_plans
    from attain.storage.segments import segments_folder
    from attain.storage.versions import known_import

    calendar = ws.settings.calendar
    try:
        period = parse_period(period_label, calendar)
    except ValueError as exc:
        raise DataError(f"--period: {exc}") from None
    step = progress or (lambda _text: None)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    step("reading the store")
    with ws.engine.connect() as conn:
        upto = known_import(conn, as_of)
        plans = _choose(single_versions(load_plans(conn, ws, upto, period.last_day), period, calendar), plan_ids)
        refuse_failing_check(plans)
        for plan in plans:
            refuse_for_bulk(plan)
        target = output or ws.root / "store" / "bulk" / f"{period.label}-upto-{upto}.parquet"
        con = connection if connection is not None else _connect()
        folder = segments_folder(ws.root)
        segments, rebuilt = _register_segments(con, conn, folder, upto, rebuild_segments)
        small = _small_tables(conn, cache_folder(ws), upto, period, calendar)
    timings["read"] = time.perf_counter() - started
    lap = time.perf_counter()
    fx_counts = _register_small(con, small, plans)
    queries = []
    for plan in plans:
        step(f"preparing plan {plan.id}")
        queries.append((plan, _prepare(plan, period, calendar, con, fx_counts[plan.currency], fields=segments.fields,
                                       cache=cache_folder(ws) / "compiled")))
    timings["compile"] = time.perf_counter() - lap
    lap = time.perf_counter()
    step(f"calculating {len(plans)} plan(s) for {period.label}")
    lines, payees, total = _write_lines(con, queries, target)
    timings["calculate_and_write"] = time.perf_counter() - lap
    timings["total"] = time.perf_counter() - started
    return BulkReport(period=period.label, upto_import=upto, plans=tuple(p.id for p in plans), output=target,
                      lines=lines, payees=payees, total=total, segments=segments.count, segments_rebuilt=rebuilt,
                      seconds={k: round(v, 3) for k, v in timings.items()})


def rebuild_segments(ws: Workspace) -> int:
    """Write every segment again from the database; returns how many were written."""
    from attain.storage.segments import SEGMENT_KINDS, ensure_segments, segments_folder
    from attain.storage.versions import known_import

    count = 0
    with ws.engine.connect() as conn:
        upto = known_import(conn, None)
        for kind in SEGMENT_KINDS:
            count += ensure_segments(conn, segments_folder(ws.root), kind, upto, rebuild=True)[1]
    return count


def _connect() -> Any:
    return _DuckDB()


class _DuckDB:
    """The DuckDB connection of a bulk run. Its Ibis backend is made only when a plan has to be
    compiled: a plan kept compiled on disk (engine.vectorized.bulk.kept) runs as SQL, and the
    run does not import Ibis at all (about a second of a new process's start)."""

    name = "duckdb"

    def __init__(self) -> None:
        import duckdb

        # As Ibis connects: no insertion order to keep; a name the SQL does not know is an error,
        # never a Python variable of that name.
        self.con = duckdb.connect(config={"preserve_insertion_order": False, "python_enable_replacements": False})
        # DuckDB's own progress bar is off: the command shows the run's steps itself.
        self.con.execute("SET enable_progress_bar = false")
        self._backend: Any = None

    @property
    def backend(self) -> Any:
        if self._backend is None:
            import ibis

            self._backend = ibis.duckdb.from_connection(self.con)
        return self._backend

    def table(self, name: str) -> Any:
        return self.backend.table(name)

    def compile(self, expr: Any) -> Any:
        return self.backend.compile(expr)

    def _run_pre_execute_hooks(self, expr: Any) -> None:
        self.backend._run_pre_execute_hooks(expr)


def _choose(plans: list[Plan], plan_ids: Sequence[str]) -> list[Plan]:
    if not plans:
        raise NotFoundError("no plans in this workspace: put plan files in plans/ or `attain import plans plans/`")
    if not plan_ids:
        return plans
    known = {p.id: p for p in plans}
    missing = [i for i in plan_ids if i not in known]
    if missing:
        raise NotFoundError(f"no plan {', '.join(map(repr, missing))} in force (known: {', '.join(sorted(known))})")
    return [known[i] for i in dict.fromkeys(plan_ids)]


# -- deals and splits: the latest version per key, from the segments ------------------------------


@dataclass(frozen=True, slots=True)
class _Registered:
    count: int
    fields: frozenset[str]


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _files(paths: Sequence[Path]) -> str:
    return "[" + ", ".join(_quote(str(p)) for p in paths) + "]"


def _latest_sql(kind: str, segments: Sequence[Segment], columns: Sequence[str]) -> str:
    """SQL for the latest version per (source, key) among `segments`, with `columns` selected.

    Each Parquet file keeps its own decimal scales; files are read in groups of equal scales and
    cast to the widest scale before they are put together (DuckDB would otherwise give the
    union the first file's type). Keys of imports that only added new keys have one version:
    only the keys some segment changed (a version above 1) go through the max-version choice,
    and the large scan is one pass with an anti-join against that small set.
    """
    import pyarrow.parquet as pq

    groups: dict[tuple[str, ...], list[Path]] = {}
    scales: dict[str, int] = {}
    whole: dict[str, int] = {}
    for segment in segments:
        schema = pq.read_schema(segment.path)
        types = tuple(str(schema.field(name).type) for name in DECIMALS[kind])
        groups.setdefault(types, []).append(segment.path)
        for name in DECIMALS[kind]:
            kind_of = schema.field(name).type
            scales[name] = max(scales.get(name, 0), kind_of.scale)
            whole[name] = max(whole.get(name, 0), kind_of.precision - kind_of.scale)
    casts = ", ".join(f"CAST({name} AS DECIMAL({min(38, whole[name] + scales[name])}, {scales[name]})) AS {name}"
                      for name in DECIMALS[kind])
    parts = [f"SELECT * REPLACE ({casts}) FROM read_parquet({_files(paths)}, union_by_name = true)"
             for paths in groups.values()]
    every = parts[0] if len(parts) == 1 else " UNION ALL BY NAME ".join(f"({p})" for p in parts)
    selected = ", ".join(columns)
    changed = [s.path for s in segments if s.changed]
    if not changed:
        return f"SELECT {selected} FROM ({every})"
    keys = f"(SELECT DISTINCT source, key FROM read_parquet({_files(changed)}, union_by_name = true) WHERE version > 1)"
    return (f"SELECT {selected} FROM ({every}) ANTI JOIN {keys} USING (source, key) "
            f"UNION ALL SELECT {selected} FROM (SELECT * FROM ({every}) SEMI JOIN {keys} USING (source, key) "
            f"QUALIFY version = max(version) OVER (PARTITION BY source, key))")


EMPTY = {
    "deals": "SELECT NULL::VARCHAR AS deal_id, NULL::VARCHAR AS owner_id, NULL::DECIMAL(38, 2) AS amount, "
             "NULL::VARCHAR AS currency, NULL::VARCHAR AS status, NULL::DATE AS booked_on, NULL::DATE AS signed_on, "
             "NULL::DATE AS invoiced_on, NULL::DATE AS recognized_on, NULL::DECIMAL(38, 4) AS delivered WHERE false",
    "splits": "SELECT NULL::VARCHAR AS deal_id, NULL::VARCHAR AS participant_id, NULL::DECIMAL(38, 4) AS share, "
              "NULL::VARCHAR AS role WHERE false",
}


def _register_segments(con: Any, conn: Connection, folder: Path, upto: int, rebuild: bool) -> tuple[_Registered, int]:
    """Views `attain_bulk_deals` and `attain_bulk_splits` over the segments known by `upto`."""
    import pyarrow.parquet as pq

    from attain.storage.segments import FIELD_PREFIX, ensure_segments

    deals, rebuilt_deals = ensure_segments(conn, folder, "deals", upto, rebuild)
    splits, rebuilt_splits = ensure_segments(conn, folder, "splits", upto, rebuild)
    names: set[str] = set()
    for segment in deals:
        names.update(n for n in pq.read_schema(segment.path).names if n.startswith(FIELD_PREFIX))
    fields = frozenset(n[len(FIELD_PREFIX):] for n in names)
    if deals:
        field_columns = [_identifier(n) for n in sorted(names)]
        deal_sql = _latest_sql("deals", deals, [*DEAL_COLUMNS, *field_columns])
    else:
        deal_sql = EMPTY["deals"]
    split_sql = (f"SELECT * FROM ({_latest_sql('splits', splits, SPLIT_COLUMNS)}) WHERE participant_id IS NOT NULL"
                 if splits else EMPTY["splits"])
    con.con.execute(f"CREATE OR REPLACE TEMP VIEW {VIEW_PREFIX}deals AS {deal_sql}")
    con.con.execute(f"CREATE OR REPLACE TEMP VIEW {VIEW_PREFIX}splits AS {split_sql}")
    return _Registered(count=len(deals) + len(splits), fields=fields), rebuilt_deals + rebuilt_splits


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# -- participants, quotas, metrics and rates: small, read by the store's own rules --------------------




@dataclass(frozen=True, slots=True)
class _Small:
    tables: dict[str, Any]  # name -> Arrow table (participants, quotas, observations)
    rates: tuple[Any, ...]


def _small_tables(conn: Connection, cache: Path, upto: int, period: Period, calendar: FiscalCalendar) -> _Small:
    """Participants (role and team as of the period's last day), resolved quotas and metrics as
    `read_dataset` gives them, as Arrow tables: cut for `period` from the resolved tables of the
    store as known at `upto` (`resolved_small`), which do not depend on the period."""
    from attain.engine.vectorized.sources import period_tables
    from attain.storage.snapshot import widen_to_years

    resolved = resolved_small(conn, cache, upto, calendar)
    tables = period_tables(resolved, period, calendar, widen_to_years(period, calendar))
    return _Small(tables=tables, rates=_decoded(conn, "rates", upto))


RESOLVED_TABLES = ("people", "terms", "quotas", "observations")
KEPT_RESOLVED = 4  # states of the store kept resolved (older ones, for runs as of an earlier import, are made again)


def resolved_small(conn: Connection, cache: Path, upto: int, calendar: FiscalCalendar) -> dict[str, Any]:
    """People, org terms, resolved quotas (changes, proration, ramps) and metric observations of
    every period, as known at `upto`. Resolving them walks every record in Python (seconds at
    100,000 participants), so the result is kept as Parquet under `cache`, named by what it
    depends on: the last import of participants, quotas and metrics known at `upto`, and the
    calendar. An import of those kinds prepares it (`prepare_bulk_reads`), so the first bulk run
    after it does not wait for it. Written to a temporary folder and renamed: a reader never sees
    a half-written one."""
    import hashlib

    import pyarrow.parquet as pq
    from sqlalchemy import func, select

    from attain import __version__
    from attain.engine.vectorized.bulk import publish_folder
    from attain.storage.schema import imports

    last = {str(k): int(i) for k, i in conn.execute(
        select(imports.c.kind, func.max(imports.c.id))
        .where(imports.c.kind.in_(BULK_RESOLVED_KINDS), imports.c.id <= upto).group_by(imports.c.kind))}
    # The stamp's text is that of earlier releases (the cache folders they wrote stay valid).
    stamp = repr((__version__, sorted(last.items()), calendar))
    folder = cache / ("resolved-" + hashlib.sha256(stamp.encode()).hexdigest()[:24])
    if _complete(folder):
        return _read_resolved(folder)
    basis = repr((__version__, calendar))
    manifest = {"basis": basis, "last": last}
    tables = _resolve_from_nearest(conn, cache, upto, calendar, last, basis)
    if tables is None:
        tables = _resolve_small(conn, upto, calendar)

    def fill(temporary: Path) -> None:
        for name, table in tables.items():
            pq.write_table(table, temporary / f"{name}.parquet")
        (temporary / MANIFEST).write_text(json.dumps(manifest, sort_keys=True), encoding="utf-8")

    publish_folder(folder, fill, "resolved-", KEPT_RESOLVED)
    return tables


MANIFEST = "manifest.json"
# Above this many changed participants (and a tenth of everyone), resolving everyone is as quick.
PATCH_LIMIT = 5_000
# Each resolved table's order: the order a resolution of everyone gives (by participant first).
RESOLVED_ORDER: dict[str, list[tuple[str, str]]] = {
    "people": [("participant_id", "ascending")],
    "terms": [("participant_id", "ascending"), ("_from", "ascending")],
    "quotas": [("participant_id", "ascending"), ("metric", "ascending"), ("period", "ascending")],
    "observations": [("participant_id", "ascending"), ("metric", "ascending"), ("period", "ascending")],
}


def _complete(folder: Path) -> bool:
    return all((folder / f"{name}.parquet").exists() for name in RESOLVED_TABLES)


def _read_resolved(folder: Path) -> dict[str, Any]:
    import pyarrow.parquet as pq

    # ParquetFile, not read_table: read_table imports pyarrow.dataset (and pandas), 0.4 s.
    return {name: pq.ParquetFile(folder / f"{name}.parquet").read() for name in RESOLVED_TABLES}


def _resolve_from_nearest(conn: Connection, cache: Path, upto: int, calendar: FiscalCalendar,
                          last: dict[str, int], basis: str) -> dict[str, Any] | None:
    """The resolved tables, from a kept state of an earlier store with only the participants
    whose records changed since resolved again (None when there is no such state, or too many
    changed). Resolution is per participant: a participant's people, terms, quotas and
    observations rows depend on their own records only (build_org, resolve_quotas), so the
    other participants' rows of the earlier state are what a full resolution would give."""
    nearest: tuple[int, Path, dict[str, int]] | None = None
    for folder in cache.glob("resolved-*"):
        try:
            manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        earlier = {str(k): int(v) for k, v in manifest.get("last", {}).items()}
        # Usable when it saw, of each kind, a prefix of what this state sees.
        if manifest.get("basis") != basis or any(v > last.get(k, 0) for k, v in earlier.items()):
            continue
        if not _complete(folder):
            continue
        closeness = sum(earlier.values())
        if nearest is None or closeness > nearest[0]:
            nearest = (closeness, folder, earlier)
    if nearest is None:
        return None
    _, folder, earlier = nearest
    changed = _changed_participants(conn, earlier, last)
    try:
        old = _read_resolved(folder)
    except (OSError, ValueError):  # pruned by another process meanwhile (pyarrow's errors are both)
        return None
    if len(changed) > max(PATCH_LIMIT, old["people"].num_rows // 10):
        return None
    return _patched(old, _resolve_participants(conn, upto, calendar, changed), changed)


def _changed_participants(conn: Connection, earlier: dict[str, int], last: dict[str, int]) -> set[str]:
    """Participants with a version of their participant, quota or metric records among the
    imports after `earlier` (per kind) up to `last`."""
    from sqlalchemy import select

    from attain.storage.schema import VERSIONED

    changed: set[str] = set()
    for kind in BULK_RESOLVED_KINDS:
        table = VERSIONED[kind]
        since, until = earlier.get(kind, 0), last.get(kind, 0)
        if until > since:
            changed.update(pid for (pid,) in conn.execute(
                select(table.c.participant_id).distinct()
                .where(table.c.import_id > since, table.c.import_id <= until)))
    return changed


def _resolve_participants(conn: Connection, upto: int, calendar: FiscalCalendar, ids: set[str]) -> dict[str, Any]:
    """`_resolve_small` for these participants only (their latest versions, read by participant)."""
    from attain.engine.vectorized.sources import resolved_tables
    from attain.formats.datafolder import assemble_dataset
    from attain.storage.codecs import CODECS
    from attain.storage.payee_reads import latest_of_participants

    def decoded(kind: str) -> list[Any]:
        return [CODECS[kind].decode(r) for r in latest_of_participants(conn, kind, upto, ids)]

    data = assemble_dataset(participants=decoded("participants"), deals=[], splits=[], quotas=decoded("quotas"),
                            observations=decoded("metrics"), rates=[], calendar=calendar)
    return resolved_tables(data)


def _patched(old: dict[str, Any], fresh: dict[str, Any], changed: set[str]) -> dict[str, Any]:
    """The earlier state's tables with the changed participants' rows replaced by `fresh`, in the
    order and with the decimal scale a resolution of everyone gives."""
    import pyarrow as pa
    import pyarrow.compute as pc

    ids = pa.array(sorted(changed), pa.string())
    tables = {}
    for name in RESOLVED_TABLES:
        kept = old[name].filter(pc.invert(pc.is_in(old[name]["participant_id"], value_set=ids)))
        parts = [kept, fresh[name]]
        if "places" in kept.column_names:
            # The value column's scale is the most places of its values (sources.decimal_column).
            column = "amount" if "amount" in kept.column_names else "value"
            places = [pc.max(t["places"]).as_py() for t in parts if t.num_rows]
            kind = pa.decimal128(38, max((p for p in places if p is not None), default=0))
            parts = [t.set_column(t.schema.get_field_index(column), column, t[column].cast(kind)) for t in parts]
        joined = pa.concat_tables(parts)
        # A term with no start date sorts first, as date.min does in build_org's sort.
        keyed = joined.append_column("_from", pc.fill_null(joined["effective_from"], date.min)) \
            if name == "terms" else joined
        tables[name] = joined.take(pc.sort_indices(keyed, sort_keys=RESOLVED_ORDER[name]))
    return tables


def prepare_bulk_reads(ws: Workspace) -> None:
    """Resolve the store's participants, quotas and metrics for bulk runs now (after an import of
    one of those kinds), so the next bulk run reads them resolved."""
    from attain.storage.versions import known_import

    with ws.engine.connect() as conn:
        resolved_small(conn, cache_folder(ws), known_import(conn, None), ws.settings.calendar)


def cache_folder(ws: Workspace) -> Path:
    """Where bulk runs keep what they derive from the store (resolved small tables, compiled
    plans): beside the segments, safe to delete."""
    from attain.storage.segments import segments_folder

    return segments_folder(ws.root).parent / "cache"


def _decoded(conn: Connection, kind: str, upto: int) -> tuple[Any, ...]:
    from attain.storage.codecs import CODECS
    from attain.storage.schema import VERSIONED
    from attain.storage.versions import latest_versions

    codec = CODECS[kind]
    return tuple(codec.decode(r) for r in latest_versions(conn, VERSIONED[kind], upto))


def _resolve_small(conn: Connection, upto: int, calendar: FiscalCalendar) -> dict[str, Any]:
    from attain.engine.vectorized.sources import resolved_tables
    from attain.formats.datafolder import assemble_dataset

    data = assemble_dataset(
        participants=list(_decoded(conn, "participants", upto)), deals=[], splits=[],
        quotas=list(_decoded(conn, "quotas", upto)), observations=list(_decoded(conn, "metrics", upto)),
        rates=[], calendar=calendar,
    )
    return resolved_tables(data)


def _register_small(con: Any, small: _Small, plans: Sequence[Plan]) -> dict[str, int]:
    """Tables of participants, quotas and metrics, and one fx table per plan currency; returns
    the number of fx rows per currency."""
    import pyarrow as pa

    from attain.engine.vectorized.sources import FX, decimal_column, fx_rows

    for name, table in small.tables.items():
        con.con.register(f"{VIEW_PREFIX}{name}", table)
    currencies: set[str] = set()
    if small.rates:
        currencies = {r[0] for r in con.con.sql(f"SELECT DISTINCT currency FROM {VIEW_PREFIX}deals").fetchall()}
    counts = {}
    for currency in sorted({p.currency for p in plans}):
        rows = fx_rows(small.rates, currencies, currency)
        table = pa.table({
            "currency": pa.array([r["currency"] for r in rows], pa.string()),
            "valid_from": pa.array([r["valid_from"] for r in rows], pa.date32()),
            "valid_to": pa.array([r["valid_to"] for r in rows], pa.date32()),
            "rate": decimal_column([r["rate"] for r in rows], "a currency rate"),
        }, schema=FX if not rows else None)
        con.con.register(f"{VIEW_PREFIX}fx_{currency.lower()}", table)
        counts[currency] = len(rows)
    return counts


# -- compile once, run as SQL ------------------------------------------------------------------------------


def _schema_key(con: Any, names: Sequence[str]) -> tuple[Any, ...]:
    return tuple((name, tuple(con.con.sql(f"DESCRIBE {name}").fetchall())) for name in names)


def _prepare(plan: Plan, period: Period, calendar: FiscalCalendar, con: Any, fx_count: int,
             fields: frozenset[str], cache: Path | None = None) -> BulkQuery:
    """The plan's query over the registered views: kept per connection, and on disk under `cache`
    (if given) for the next process, keyed by the plan's full content, the period, the calendar,
    the views' column types and the library versions."""
    from attain.engine.vectorized.bulk import cached, compile_sources, kept, library_versions

    fx_name = f"{VIEW_PREFIX}fx_{plan.currency.lower()}"
    names = [f"{VIEW_PREFIX}{n}" for n in ("deals", "splits", "participants", "quotas", "observations")]
    key = (plan, period, calendar, fields, fx_count, _schema_key(con, [*names, fx_name]))

    def build() -> BulkQuery:
        from attain.engine.vectorized.numeric import PROFILES
        from attain.engine.vectorized.sources import Sources

        sources = Sources(
            deals=con.table(f"{VIEW_PREFIX}deals"), splits=con.table(f"{VIEW_PREFIX}splits"),
            participants=con.table(f"{VIEW_PREFIX}participants"), quotas=con.table(f"{VIEW_PREFIX}quotas"),
            observations=con.table(f"{VIEW_PREFIX}observations"), fx=con.table(fx_name), chain=None,
            field_names=fields, fx_rows=fx_count,
        )
        return compile_sources(plan, period, sources, con, calendar, PROFILES[con.name])

    if cache is None or con.name != "duckdb":
        return cached(con, key, build)
    # Safe to keep on disk: the sources are views and carry no DataSet, so the in-memory tables
    # the compiled SQL names (sub-periods, pool buckets) derive from the plan, the period and the
    # calendar only, all in the key; every datum is read through the views when the SQL runs.
    text = repr((library_versions(), plan, period, calendar, sorted(fields), fx_count, key[-1]))
    return cached(con, key, lambda: kept(cache, text, build))


def _write_lines(con: Any, queries: Sequence[tuple[Plan, BulkQuery]], target: Path) -> tuple[int, int, Decimal]:
    """Run every plan's query and write its payout lines, one row per payee, sub-period and
    component, to `target` (Parquet, written under a temporary name and renamed)."""
    from attain.core.money import minor_unit
    from attain.engine.vectorized.bulk import register

    parts = []
    for plan, query in queries:
        places = -int(minor_unit(plan.currency).as_tuple().exponent)
        register(query, con)
        columns = ", ".join(_identifier(c) for c in query.components)
        parts.append(f"SELECT participant_id, {_quote(plan.id)} AS plan_id, sub AS period, component, "
                     f"CAST(amount AS DECIMAL(38, {places})) AS amount, {_quote(plan.currency)} AS currency "
                     f"FROM ({query.sql}) UNPIVOT (amount FOR component IN ({columns}))")
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    con.con.execute(f"COPY ({' UNION ALL '.join(parts)}) TO {_quote(str(temporary))} (FORMAT parquet)")
    temporary.replace(target)
    lines, payees, total = con.con.sql(
        f"SELECT count(*), count(DISTINCT participant_id), coalesce(sum(amount), 0) "
        f"FROM read_parquet({_quote(str(target))})").fetchall()[0]
    return int(lines), int(payees), Decimal(total)


__all__ = ["BulkReport", "bulk_calculate", "rebuild_segments", "refuse_for_bulk"]
