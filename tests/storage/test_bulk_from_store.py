"""The bulk run from the store: the same amounts as `attain calc` from the store, as known at
any import, and nothing visible from an import that never committed (SQLite and PostgreSQL)."""

from __future__ import annotations

import random
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from sqlalchemy import select

from attain.app import bulk as bulk_module
from attain.app.bulk import bulk_calculate, rebuild_segments
from attain.app.calculation import calculate_workspace
from attain.app.imports import import_file
from attain.app.workspace import Workspace
from attain.core.errors import UnsupportedError
from attain.storage.schema import imports
from attain.storage.segments import read_stamp, segment_path, segments_folder
from csv_support import write_csv

PLAN = """\
plan: bulk-test
name: Bulk test plan
version: "1"
currency: USD
assign:
  roles: [ae]
crediting:
  date_basis: booked
  partial_delivery: pro_rata
metrics:
  bookings: {sum: amount}
  deal_count: {count: deals}
  enterprise: {sum: amount, filter: "segment == 'enterprise'"}
components:
  - id: milestone
    kind: milestone
    metric: bookings
    period: quarter
    target_incentive: 10000
    threshold: 100%
    pays: 100%
  - id: commission
    kind: tiered
    method: marginal
    metric: bookings
    period: quarter
    target_incentive: 20000
    basis: attainment
    tiers:
      - {from: 0%, to: 50%, rate: 2%}
      - {from: 50%, to: 100%, rate: 5%}
      - {from: 100%, rate: 8%}
    gates:
      - deal_count >= 3
    cap: {multiple_of_target: 3}
  - id: enterprise_kicker
    kind: flat_rate
    metric: enterprise
    period: quarter
    rate: 1.5%
"""

CAPPED_PLAN = """\
plan: capped
name: Capped plan
version: "1"
currency: USD
assign:
  roles: [ae]
metrics:
  bookings: {sum: amount}
cap: {amount: 1000}
components:
  - {id: quarterly, kind: flat_rate, metric: bookings, period: quarter, rate: 1%}
"""

MIXED_PLAN = """\
plan: mixed
name: Monthly and quarterly
version: "1"
currency: USD
assign:
  roles: [ae]
metrics:
  bookings: {sum: amount}
components:
  - {id: monthly, kind: flat_rate, metric: bookings, period: month, rate: 1%}
  - {id: quarterly, kind: flat_rate, metric: bookings, period: quarter, rate: 1%}
"""

def _deals(rng: random.Random, count: int, payees: int, start: int = 0) -> list[dict[str, Any]]:
    rows = []
    for i in range(start, start + count):
        rows.append({
            "deal_id": f"d{i:05d}", "owner_id": f"p{rng.randrange(payees):03d}",
            "amount": f"{rng.randrange(100, 9_000_000) / 100:.2f}", "currency": "USD",
            "status": "cancelled" if i % 20 == 0 else ("open" if i % 17 == 0 else "won"),
            "booked_on": f"2026-{rng.randrange(1, 5):02d}-{rng.randrange(1, 29):02d}",
            "delivered_pct": rng.choice(["100", "100", "60", "33.3"]),
            "segment": rng.choice(["enterprise", "smb", "mid"]),
        })
    return rows


def _splits(deals: list[dict[str, Any]], payees: int) -> list[dict[str, Any]]:
    rows = []
    for index, deal in enumerate(deals):
        if index % 10 == 3:
            other = f"p{(int(deal['owner_id'][1:]) + 1) % payees:03d}"
            rows += [{"deal_id": deal["deal_id"], "participant_id": deal["owner_id"], "share": "60"},
                     {"deal_id": deal["deal_id"], "participant_id": other, "share": "40"}]
    return rows


