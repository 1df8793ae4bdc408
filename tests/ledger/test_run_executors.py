"""`attain run --executor`: a ledger run on DuckDB posts exactly what the reference engine posts,
`auto` chooses as documented, a named executor never falls back, and reproduction uses the
executor the run recorded."""

from __future__ import annotations

import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from ledger_support import ADVANCE_PLAN, MONTHLY_PLAN, deal_row, import_rows, new_workspace
from sqlalchemy import create_engine, select, text

from attain.app import executors
from attain.app.imports import import_file
from attain.app.runs import reproduce_run, run_executor, run_period
from attain.app.workspace import Workspace, init_workspace, open_workspace
from attain.core.dataset import DataSet
from attain.core.errors import UnsupportedError
from attain.core.records import Participant
from attain.demo.generate import generate
from attain.formats.plan_file import parse_plan
from attain.ledger.entries import entry_record
from attain.storage import ledger as store
from attain.storage.schema import metadata

pytest.importorskip("ibis")

# A team pool on the sum of members' averages: the vectorized executor refuses it (an average
# cannot be summed exactly set-wise); the reference engine computes it.
REFUSED_PLAN = """
plan: pool
name: Team pool on an average score
currency: USD
metrics:
  score: {average: score}
components:
  - id: team_pool
    label: Team pool
    kind: pool
    metric: score
    period: quarter
    funding: {kind: flat_rate, rate: 10000%}
    buckets:
      - {id: all, share: 100%, split: equal}
"""
SCORES = [{"participant_id": pid, "metric": "score", "period": "2026-01", "value": "5"}
          for pid in ("rep-1", "rep-2", "mgr")]

PEOPLE = [{"id": "rep-1", "name": "Ana", "role": "ae", "team": "east", "manager_id": "mgr"},
          {"id": "rep-2", "name": "Bo", "role": "ae", "team": "east", "manager_id": "mgr"},
          {"id": "mgr", "name": "Mo", "role": "manager", "team": "east", "manager_id": ""}]


TRAILING_ZEROS = re.compile(r"(?<![\d,.])(\d+)\.(\d*?)0+\b")


def store_rows(ws: Workspace) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table of the store, in a fixed order."""
    with ws.engine.connect() as conn:
        return {name: sorted((tuple(map(repr, row)) for row in conn.execute(select(table))), key=repr)
                for name, table in sorted(metadata.tables.items())}


def fresh_store(url: str, sqlite_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty store: a new SQLite file, or the PostgreSQL test database emptied."""
    if url.startswith("sqlite"):
        monkeypatch.setenv("ATTAIN_DATABASE_URL", f"sqlite:///{sqlite_file.as_posix()}")
        return
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def records(entries) -> list[dict[str, object]]:
    """Entries as posted, with numbers in explanations written without trailing zeros: a metric value
    of 190000.0 (a 60% split share times an amount) reads 190000 on DuckDB, the same number."""
    found = []
    for entry in entries:
        record = entry_record(entry)
        record["explanation"] = TRAILING_ZEROS.sub(lambda m: m[1] + (f".{m[2]}" if m[2] else ""),
                                                   str(record["explanation"]))
        found.append(record)
    return found


