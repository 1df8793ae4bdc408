"""`attain audit log`, `audit head` and `audit verify --expect-head` on a small imported store."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from attain.app.imports import import_file
from attain.app.workspace import init_workspace
from attain.demo.generate import generate


def attain(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "attain", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ATTAIN_DATABASE_URL", f"sqlite:///{(tmp_path / 'store.db').as_posix()}")
    demo = generate(tmp_path / "ws")
    ws = init_workspace(demo.root)
    try:
        import_file(ws, "participants", demo.data / "participants.csv", actor="ana")
    finally:
        ws.close()
    return demo.root


def test_audit_log_lists_who_changed_what_with_before_and_after(store: Path):
    out = attain("audit", "log", "--subject", "ae-01", "--format", "json", cwd=store)
    assert out.returncode == 0, out.stderr
    records = json.loads(out.stdout)
    assert [r["subject"] for r in records] == ["default/ae-01|"]
    assert records[0]["who"] == "ana" and records[0]["before"] == "null"
    assert json.loads(records[0]["after"])["participant_id"] == "ae-01"
    as_csv = attain("audit", "log", "--format", "csv", "--since", "2000-01-01", cwd=store)
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert len(rows) > 1 and set(rows[0]) == {"seq", "at", "who", "what", "subject", "before", "after"}
    assert attain("audit", "log", "--since", "2999-01-01", "--format", "json", cwd=store).stdout.strip() == "[]"
    assert attain("audit", "log", "--format", "xml", cwd=store).returncode != 0


def test_a_head_printed_earlier_is_checked_by_verify(store: Path):
    head = json.loads(attain("audit", "head", "--format", "json", cwd=store).stdout)
    ok = attain("audit", "verify", "--expect-head", head["expect_head"], cwd=store)
    assert ok.returncode == 0, ok.stderr
    forged = f"{head['length']}:{'0' * 64}"
    bad = attain("audit", "verify", "--expect-head", forged, cwd=store)
    assert bad.returncode == 6
    assert f"seals {head['length']}" in bad.stderr