def _seed(ws: Workspace, tmp: Path, payees: int = 40, deals: int = 600) -> list[dict[str, Any]]:
    rng = random.Random(7)
    (ws.root / "plans" / "bulk-test.yaml").write_text(PLAN, encoding="utf-8")
    people = [{"id": f"p{i:03d}", "name": f"Payee {i}", "role": "ae" if i % 9 else "se", "team": f"t{i % 4}",
               "start_date": "2026-02-01" if i == 5 else "", "end_date": "2025-12-31" if i == 6 else ""}
              for i in range(payees)]
    import_file(ws, "participants", write_csv(tmp / "participants.csv", people))
    quotas = [{"participant_id": f"p{i:03d}", "metric": "bookings", "period": "2026-Q1",
               "amount": f"{200000 + (i % 7) * 25000}"} for i in range(payees) if i != 11]
    import_file(ws, "quotas", write_csv(tmp / "quotas.csv", quotas))
    rows = _deals(rng, deals, payees)
    import_file(ws, "deals", write_csv(tmp / "deals.csv", rows))
    import_file(ws, "splits", write_csv(tmp / "splits.csv", _splits(rows, payees)))
    return rows


def _bulk_lines(ws: Workspace, **options: Any) -> dict[tuple[str, str, str], Decimal]:
    report = bulk_calculate(ws, "2026-Q1", **options)
    rows = duckdb.sql(f"SELECT participant_id, component, period, amount FROM read_parquet('{report.output}')")
    return {(pid, component, period): amount for pid, component, period, amount in rows.fetchall()}


def _reference_lines(ws: Workspace, **options: Any) -> dict[tuple[str, str, str], Decimal]:
    _plans, results = calculate_workspace(ws, "2026-Q1", executor="reference", **options)
    return {(line.participant_id, line.component_id, line.period): line.amount
            for result in results for line in result.lines}


def _assert_same(bulk: dict[tuple[str, str, str], Decimal], reference: dict[tuple[str, str, str], Decimal]) -> None:
    assert reference, "the reference engine pays someone"
    assert {k: v for k, v in reference.items() if v} == {k: v for k, v in bulk.items() if v}
    for key, amount in bulk.items():  # a line the reference does not write pays nothing
        assert reference.get(key, Decimal(0)) == amount


def test_bulk_from_store_equals_the_reference_engine(workspace: Workspace, tmp_path: Path) -> None:
    _seed(workspace, tmp_path)
    bulk = _bulk_lines(workspace)
    _assert_same(bulk, _reference_lines(workspace))
    assert {k[1] for k, v in bulk.items() if v} == {"milestone", "commission", "enterprise_kicker"}
    assert all(amount == amount.quantize(Decimal("0.01")) for amount in bulk.values())
    # Everyone with the role and employed in the quarter has lines; others have none.
    payees = {k[0] for k in bulk}
    assert "p009" not in payees and "p006" not in payees and "p005" in payees