def quarter_of_runs(ws: Workspace, executor: str) -> list[list[dict[str, object]]]:
    """January and February runs, a late change (a cancellation, a split, a new deal), then March."""
    posted = []
    import_rows(ws, "participants", PEOPLE)
    import_rows(ws, "deals", [deal_row("d1", 120_000, "2026-01-10"),
                              deal_row("d2", 12_345, "2026-01-12", owner="rep-2"),
                              deal_row("d3", 99_999, "2026-01-31", owner="rep-2")])
    posted.append(records(run_period(ws, "2026-01", user="alice", executor=executor).entries))
    import_rows(ws, "deals", [deal_row("d4", 250_000, "2026-02-03"),
                              deal_row("d5", 7_777, "2026-02-28", owner="rep-2")], name="february")
    posted.append(records(run_period(ws, "2026-02", user="alice", executor=executor).entries))
    import_rows(ws, "deals", [deal_row("d1", 120_000, "2026-01-10", cancelled="2026-03-02"),
                              deal_row("d6", 40_000, "2026-03-15")], name="march")
    import_rows(ws, "splits", [{"deal_id": "d4", "participant_id": "rep-1", "share": "60", "role": "split"},
                               {"deal_id": "d4", "participant_id": "rep-2", "share": "40", "role": "split"}])
    march = run_period(ws, "2026-03", user="alice", executor=executor)
    # An open earlier period whose inputs changed is run first (docs/ledger.md): its entries count too.
    posted.append(records((*(e for run in march.earlier for e in run.entries), *march.entries)))
    return posted


@pytest.mark.parametrize("plan_text", [ADVANCE_PLAN, MONTHLY_PLAN.replace("CLAWBACK", "90")],
                         ids=["quarterly-advances", "monthly-clawbacks"])
def test_a_duckdb_run_posts_exactly_the_reference_entries(tmp_path: Path, ledger_url: str, plan_text: str,
                                                          monkeypatch: pytest.MonkeyPatch):
    if ledger_url.startswith("postgres") and plan_text != ADVANCE_PLAN:
        pytest.skip("by design: one plan is enough to show the store's kind does not matter "
                    "(DuckDB compiles ~1.5 s a call)")
    runs = {}
    for executor in ("reference", "duckdb"):
        fresh_store(ledger_url, tmp_path / f"{executor}.db", monkeypatch)
        ws = new_workspace(tmp_path / executor, plan_text)
        try:
            runs[executor] = quarter_of_runs(ws, executor)
            with ws.engine.connect() as conn:
                assert {r.executor for r in store.list_runs(conn)} == {executor}  # earlier periods may run first
            reproduction = reproduce_run(ws, 3)   # recalculates the quarter, with the late change
            assert reproduction.identical and reproduction.executor == executor
        finally:
            ws.close()
    assert runs["duckdb"] == runs["reference"]
    assert all(runs["reference"])  # every run posted something
    kinds = {entry["kind"] for run in runs["reference"] for entry in run}
    assert {"earning", "true_up"} <= kinds or {"earning", "clawback"} <= kinds


def demo_workspace(root: Path, without: tuple[str, ...] = ()) -> Workspace:
    demo = generate(root)
    for name in without:
        (demo.root / "plans" / name).unlink()
    ws = init_workspace(demo.root)
    for kind in ("participants", "quotas", "deals", "splits", "metrics", "rates"):
        import_file(ws, kind, demo.data / f"{kind}.csv", source="demo")
    import_file(ws, "plans", demo.root / "plans")
    return ws


@pytest.mark.slow
def test_the_demo_quarter_posts_the_same_entries_on_duckdb_as_on_the_reference_engine(tmp_path: Path, monkeypatch):
    posted = {}
    for executor in ("reference", "duckdb"):
        monkeypatch.setenv("ATTAIN_DATABASE_URL", f"sqlite:///{(tmp_path / f'{executor}.db').as_posix()}")
        ws = demo_workspace(tmp_path / executor, without=("partner-pool.yaml",))
        try:
            posted[executor] = [records(run_period(ws, month, user="demo", executor=executor).entries)
                                for month in ("2026-01", "2026-02", "2026-03")]
            assert reproduce_run(ws, 3).identical
        finally:
            ws.close()
    assert posted["duckdb"] == posted["reference"]
    entries = [e for run in posted["reference"] for e in run]
    assert len({e["plan_id"] for e in entries}) == 4 and len(entries) > 30
    assert sum(Decimal(e["amount"]) for e in entries) > 0


