"""The vectorized executor: a plan compiled to Ibis and run set-at-a-time on DuckDB, PostgreSQL or Spark.

`calculate_vectorized` is the counterpart of engine.reference.calculate: same inputs, the same
CalcResult (lines, reasons, per-deal attribution, problems), to the cent. `run_bulk` is for
volumes that never become Python objects: transactions are read from Parquet by the backend
and the payout lines come back as one Arrow table (or are written to Parquet).

This package is the only part of the engine that imports Ibis; the mechanics it compiles stay
pure (engine.columns).
"""

from __future__ import annotations

import atexit
import contextlib
import os
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path
from typing import Any

from attain.core.dataset import DataSet
from attain.core.errors import UnsupportedError
from attain.core.money import calculation_context
from attain.core.periods import CALENDAR, FiscalCalendar, Period
from attain.core.plan import Plan

EXECUTORS = ("duckdb", "postgres", "spark")
_EXTRA = "pip install 'attain[{}]'"
POSTGRES_URL_ENV = "ATTAIN_POSTGRES_URL"
# Also set by connect("spark"), for speed and depth rather than exactness: a compiled plan nests
# deeply (Spark's analyzer gives up after 100 passes by default), and with Arrow the small
# in-memory tables of a calculation become local relations instead of RDDs of pickled rows.
# Spark also keeps the plan of every finished query for its UI (1,000 by default), and a compiled
# plan is large: a long-lived session would fill its heap with them (a startup setting, so only a
# session connect() builds gets it).
# Its console progress bars would be written over a command's own output.
SPARK_TUNING = {"spark.sql.analyzer.maxIterations": "1000", "spark.sql.execution.arrow.pyspark.enabled": "true",
                "spark.sql.ui.retainedExecutions": "50", "spark.ui.showConsoleProgress": "false"}


def connect(executor: str = "duckdb", url: str | None = None, session: Any = None,
            conf: Mapping[str, str] | None = None) -> Any:
    """An Ibis backend for `executor`: in-process DuckDB, a PostgreSQL database, or a Spark session
    (`session`, or one built with the settings `conf`, such as `spark.master`, over the ones below)."""
    import ibis

    if executor == "duckdb":
        return ibis.duckdb.connect(url or ":memory:")
    if executor == "postgres":
        target = url or os.environ.get(POSTGRES_URL_ENV)
        if not target:
            raise UnsupportedError(f"the postgres executor needs a database URL (set {POSTGRES_URL_ENV})")
        try:
            con = ibis.connect(target.replace("postgresql+psycopg://", "postgres://"))
        except ImportError as exc:
            raise UnsupportedError(f"the postgres executor needs the postgres extra: {_EXTRA.format('postgres')}"
                                   ) from exc
        # A compiled plan is one long expression over few rows per payee: its cost estimate passes
        # jit_above_cost, and JIT-compiling it takes PostgreSQL minutes (and gigabytes) for a
        # query that runs in milliseconds.
        con.raw_sql("SET jit = off").close()
        return con
    if executor == "spark":
        from attain.engine.vectorized.numeric import SPARK_SETTINGS

        try:
            import pyspark  # noqa: F401
        except ImportError as exc:
            raise UnsupportedError(f"the spark executor needs the spark extra (and Java 17): {_EXTRA.format('spark')}"
                                   ) from exc

        # The caller's settings win over the tuning; the exactness settings are checked below
        # (a session that contradicts them is refused, never silently used).
        wanted = {**SPARK_SETTINGS, **SPARK_TUNING, **(conf or {})}
        if session is None:
            from pyspark.sql import SparkSession

            running = SparkSession.getActiveSession()
            builder = SparkSession.builder.appName("attain")
            for key, value in wanted.items():
                builder = builder.config(key, value)
            session = builder.getOrCreate()
            if running is None:
                # Stopped when the process ends, before PySpark shuts its gateway down (atexit runs
                # last in, first out): a cluster's executors are released, not killed with the JVM.
                # A session this process already had (a run's earlier plan) is registered once.
                atexit.register(session.stop)
        con = ibis.pyspark.connect(session)
        # Set on the session, also on one passed in (they are per-session SQL settings), where it
        # differs; a platform may refuse to set one, so a tuning setting is optional and the
        # exactness settings are then checked (a cluster's own configuration may hold them).
        for key, value in wanted.items():
            if _spark_conf(session, key) != value:
                with contextlib.suppress(Exception):
                    session.conf.set(key, value)
        _spark_settings(con)
        return con
    raise UnsupportedError(f"unknown executor {executor!r} (known: {', '.join(EXECUTORS)})")


def _spark_settings(con: Any) -> None:
    """Refuse a Spark session whose DECIMAL arithmetic could round or overflow to null silently."""
    from attain.engine.vectorized.numeric import SPARK_SETTINGS

    wrong = [f"{key}={value}" for key, value in SPARK_SETTINGS.items() if _spark_conf(con._session, key) != value]
    if wrong:
        raise UnsupportedError(
            f"the Spark executor needs the session settings {', '.join(wrong)} (without them Spark rounds "
            "DECIMAL results to fewer places or turns an overflow into null); connect with "
            "attain.engine.vectorized.connect('spark', session=...), which sets them")


def _spark_conf(session: Any, key: str) -> str | None:
    """A session setting as lower-case text (its default if unset; None if Spark has no such setting)."""
    try:
        value = session.conf.get(key)
    except Exception:
        return None
    return None if value is None else str(value).strip().lower()