def test_the_next_process_runs_the_kept_query_without_compiling(workspace: Workspace, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from attain.engine.vectorized import bulk as engine_bulk

    _seed(workspace, tmp_path)
    first = _bulk_lines(workspace)
    compiled = workspace.root / "store" / "cache" / "compiled"
    assert len(list(compiled.glob("query-*"))) == 1
    # As in a new process: nothing kept in memory, a new DuckDB connection; compiling fails.
    engine_bulk.clear_cache()

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("compiled again")

    monkeypatch.setattr(engine_bulk, "compile_sources", refuse)
    assert _bulk_lines(workspace) == first
    # A changed plan is another query (and compiles).
    monkeypatch.undo()
    text = (workspace.root / "plans" / "bulk-test.yaml").read_text(encoding="utf-8")
    (workspace.root / "plans" / "bulk-test.yaml").write_text(text.replace("version: \"1\"", "version: \"2\""),
                                                              encoding="utf-8")
    _assert_same(_bulk_lines(workspace), _reference_lines(workspace))
    assert len(list(compiled.glob("query-*"))) == 2


def test_the_kept_query_is_found_by_a_process_with_another_hash_seed(workspace: Workspace, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    if workspace.engine.dialect.name != "sqlite":
        pytest.skip("by design: the key does not depend on the store; one backend is enough")
    _seed(workspace, tmp_path)
    script = ("import sys; from pathlib import Path; from attain.app.workspace import open_workspace; "
              "from attain.app.bulk import bulk_calculate; "
              "print(bulk_calculate(open_workspace(Path(sys.argv[1])), '2026-Q1').total)")
    totals = set()
    for seed in ("1", "2"):
        done = subprocess.run([sys.executable, "-c", script, str(workspace.root)], capture_output=True, text=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}, check=True)
        totals.add(done.stdout.strip())
    assert len(totals) == 1
    assert len(list((workspace.root / "store" / "cache" / "compiled").glob("query-*"))) == 1


def test_components_of_different_period_lengths(workspace: Workspace, tmp_path: Path) -> None:
    _seed(workspace, tmp_path)
    (workspace.root / "plans" / "mixed.yaml").write_text(MIXED_PLAN, encoding="utf-8")
    bulk = _bulk_lines(workspace, plan_ids=["mixed"])
    reference = {k: v for k, v in _reference_lines(workspace).items() if k[1] in ("monthly", "quarterly")}
    _assert_same(bulk, reference)
    assert {k[2] for k in bulk if k[1] == "monthly"} == {"2026-01", "2026-02", "2026-03"}
    assert {k[2] for k in bulk if k[1] == "quarterly"} == {"2026-Q1"}
    assert sum(v for k, v in bulk.items() if k[1] == "monthly") > 0


def test_a_changed_quota_is_read_although_the_small_tables_are_kept(workspace: Workspace, tmp_path: Path) -> None:
    _seed(workspace, tmp_path)

    def kept() -> set[str]:
        return {p.name for p in (workspace.root / "store" / "cache").glob("resolved-*")}

    # Each import of participants or quotas resolved them for bulk runs; a run adds nothing.
    prepared = kept()
    assert len(prepared) == 2
    before = _bulk_lines(workspace)
    assert kept() == prepared
    # p001's quota drops to 1,000: it now reaches its milestone with any bookings.
    import_file(workspace, "quotas", write_csv(tmp_path / "quota-change.csv", [
        {"participant_id": "p001", "metric": "bookings", "period": "2026-Q1", "amount": "1000"}]))
    assert len(kept() - prepared) == 1
    after = _bulk_lines(workspace)
    _assert_same(after, _reference_lines(workspace))
    assert after[("p001", "milestone", "2026-Q1")] != before[("p001", "milestone", "2026-Q1")]
    # Without the prepared tables (a store from before, or a deleted cache), a run resolves
    # them itself and pays the same.
    for name in kept():
        shutil.rmtree(workspace.root / "store" / "cache" / name)
    assert _bulk_lines(workspace) == after
    assert len(kept()) == 1


def test_a_changed_deal_and_an_as_of_earlier_import(workspace: Workspace, tmp_path: Path) -> None:
    rows = _seed(workspace, tmp_path)
    first = workspace.known_import()
    before = _bulk_lines(workspace)
    # A correction: some deals change amount or owner, one is cancelled, new deals arrive; a
    # split set changes and another one is emptied of shares.
    changed = [dict(r) for r in rows[:60]]
    for index, row in enumerate(changed):
        row["amount"] = f"{Decimal(row['amount']) * 3:.2f}" if index % 2 else row["amount"]
        row["owner_id"] = "p001" if index % 3 == 0 else row["owner_id"]
    changed[7]["status"] = "cancelled"
    changed += _deals(random.Random(8), 50, 40, start=len(rows))
    import_file(workspace, "deals", write_csv(tmp_path / "deals-2.csv", changed))
    split_rows = [{"deal_id": rows[3]["deal_id"], "participant_id": "p020", "share": "100"}]
    import_file(workspace, "splits", write_csv(tmp_path / "splits-2.csv", split_rows))
    after = _bulk_lines(workspace)
    assert after != before
    _assert_same(after, _reference_lines(workspace))
    with workspace.engine.connect() as conn:
        as_of = conn.execute(select(imports.c.recorded_at).where(imports.c.id == first)).scalar_one()
    assert _bulk_lines(workspace, as_of=as_of) == before
    _assert_same(before, _reference_lines(workspace, as_of=as_of))


def test_segments_are_checked_and_rebuilt(workspace: Workspace, tmp_path: Path) -> None:
    _seed(workspace, tmp_path)
    expected = _bulk_lines(workspace)
    folder = segments_folder(workspace.root)
    deals = sorted((folder / "deals").glob("*.parquet"))
    assert len(deals) == 1
    stamp = read_stamp(deals[0])
    assert stamp is not None and stamp.kind == "deals" and stamp.versions == 600
    deals[0].unlink()  # lost: rebuilt from the database on demand
    steps: list[str] = []
    report = bulk_calculate(workspace, "2026-Q1", progress=steps.append)
    assert report.segments_rebuilt == 1 and deals[0].is_file()
    assert steps == ["reading the store", "preparing plan bulk-test", "calculating 1 plan(s) for 2026-Q1"]
    assert _bulk_lines(workspace) == expected
    assert rebuild_segments(workspace) == 2


def test_a_crash_between_segment_and_commit_leaves_nothing_visible(workspace: Workspace, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    rows = _seed(workspace, tmp_path)
    expected = _bulk_lines(workspace)
    upto = workspace.known_import()
    import attain.app.imports as imports_module

    def crash(*_args: Any, **_kwargs: Any) -> None:
        raise KeyboardInterrupt  # the process dies after the segment is renamed, before the commit

    bigger = [dict(r, amount=f"{Decimal(r['amount']) * 10:.2f}") for r in rows]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(imports_module, "audit_written", crash)
        patch.setitem(imports_module.AUDITED_KINDS, "deals", "deal")
        with pytest.raises(KeyboardInterrupt):
            import_file(workspace, "deals", write_csv(tmp_path / "deals-crash.csv", bigger))
    orphan = segment_path(segments_folder(workspace.root), "deals", upto + 1)
    assert orphan.is_file(), "the segment was written before the commit"
    assert workspace.known_import() == upto
    assert _bulk_lines(workspace) == expected
    # An import of another kind may reuse the id (SQLite does after a rollback): still ignored.
    import_file(workspace, "quotas", write_csv(tmp_path / "q2.csv", [
        {"participant_id": "p011", "metric": "bookings", "period": "2026-Q1", "amount": "100000"}]))
    _assert_same(_bulk_lines(workspace), _reference_lines(workspace))
    # A stale file in the place of a committed import's segment does not match its import row:
    # it is rebuilt from the database, never read.
    committed = sorted((segments_folder(workspace.root) / "deals").glob("*.parquet"))
    committed = [p for p in committed if p != orphan]
    orphan.replace(committed[0])
    report = bulk_calculate(workspace, "2026-Q1")
    assert report.segments_rebuilt == 1
    _assert_same(_bulk_lines(workspace), _reference_lines(workspace))


def test_plans_the_bulk_run_refuses_are_refused_before_anything_runs(workspace: Workspace, tmp_path: Path) -> None:
    _seed(workspace, tmp_path, payees=5, deals=20)
    (workspace.root / "plans" / "capped.yaml").write_text(CAPPED_PLAN, encoding="utf-8")
    spy: list[Any] = []
    original = bulk_module._register_segments
    monkey = pytest.MonkeyPatch()
    monkey.setattr(bulk_module, "_register_segments", lambda *a, **k: spy.append(a) or original(*a, **k))
    try:
        with pytest.raises(UnsupportedError, match="plan-wide caps"):
            bulk_calculate(workspace, "2026-Q1")
        assert spy == []
        assert not (workspace.root / "store" / "bulk").exists()
        assert bulk_calculate(workspace, "2026-Q1", plan_ids=["bulk-test"]).plans == ("bulk-test",)
    finally:
        monkey.undo()