def test_a_refused_plan_leaves_the_store_exactly_as_it_was(tmp_path: Path, ledger_url: str):
    ws = new_workspace(tmp_path / "ws", REFUSED_PLAN)
    try:
        import_rows(ws, "participants", PEOPLE)
        import_rows(ws, "metrics", SCORES)
        before = store_rows(ws)
        with pytest.raises(UnsupportedError, match=r"duckdb executor cannot run plan pool .*an average"):
            run_period(ws, "2026-01", user="alice", executor="duckdb")
        assert store_rows(ws) == before
        with pytest.raises(UnsupportedError, match="unknown executor 'gpu'"):
            run_period(ws, "2026-01", user="alice", executor="gpu")
        assert store_rows(ws) == before
        report = run_period(ws, "2026-01", user="alice")   # auto: the reference engine computes pools
        # 3 members x an average of 5 = 15, at 10000%: 1,500 split equally
        assert report.executor == "reference" and report.totals == {"USD": Decimal("1500.00")}
    finally:
        ws.close()


def test_the_cli_refuses_with_exit_code_5_and_writes_nothing(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("ATTAIN_DATABASE_URL", f"sqlite:///{(tmp_path / 'store.db').as_posix()}")
    ws = new_workspace(tmp_path / "ws", REFUSED_PLAN)
    try:
        import_rows(ws, "participants", PEOPLE)
        import_rows(ws, "metrics", SCORES)
        before = store_rows(ws)
    finally:
        ws.close()
    done = subprocess.run([sys.executable, "-m", "attain", "run", "--period", "2026-01", "--executor", "duckdb"],
                          capture_output=True, text=True, cwd=tmp_path / "ws", timeout=300)
    assert done.returncode == 5, done.stdout + done.stderr
    assert "cannot run plan pool" in done.stderr and "reference executor" in done.stderr
    ws = open_workspace(tmp_path / "ws")
    try:
        assert store_rows(ws) == before
    finally:
        ws.close()
    done = subprocess.run([sys.executable, "-m", "attain", "run", "--period", "2026-01"],
                          capture_output=True, text=True, cwd=tmp_path / "ws", timeout=300)
    assert done.returncode == 0 and "(reference): posted 3 entries" in done.stdout, done.stdout + done.stderr
    # Run again: the payouts are those posted (whether or not an input changed), so nothing is posted.
    done = subprocess.run([sys.executable, "-m", "attain", "run", "--period", "2026-01"],
                          capture_output=True, text=True, cwd=tmp_path / "ws", timeout=300)
    assert "nothing new to post (every payout equals what is already posted)" in done.stdout, done.stdout
    done = subprocess.run([sys.executable, "-m", "attain", "reproduce", "--run", "1"],
                          capture_output=True, text=True, cwd=tmp_path / "ws", timeout=300)
    assert done.returncode == 0 and "reference) reproduced byte-identically" in done.stdout


def test_the_workspace_setting_is_the_default_and_reproduction_uses_the_recorded_executor(tmp_path, monkeypatch):
    monkeypatch.setenv("ATTAIN_DATABASE_URL", f"sqlite:///{(tmp_path / 'store.db').as_posix()}")
    ws = new_workspace(tmp_path / "ws", MONTHLY_PLAN.replace("CLAWBACK", "90"))
    try:
        import_rows(ws, "participants", PEOPLE)
        import_rows(ws, "deals", [deal_row("d1", 50_000, "2026-01-10")])
    finally:
        ws.close()
    config = tmp_path / "ws" / "attain.toml"
    config.write_text(config.read_text(encoding="utf-8").replace('executor = "auto"', 'executor = "duckdb"'),
                      encoding="utf-8")
    ws = open_workspace(tmp_path / "ws")
    try:
        assert run_period(ws, "2026-01", user="alice").executor == "duckdb"
        calls = []
        real = executors.calculate_with

        def spy(executor, *args, **kwargs):
            calls.append(executor)
            return real(executor, *args, **kwargs)

        monkeypatch.setattr("attain.app.runs.calculate_with", spy)
        assert reproduce_run(ws, 1).identical
        assert calls and set(calls) == {"duckdb"}
    finally:
        ws.close()


def plan(text: str):
    return parse_plan(text).plan


def crowd(count: int) -> DataSet:
    return DataSet(participants=tuple(Participant(id=f"p{i:05d}", name="x", role="ae") for i in range(count)))


def test_auto_chooses_the_reference_engine_for_a_small_population_or_a_refused_plan_else_duckdb():
    monthly, pool = plan(MONTHLY_PLAN.replace("CLAWBACK", "90")), plan(REFUSED_PLAN)
    small, bulk = crowd(executors.BULK_PAYEES - 1), crowd(executors.BULK_PAYEES)
    assert run_executor("auto", [monthly], small) == "reference"
    assert run_executor("auto", [monthly], bulk) == "duckdb"
    assert run_executor("auto", [monthly, pool], bulk) == "reference"   # one executor per run
    assert run_executor("reference", [monthly, pool], bulk) == "reference"
    assert run_executor("duckdb", [monthly], small) == "duckdb"          # a named executor as asked
    assert run_executor("postgres", [monthly], small) == "postgres"
    with pytest.raises(UnsupportedError, match="postgres executor cannot run plan pool"):
        run_executor("postgres", [monthly, pool], small)


def test_the_postgres_executor_computes_in_the_workspace_database_when_it_is_postgresql(
        tmp_path: Path, ledger_url: str, monkeypatch: pytest.MonkeyPatch):
    """No ATTAIN_POSTGRES_URL, no [postgres] url: a store on PostgreSQL is where the executor computes,
    and its runs post exactly what the reference engine posts. A SQLite store says what to set."""
    monkeypatch.delenv("ATTAIN_POSTGRES_URL", raising=False)
    if not ledger_url.startswith("postgres"):
        ws = new_workspace(tmp_path / "sqlite", ADVANCE_PLAN)
        try:
            import_rows(ws, "participants", PEOPLE)
            with pytest.raises(UnsupportedError, match=r"store is sqlite: set url under \[postgres\] in attain.toml"):
                run_period(ws, "2026-01", user="alice", executor="postgres")
            with ws.engine.connect() as conn:
                assert store.list_runs(conn) == []
        finally:
            ws.close()
        return
    runs = {}
    for executor in ("reference", "postgres"):
        fresh_store(ledger_url, tmp_path / f"{executor}.db", monkeypatch)
        ws = new_workspace(tmp_path / executor, ADVANCE_PLAN)
        try:
            assert executors.postgres_url(ws.settings) == ws.settings.database_url
            runs[executor] = quarter_of_runs(ws, executor)
            with ws.engine.connect() as conn:
                assert {r.executor for r in store.list_runs(conn)} == {executor}  # earlier periods may run first
        finally:
            ws.close()
    assert runs["postgres"] == runs["reference"]
    assert all(runs["reference"])


def test_the_postgres_executor_database_is_the_environment_s_then_the_settings_then_the_store_s(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from attain.settings import Settings

    monkeypatch.delenv("ATTAIN_POSTGRES_URL", raising=False)
    on_sqlite = Settings(root=tmp_path, database_url="sqlite:///x.db", postgres_url="postgresql://a@h1/comp")
    on_postgres = Settings(root=tmp_path, database_url="postgresql+psycopg://b@h2/store")
    assert executors.postgres_url(on_sqlite) == "postgresql://a@h1/comp"
    assert executors.postgres_url(on_postgres) == "postgresql+psycopg://b@h2/store"
    monkeypatch.setenv("ATTAIN_POSTGRES_URL", "postgresql://c@h3/env")
    assert executors.postgres_url(on_sqlite) == executors.postgres_url(on_postgres) == "postgresql://c@h3/env"
