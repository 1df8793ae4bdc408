"""The concurrency suite: several `attain` processes at once on one workspace, on SQLite and
PostgreSQL, repeated. Concurrent runs of a period post once (the others wait for the ledger's
lock and find nothing to post: no phantom run claiming another run's entries); an approval racing
a publish either comes first or is refused, never posting into a published period; an import
racing runs leaves a period that the documented commands still publish. No process ever ends in
a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from ledger_support import MONTHLY_PLAN, deal_row, import_rows, new_workspace

from attain.app.workspace import open_workspace
from attain.core.money import ZERO
from attain.storage import ledger as store
from csv_support import write_csv

pytestmark = pytest.mark.slow

PROCESSES = 3
REPEATS = 2
REPS = [{"id": f"rep-{i}", "name": f"Rep {i}", "role": "ae"} for i in range(20)]


def _deals(count: int, start: int = 0) -> list[dict[str, str]]:
    return [deal_row(f"d{i}", 1_000 + 10 * i, f"2026-01-{1 + i % 28:02d}", owner=f"rep-{i % 20}")
            for i in range(start, start + count)]


def _workspace(path: Path) -> Path:
    ws = new_workspace(path, MONTHLY_PLAN.replace("CLAWBACK", "null"))
    import_rows(ws, "participants", REPS)
    import_rows(ws, "deals", _deals(200))
    ws.close()
    return path


def _start(root: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "attain", *args, "--workspace", str(root)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))


def _finish(processes: list[subprocess.Popen[str]]) -> list[tuple[int, str, str]]:
    results = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert "Traceback" not in err, err
        results.append((process.returncode, out, err))
    return results


def _ledger_is_consistent(root: Path) -> None:
    """Every run's entries are its own and sum to what it recorded; every check passed."""
    ws = open_workspace(root)
    try:
        with ws.engine.connect() as conn:
            keys = [e.key for e in store.load_entries(conn)]
            assert len(keys) == len(set(keys))
            for run in store.list_runs(conn):
                posted = store.run_entries(conn, run.id)
                assert len(posted) == run.entries_posted, f"run {run.id} claims entries it did not post"
                assert {c: sum((e.amount for e in posted if e.currency == c), ZERO) for c in run.totals} == run.totals
                assert run.checks and not run.failed_checks
    finally:
        ws.close()


def _earned(root: Path) -> Decimal:
    ws = open_workspace(root)
    try:
        with ws.engine.connect() as conn:
            return sum((e.amount for e in store.load_entries(conn) if e.kind.earned), ZERO)
    finally:
        ws.close()


def test_concurrent_runs_of_one_period_post_once(ledger_url, tmp_path):
    root = _workspace(tmp_path / "ws")
    deals = 200
    for repeat in range(REPEATS):
        if repeat:
            ws = open_workspace(root)
            import_rows(ws, "deals", _deals(deals + 5), name=f"more{repeat}")
            ws.close()
            deals += 5
        results = _finish([_start(root, "run", "--period", "2026-01", "--user", f"u{i}")
                           for i in range(PROCESSES)])
        assert [code for code, _, _ in results] == [0] * PROCESSES, results
        posting = [out for _, out, _ in results if "posted" in out and "nothing new" not in out]
        assert len(posting) == 1, [out for _, out, _ in results]
        _ledger_is_consistent(root)
        assert _earned(root) == sum((Decimal(1_000 + 10 * i) for i in range(deals)), ZERO) / 10
    publish = _finish([_start(root, "period", "publish", "2026-01")])
    assert publish[0][0] == 0, publish


def test_an_approval_racing_a_publish_never_posts_into_the_published_period(ledger_url, tmp_path):
    root = _workspace(tmp_path / "ws")
    assert _finish([_start(root, "run", "--period", "2026-01")])[0][0] == 0
    for repeat in range(REPEATS):
        added = _finish([_start(root, "adjust", "add", "--participant", "rep-1", "--period", "2026-01",
                                "--amount", "25.00", "--reason", "spiff", "--user", "alice")])
        assert added[0][0] == 0, added
        approve, publish = _finish([_start(root, "adjust", "approve", f"ADJ-{repeat + 1:05d}", "--user", "bob"),
                                    _start(root, "period", "publish", "2026-01", "--user", "carol")])
        assert publish[0] == 0, publish
        ws = open_workspace(root)
        with ws.engine.connect() as conn:
            adjustment = store.get_adjustment(conn, f"ADJ-{repeat + 1:05d}")
            audit = [(r.seq, r.action) for r in store.audit_rows(conn)]
        ws.close()
        published_at = max(seq for seq, action in audit if action == "period.publish")
        if approve[0] == 0:
            assert adjustment is not None and adjustment.status == "approved"
            approved_at = max(seq for seq, action in audit if action == "adjustment.approve")
            assert approved_at < published_at
        else:
            assert approve[0] == 4 and "published" in approve[2], approve
            assert adjustment is not None and adjustment.status == "pending"
            rejected = _finish([_start(root, "adjust", "reject", adjustment.id, "--user", "bob")])
            assert rejected[0][0] == 0, rejected
        _ledger_is_consistent(root)
        reopened = _finish([_start(root, "period", "reopen", "2026-01", "--reason", "next round")])
        assert reopened[0][0] == 0, reopened


def test_an_import_racing_runs_leaves_a_period_the_documented_commands_publish(ledger_url, tmp_path):
    root = _workspace(tmp_path / "ws")
    for repeat in range(REPEATS):
        late = write_csv(tmp_path / f"late{repeat}.csv", _deals(30, start=200 + 30 * repeat))
        processes = [_start(root, "run", "--period", "2026-01") for _ in range(PROCESSES - 1)]
        processes.insert(repeat % PROCESSES, _start(root, "import", "deals", str(late)))
        results = _finish(processes)
        assert all(code == 0 for code, _, _ in results), [(c, e) for c, _, e in results]
        _ledger_is_consistent(root)
    publish = _finish([_start(root, "period", "publish", "2026-01")])[0]
    if publish[0] != 0:
        assert publish[0] == 2 and "attain run --period 2026-01" in publish[2], publish
        assert _finish([_start(root, "run", "--period", "2026-01")])[0][0] == 0
        assert _finish([_start(root, "period", "publish", "2026-01")])[0][0] == 0
    _ledger_is_consistent(root)
