"""The bulk run over Parquet files: the same amounts as the reference engine, compiled once per plan and files."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from attain.cli.main import app
from attain.core.errors import InputError, UnsupportedError
from attain.core.periods import CALENDAR, PeriodKind, parse_period
from attain.core.plan import FlatRate, Rate
from attain.engine.reference import calculate
from attain.engine.vectorized import _profile, bulk, run_bulk
from attain.engine.vectorized.bench import PERIOD, PLAN_FILE, bench_plan, generate, reference_sample_data, run
from attain.formats.plan_file import parse_plan


@pytest.fixture(scope="module")
def quarter(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("quarter")
    generate(folder, 60, 3000)
    return folder


def test_bulk_run_pays_what_the_reference_engine_pays(quarter: Path) -> None:
    table = run_bulk(bench_plan(), quarter, parse_period(PERIOD))
    bulk_amounts = {r["participant_id"]: (r["milestone"], r["commission"]) for r in table.to_pylist()}
    data = reference_sample_data(quarter, 60)
    result = calculate(bench_plan(), data, parse_period(PERIOD))
    expected: dict[str, dict[str, Decimal]] = {}
    for line in result.lines:
        expected.setdefault(line.participant_id, {})[line.component_id] = line.amount
    assert len(bulk_amounts) == 60
    for pid, (milestone, commission) in bulk_amounts.items():
        lines = expected.get(pid, {})
        assert milestone == lines.get("milestone", Decimal(0)), pid
        assert commission == lines.get("commission", Decimal(0)), pid
    # The generated amounts make some payees reach quota and some pay commission.
    assert any(m == Decimal(10000) for m, _ in bulk_amounts.values())
    assert sum(c for _, c in bulk_amounts.values()) > 0



def test_the_bench_plan_file_is_the_bench_plan(quarter: Path) -> None:
    """The plan file that the store bench and the Spark cluster job load pays what bench_plan() pays."""
    data, period = reference_sample_data(quarter, 60), parse_period(PERIOD)
    from_file = calculate(parse_plan(PLAN_FILE).plan, data, period)
    built = calculate(bench_plan(), data, period)
    assert len(built.lines) > 60
    assert from_file == built

def test_integer_keys_pay_what_text_keys_pay(quarter: Path, tmp_path: Path) -> None:
    # The same quarter with integer ids (payee 42 where the text quarter has 'p0000042'): the bulk
    # run keeps the key's type and pays every payee the same, and the bench's baseline agrees.
    generate(tmp_path, 60, 3000, keys="integer")
    by_int = run_bulk(bench_plan(), tmp_path, parse_period(PERIOD))
    by_text = run_bulk(bench_plan(), quarter, parse_period(PERIOD))
    assert by_int.schema.field("participant_id").type == pa.int32()
    amounts = {r["participant_id"]: (r["milestone"], r["commission"]) for r in by_int.to_pylist()}
    assert amounts == {int(r["participant_id"][1:]): (r["milestone"], r["commission"]) for r in by_text.to_pylist()}
    assert sum(c for _, c in amounts.values()) > 0
    assert reference_sample_data(tmp_path, 5, keys="integer").deals[0].owner_id.isdigit()


def test_components_of_different_period_lengths_have_rows_of_their_own(quarter: Path) -> None:
    base = bench_plan()
    monthly = FlatRate(id="monthly", label="Monthly commission", metric="bookings", period=PeriodKind.MONTH,
                       rate=Rate(fixed=Decimal("0.001")))
    plan = replace(base, components=(*base.components, monthly))
    rows = run_bulk(plan, quarter, parse_period(PERIOD)).to_pylist()
    result = calculate(plan, reference_sample_data(quarter, 60), parse_period(PERIOD))
    expected = {(line.participant_id, line.period, line.component_id): line.amount for line in result.lines}
    got = {}
    for row in rows:
        for component in ("milestone", "commission", "monthly"):
            if row[component] is not None:
                got[(row["participant_id"], row["sub"], component)] = row[component]
    assert {k[1] for k in got} == {"2026-Q1", "2026-01", "2026-02", "2026-03"}
    # Quarterly rows carry no monthly amount and monthly rows no quarterly one.
    assert all((row["monthly"] is None) == (row["sub"] == "2026-Q1") for row in rows)
    assert {k: v for k, v in got.items() if v != 0} == {k: v for k, v in expected.items() if v != 0}
    assert sum(v for k, v in got.items() if k[2] == "monthly") > 0


def test_a_plan_is_compiled_once_per_connection_and_files(quarter: Path) -> None:
    con = ibis.duckdb.connect()
    period = parse_period(PERIOD)
    first = bulk.prepare(bench_plan(), quarter, period, con, CALENDAR, _profile(con))
    again = bulk.prepare(bench_plan(), quarter, period, con, CALENDAR, _profile(con))
    assert again is first
    other = ibis.duckdb.connect()
    assert bulk.prepare(bench_plan(), quarter, period, other, CALENDAR, _profile(other)) is not first
    # A rewritten input file is a new query (its size and time are part of the key).
    quotas = quarter / "quotas.parquet"
    stat = quotas.stat()
    os.utime(quotas, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert bulk.prepare(bench_plan(), quarter, period, con, CALENDAR, _profile(con)) is not first
    # The cached query still runs and gives the same amounts (rows come in no set order).
    def rows(query: bulk.BulkQuery) -> list[tuple[Any, ...]]:
        return sorted(tuple(row.values()) for row in bulk.execute(query, con).to_pylist())

    assert rows(first) == rows(again) and len(rows(first)) == 60


def test_bench_reports_agreement_and_the_figures_the_issue_asks_for(tmp_path: Path) -> None:
    result = run(50, 2000, tmp_path, reference_payees=10, repeat=2)
    assert result.agrees_with_baseline
    assert 1990 <= result.rows <= 2000 and result.payees == 50
    assert result.ratio_to_baseline > 0 and result.reference_rows_per_second > 0


def test_the_floor_counts_every_won_deal_of_the_quarter_once(tmp_path: Path) -> None:
    import duckdb

    from attain.engine.vectorized.bench import credit_floor, generate, scan

    deals = generate(tmp_path, 50, 2000)
    floor = scan(duckdb.connect(), tmp_path)
    # 2,000 credited rows are 1,818 deals (one in ten credits two payees); deals 0, 20, ... 1,800
    # (91 of them) are cancelled, every generated deal is in USD and dated in the quarter.
    assert deals == 1818
    assert sum(floor.column("deal_count").to_pylist()) == 1818 - 91
    assert floor.num_rows <= 50
    # The floor of crediting finds the split deals among them: deals 0, 10, ... 1,810 (182) have
    # split rows, and the 91 of them that are multiples of 20 are cancelled.
    crediting = credit_floor(duckdb.connect(), tmp_path)
    assert sum(crediting.column("split_deals").to_pylist()) == 182 - 91
    assert sorted(crediting.select(["owner_id", "bookings", "deal_count"]).to_pylist(), key=str) == sorted(
        floor.to_pylist(), key=str)


def test_bench_command_prints_one_json_object(tmp_path: Path) -> None:
    out = CliRunner().invoke(app, ["bench", "--payees", "30", "--rows", "900", "--format", "json",
                                   "--workdir", str(tmp_path), "--reference-payees", "5"])
    assert out.exit_code == 0, out.output
    figures: dict[str, Any] = json.loads(out.output)
    for key in ("rows", "payees", "seconds", "baseline_seconds", "ratio_to_baseline", "peak_rss_mb",
                "reference_rows_per_second", "scan_seconds", "ratio_to_scan", "credit_floor_seconds",
                "ratio_to_credit_floor"):
        assert key in figures
    assert figures["agrees_with_baseline"] is True and figures["keys"] == "text"
    out = CliRunner().invoke(app, ["bench", "--payees", "30", "--rows", "900", "--format", "json", "--keys", "integer",
                                   "--workdir", str(tmp_path), "--reference-payees", "5", "--repeat", "1",
                                   "--threads", "1"])
    assert out.exit_code == 0, out.output
    figures = json.loads(out.output)
    assert figures["agrees_with_baseline"] is True and figures["keys"] == "integer"
    assert figures["threads"] == 1
    assert (tmp_path / "quarter-30-900-integer-keys" / "deals.parquet").exists()
    out = CliRunner().invoke(app, ["bench", "--keys", "uuid", "--workdir", str(tmp_path)])
    assert isinstance(out.exception, InputError) and "--keys is text or integer, not 'uuid'" in str(out.exception)


def test_bulk_run_reads_tables_the_backend_already_has(quarter: Path) -> None:
    con = ibis.duckdb.connect()
    names = {}
    for name in ("deals", "splits", "participants", "quotas"):
        con.raw_sql(f"CREATE TABLE t_{name} AS SELECT * FROM read_parquet('{quarter / (name + '.parquet')}')")
        names[name] = f"t_{name}"
    from_tables = run_bulk(bench_plan(), names, parse_period(PERIOD), connection=con)
    from_files = run_bulk(bench_plan(), quarter, parse_period(PERIOD), connection=con)
    assert sorted(from_tables.to_pylist(), key=str) == sorted(from_files.to_pylist(), key=str)
    with pytest.raises(UnsupportedError, match="missing: quotas"):
        run_bulk(bench_plan(), {k: v for k, v in names.items() if k != "quotas"}, parse_period(PERIOD),
                 connection=con)


def test_bulk_run_reads_a_storage_url(quarter: Path) -> None:
    # A URL is read by the backend as it is (s3a://, gs://, hdfs:// on Spark; file:// here).
    from_url = run_bulk(bench_plan(), f"file://{quarter}/", parse_period(PERIOD))
    from_folder = run_bulk(bench_plan(), quarter, parse_period(PERIOD))
    assert sorted(from_url.to_pylist(), key=str) == sorted(from_folder.to_pylist(), key=str)


def test_prune_keeps_the_most_recent_cache_folders(tmp_path: Path) -> None:
    import os

    from attain.engine.vectorized.bulk import prune

    for number in range(6):
        folder = tmp_path / f"query-{number}"
        folder.mkdir()
        os.utime(folder, ns=(number * 10**9, number * 10**9))
    (tmp_path / "query-9.123.tmp").mkdir()  # another process still writing
    (tmp_path / "resolved-1").mkdir()
    prune(tmp_path, "query-", 4)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "query-2", "query-3", "query-4", "query-5", "query-9.123.tmp", "resolved-1"]
