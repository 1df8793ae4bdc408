"""Backends for the differential tests: DuckDB in-process, PostgreSQL if reachable, Spark local mode."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/attain_test"


@pytest.fixture(scope="session")
def postgres_backend() -> Any:
    """An Ibis PostgreSQL backend on ATTAIN_TEST_POSTGRES_URL (the database is created if missing)."""
    psycopg = pytest.importorskip("psycopg")
    from attain.engine.vectorized import connect

    url = os.environ.get("ATTAIN_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL).replace("postgresql+psycopg://",
                                                                                   "postgresql://")
    base, _, name = url.rpartition("/")
    try:
        with psycopg.connect(f"{base}/postgres", autocommit=True, connect_timeout=3) as admin:
            if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
                admin.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL is not reachable: {exc}")
    return connect("postgres", url)


@pytest.fixture(autouse=True)
def _java_for_spark(request: pytest.FixtureRequest) -> None:
    """Spark tests need Java: without it they are skipped, naming it (a failure in CI: tests/conftest.py)."""
    if request.node.get_closest_marker("spark") and not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        pytest.skip("Java is not installed (Spark needs a JRE: apt-get install openjdk-17-jre-headless)")


# Local mode on a few rows: every shuffle, broadcast, adaptive re-plan and generated class costs
# more than the rows themselves, so the test session runs one partition, plans once and interprets.
SPARK_TEST_SETTINGS = {
    "spark.sql.shuffle.partitions": "1",
    "spark.default.parallelism": "1",
    "spark.sql.adaptive.enabled": "false",
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",
    # Spark keeps the plan of every finished query (1,000 by default) for its UI, and a compiled
    # plan is large (its SQL parser's caches are cleared after each calculation: see
    # engine.vectorized._releasing_parser_caches).
    "spark.sql.ui.retainedExecutions": "10",
    "spark.ui.retainedJobs": "50",
    "spark.ui.retainedStages": "50",
}


@pytest.fixture(scope="session")
def spark_backend() -> Iterator[Any]:
    """An Ibis PySpark backend on one local SparkSession for the whole test session, connected the
    way a user's session is (connect("spark", session=...) sets what exactness needs)."""
    pytest.importorskip("pyspark")
    from pyspark.sql import SparkSession

    from attain.engine.vectorized import connect

    builder = SparkSession.builder.master("local[2]").appName("attain-tests")
    for key, value in SPARK_TEST_SETTINGS.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    yield connect("spark", session=session)
    session.stop()
