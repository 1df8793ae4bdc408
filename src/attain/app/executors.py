"""Choosing the executor for a calculation: the reference engine or the vectorized one (DuckDB,
PostgreSQL, Spark). An executor asked for by name never falls back to another; `auto` chooses
before anything runs, and both engines give the same result to the cent."""

from __future__ import annotations

import os
from collections.abc import Collection
from typing import Any

from attain.core.dataset import DataSet
from attain.core.errors import UnsupportedError
from attain.core.periods import FiscalCalendar, Period
from attain.core.plan import Plan
from attain.engine.reference import calculate
from attain.engine.results import CalcResult
from attain.settings import Settings

EXECUTORS = ("auto", "reference", "duckdb", "postgres", "spark")
# Below this many payees the reference engine answers faster than compiling a plan to SQL
# (about 20 ms to build an Ibis expression, plus a backend start).
BULK_PAYEES = 2000


def choose_executor(executor: str, plan: Plan, data: DataSet, only: Collection[str] | None) -> str:
    """The executor that will run: `auto` means the reference engine for a single payee, a small
    population or a plan the vectorized executor refuses, and DuckDB otherwise."""
    if executor not in EXECUTORS:
        raise UnsupportedError(f"unknown executor {executor!r} (known: {', '.join(EXECUTORS)})")
    if executor != "auto":
        return executor
    if only or len(data.participants) < BULK_PAYEES:
        return "reference"
    try:
        from attain.engine.vectorized.refusals import refuse_unsupported
    except ImportError:  # the vector extra is not installed
        return "reference"
    try:
        refuse_unsupported(plan)
    except UnsupportedError:
        return "reference"
    return "duckdb"


def calculate_with(
    executor: str,
    plan: Plan,
    data: DataSet,
    period: Period,
    calendar: FiscalCalendar,
    only: Collection[str] | None = None,
    settings: Settings | None = None,
) -> CalcResult:
    """Calculate one plan with the chosen executor (where a workspace's `settings` say it computes)."""
    chosen = choose_executor(executor, plan, data, only)
    if chosen == "reference":
        return calculate(plan, data, period, calendar, only=only)
    try:
        from attain.engine.vectorized import calculate_vectorized
    except ImportError as exc:
        raise UnsupportedError(f"the {chosen} executor needs the vector extra: pip install 'attain[vector]'") from exc
    connection = backend(chosen, settings) if settings is not None else None
    try:
        result: CalcResult = calculate_vectorized(plan, data, period, executor=chosen, calendar=calendar, only=only,
                                                  connection=connection)
    finally:
        if connection is not None and chosen == "postgres":
            connection.disconnect()  # a Spark session is kept for the next plan; a database connection is not
    return result


def postgres_url(settings: Settings) -> str:
    """The database the postgres executor computes in: ATTAIN_POSTGRES_URL, else the workspace's
    `[postgres] url`, else the workspace's own database when it is PostgreSQL (the computation
    then runs where the data is held)."""
    from attain.engine.vectorized import POSTGRES_URL_ENV

    url = os.environ.get(POSTGRES_URL_ENV, "").strip() or settings.postgres_url
    if not url and settings.database_url.startswith("postgresql"):
        url = settings.database_url
    if not url:
        raise UnsupportedError(
            f"the postgres executor needs a PostgreSQL database, and this workspace's store is "
            f"{settings.database_url.partition(':')[0]}: set url under [postgres] in attain.toml, "
            f"or {POSTGRES_URL_ENV}")
    return url


def backend(executor: str, settings: Settings) -> Any:
    """The Ibis backend a vectorized executor runs on, as the workspace's settings say."""
    from attain.engine.vectorized import connect

    if executor == "postgres":
        return connect("postgres", postgres_url(settings))
    if executor == "spark":
        return connect("spark", conf=settings.spark)
    return connect(executor)
