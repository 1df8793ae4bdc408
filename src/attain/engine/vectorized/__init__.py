"""The vectorized executor: a plan compiled to Ibis and run set-at-a-time on DuckDB, PostgreSQL or Spark.

`calculate_vectorized` is the counterpart of engine.reference.calculate: same inputs, the same
CalcResult (lines, reasons, per-deal attribution, problems), to the cent. `run_bulk` is for
volumes that never become Python objects: transactions are read from Parquet by the backend
and the payout lines come back as one Arrow table (or are written to Parquet).

This package is the only part of the engine that imports Ibis; the mechanics it compiles stay
pure (engine.columns).
"""

from __future__ import annotations

import os
from collections.abc import Collection
from pathlib import Path
from typing import Any

from attain.core.dataset import DataSet
from attain.core.errors import UnsupportedError
from attain.core.money import calculation_context
from attain.core.periods import CALENDAR, FiscalCalendar, Period
from attain.core.plan import Plan

EXECUTORS = ("duckdb", "postgres", "spark")
POSTGRES_URL_ENV = "ATTAIN_POSTGRES_URL"


def connect(executor: str = "duckdb", url: str | None = None, session: Any = None) -> Any:
    """An Ibis backend for `executor`: in-process DuckDB, a PostgreSQL database, or a Spark session."""
    import ibis

    if executor == "duckdb":
        return ibis.duckdb.connect(url or ":memory:")
    if executor == "postgres":
        target = url or os.environ.get(POSTGRES_URL_ENV)
        if not target:
            raise UnsupportedError(f"the postgres executor needs a database URL (set {POSTGRES_URL_ENV})")
        return ibis.connect(target.replace("postgresql+psycopg://", "postgres://"))
    if executor == "spark":
        if session is None:
            from pyspark.sql import SparkSession

            session = SparkSession.builder.appName("attain").getOrCreate()
        return ibis.pyspark.connect(session)
    raise UnsupportedError(f"unknown executor {executor!r} (known: {', '.join(EXECUTORS)})")


def _profile(con: Any) -> Any:
    from attain.engine.vectorized.numeric import PROFILES

    name = con.name
    if name == "pyspark":
        # Spark widens the precision of every DECIMAL product and fails (ANSI) or returns null
        # once 38 digits are reached; the exact fractions here overflow it on realistic amounts.
        # Refused rather than run with different numbers until the Spark profile is exact.
        raise UnsupportedError("the Spark executor cannot yet compute plans exactly (Spark DECIMAL products "
                               "overflow); use duckdb or postgres")
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
    from attain.engine.vectorized.compiler import compile_plan, refuse_unsupported
    from attain.engine.vectorized.crediting import credit_problems
    from attain.engine.vectorized.materialize import Originals, build_result
    from attain.engine.vectorized.numeric import Exact
    from attain.engine.vectorized.sources import from_dataset

    refuse_unsupported(plan)
    con = connection if connection is not None else connect(executor)
    with calculation_context():
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


def run_bulk(plan: Plan, folder: Path, period: Period, executor: str = "duckdb", calendar: FiscalCalendar = CALENDAR,
             connection: Any = None, output: Path | None = None) -> Any:
    """Payout amounts for every payee from Parquet files in `folder` (see sources.from_parquet).

    Returns an Arrow table with one row per payee and sub-period and one amount column per
    component (`<component id>`), or writes it to `output` as Parquet and returns None.
    Per-deal attribution and reasons are not produced at this volume; plan-wide caps and
    floors (which need every line of a payee at once) are refused here.
    """
    from attain.engine.vectorized.compiler import compile_plan, refuse_unsupported
    from attain.engine.vectorized.numeric import Exact
    from attain.engine.vectorized.sources import from_parquet

    refuse_unsupported(plan)
    if plan.cap is not None or plan.floor is not None:
        raise UnsupportedError("plan-wide caps and floors are not computed by the bulk run (use calculate_vectorized)")
    if plan.crediting.rollup:
        raise UnsupportedError("roll-up crediting is not computed by the bulk run (use calculate_vectorized)")
    con = connection if connection is not None else connect(executor)
    with calculation_context():
        ops = Exact(_profile(con))
        sources = from_parquet(con, folder, calendar)
        compiled = compile_plan(plan, period, sources, ops, calendar, attribution=False)
        tables = []
        for kind_plan in compiled.kinds:
            table = kind_plan.table
            amounts = {component.id: table[f"c{index}_amount"] for index, component in kind_plan.components}
            tables.append(table.select("participant_id", "sub", **amounts))
        if len(tables) != 1:
            raise UnsupportedError("the bulk run computes plans whose components share one period length")
        result = tables[0]
        if output is not None:
            con.to_parquet(result, str(output))
            return None
        return con.to_pyarrow(result)


__all__ = ["EXECUTORS", "calculate_vectorized", "connect", "run_bulk"]
