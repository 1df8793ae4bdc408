"""The vectorized executor pushed down into PostgreSQL equals the reference engine, to the cent."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from typer.testing import CliRunner

from attain.cli.main import app
from attain.core.dataset import DataSet
from attain.core.periods import parse_period
from attain.core.plan import Plan
from attain.engine.reference import calculate
from attain.engine.vectorized import calculate_vectorized

from .conftest import DEFAULT_POSTGRES_URL
from .generated import datasets, differences, plans

pytestmark = pytest.mark.postgres
Q1 = parse_period("2026-Q1")


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(plan=plans(), data=datasets())
def test_vectorized_equals_reference_on_postgres(plan: Plan, data: DataSet, postgres_backend: Any) -> None:
    assert differences(calculate(plan, data, Q1), calculate_vectorized(plan, data, Q1,
                                                                       connection=postgres_backend)) == []


def test_bench_on_postgres_copies_the_quarter_once_and_agrees(tmp_path: Path, postgres_backend: Any,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """`attain bench --executor postgres`: PostgreSQL cannot read Parquet, so the quarter is copied
    into tables (kept while they hold the files' rows), and the executor's amounts agree with the
    hand-written query both in DuckDB and in PostgreSQL."""
    url = os.environ.get("ATTAIN_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    monkeypatch.setenv("ATTAIN_POSTGRES_URL", url)
    args = ["bench", "--executor", "postgres", "--payees", "30", "--rows", "900", "--repeat", "1",
            "--reference-payees", "5", "--workdir", str(tmp_path), "--format", "json"]
    raw = postgres_backend.con

    def deals_table() -> tuple[int, int]:
        oid = raw.execute("SELECT 'attain_bench_quarter_30_900_deals'::regclass::oid").fetchone()[0]
        count = raw.execute('SELECT count(*) FROM "attain_bench_quarter_30_900_deals"').fetchone()[0]
        return oid, count

    raw.execute('DROP TABLE IF EXISTS "attain_bench_quarter_30_900_deals"')
    out = CliRunner().invoke(app, args)
    assert out.exit_code == 0, out.output
    figures = json.loads(out.output)
    assert figures["executor"] == "postgres" and figures["agrees_with_baseline"] is True
    assert figures["load_seconds"] is not None and figures["postgres_baseline_seconds"] is not None
    first = deals_table()
    assert first[1] == figures["deals"] == 818  # 900 credited rows asked: 818 deals, 81 of them split in two
    out = CliRunner().invoke(app, args)
    assert out.exit_code == 0, out.output
    assert deals_table() == first, "tables holding the files' rows are kept"
    raw.execute('DELETE FROM "attain_bench_quarter_30_900_deals" WHERE deal_id = (SELECT min(deal_id) '
                'FROM "attain_bench_quarter_30_900_deals")')
    if not raw.autocommit:
        raw.commit()
    out = CliRunner().invoke(app, args)
    assert out.exit_code == 0, out.output
    again = deals_table()
    assert again[1] == 818 and again[0] != first[0], "a table that lost rows is copied again"
    assert json.loads(out.output)["agrees_with_baseline"] is True