def _profile(con: Any) -> Any:
    from attain.engine.vectorized.numeric import PROFILES

    name = con.name
    if name == "pyspark":
        _spark_settings(con)
    if name not in PROFILES:
        raise UnsupportedError(f"the vectorized executor does not know the {name} backend")
    return PROFILES[name]


def calculate_vectorized(
    plan: Plan,
    data: DataSet,
    period: Period,
    executor: str = "duckdb",
    calendar: FiscalCalendar = CALENDAR,
    connection: Any = None,
    only: Collection[str] | None = None,
    attribution: bool = True,
) -> Any:
    """engine.reference.calculate, vectorized: every covered payee's lines for `period`.

    Refuses (UnsupportedError) a plan it cannot compute exactly before running anything.
    `connection` reuses an Ibis backend (see `connect`); `attribution=False` skips per-deal
    attribution (lines then carry no deals).
    """
    from attain.engine.vectorized.compiler import compile_plan
    from attain.engine.vectorized.crediting import credit_problems
    from attain.engine.vectorized.materialize import Originals, build_result
    from attain.engine.vectorized.numeric import Exact
    from attain.engine.vectorized.refusals import refuse_unsupported
    from attain.engine.vectorized.sources import from_dataset

    refuse_unsupported(plan)
    con = connection if connection is not None else connect(executor)
    with calculation_context(), _releasing_parser_caches(con):
        ops = Exact(_profile(con))
        sources = from_dataset(data, period, plan.currency, calendar, rollup=plan.crediting.rollup)
        compiled = compile_plan(plan, period, sources, ops, calendar, attribution=attribution)
        kinds = []
        for kind_plan in compiled.kinds:
            rows = con.to_pyarrow(kind_plan.table).to_pylist()
            deal_rows = {}
            for index, table in kind_plan.attributions.items():
                ordered = table.order_by(["participant_id", "sub", "credit_date", "deal_id", "seq"])
                deal_rows[index] = con.to_pyarrow(ordered).to_pylist()
            kinds.append((kind_plan, rows, deal_rows))
        payees = con.to_pyarrow(compiled.payees).to_pylist()
        problems = credit_problems(compiled.credited, plan, con)
        wanted = set(only) if only is not None else None
        return build_result(plan, period, payees, kinds, Originals(data, plan), problems,
                            only=(lambda pid: pid in wanted) if wanted is not None else None)


def run_bulk(plan: Plan, folder: Path | str | Mapping[str, Any], period: Period, executor: str = "duckdb",
             calendar: FiscalCalendar = CALENDAR, connection: Any = None, output: Path | None = None) -> Any:
    """Payout amounts for every payee from Parquet files in `folder` (see sources.from_parquet),
    or from tables of the connection: a mapping of `deals`, `splits`, `participants` and
    `quotas` to table names or Ibis tables (a Spark table, a warehouse table; sources.from_tables).

    Returns an Arrow table with one row per payee and sub-period and one amount column per
    component (`<component id>`; null on the rows of another period length when components
    differ in it), or writes it to `output` as Parquet and returns None. The plan is compiled
    once per connection, plan version and input files (engine.vectorized.bulk).
    Per-deal attribution and reasons are not produced at this volume; plan-wide caps and
    floors (which need every line of a payee at once) are refused here.
    """
    from attain.engine.vectorized import bulk
    from attain.engine.vectorized.refusals import refuse_unsupported

    refuse_unsupported(plan)
    if plan.cap is not None or plan.floor is not None:
        raise UnsupportedError("plan-wide caps and floors are not computed by the bulk run (use calculate_vectorized)")
    if plan.crediting.rollup:
        raise UnsupportedError("roll-up crediting is not computed by the bulk run (use calculate_vectorized)")
    con = connection if connection is not None else connect(executor)
    # A local folder (its files' sizes and times key the compiled query), a storage URL read by
    # the backend, or a mapping of tables.
    source = (str(folder) if isinstance(folder, str) and "://" in folder
              else Path(folder) if isinstance(folder, str | os.PathLike) else folder)
    with _releasing_parser_caches(con):
        query = bulk.prepare(plan, source, period, con, calendar, _profile(con))
        return bulk.execute(query, con, output)


@contextlib.contextmanager
def _releasing_parser_caches(con: Any) -> Iterator[None]:
    """On Spark, clear its SQL parser's caches once a calculation's queries have run.

    Spark parses the SQL text Ibis writes with ANTLR, which keeps what it learns from every
    statement in caches it never shrinks; a compiled plan is a long statement, and a session
    running many calculations filled a 1 GB driver heap with them until every query spent its
    time collecting garbage (SPARK-47404; Spark 4.1 adds settings for it). Clearing costs the
    next statement some parsing time, and keeps the driver's memory flat.
    """
    try:
        yield
    finally:
        if getattr(con, "name", None) == "pyspark":
            with contextlib.suppress(Exception):  # another Spark build may lay its parser out differently
                lexer, parser = spark_sql_parser(con._session)
                parser.getInterpreter().clearDFA()
                lexer.getInterpreter().clearDFA()


def spark_sql_parser(session: Any) -> tuple[Any, Any]:
    """A (lexer, parser) pair of Spark's SQL grammar in the session's JVM: every instance shares
    the grammar's ANTLR caches, so one reaches them."""
    jvm = session._jvm
    package = jvm.org.apache.spark.sql.catalyst.parser
    lexer = package.SqlBaseLexer(jvm.org.antlr.v4.runtime.CharStreams.fromString(""))
    return lexer, package.SqlBaseParser(jvm.org.antlr.v4.runtime.CommonTokenStream(lexer))


__all__ = ["EXECUTORS", "calculate_vectorized", "connect", "run_bulk", "spark_sql_parser"]
