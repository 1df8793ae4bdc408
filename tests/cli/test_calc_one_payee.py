"""`attain calc --participant` and `attain explain` from the store read only what that payee depends
on, and print exactly the lines the whole calculation has for them."""

from __future__ import annotations

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
def demo_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ATTAIN_DATABASE_URL", f"sqlite:///{(tmp_path / 'store.db').as_posix()}")
    demo = generate(tmp_path / "ws")
    ws = init_workspace(demo.root)
    try:
        for kind in ("participants", "quotas", "deals", "splits", "metrics", "rates"):
            import_file(ws, kind, demo.data / f"{kind}.csv")
        import_file(ws, "plans", demo.root / "plans")
    finally:
        ws.close()
    return demo.root


def test_one_payee_from_the_store_has_the_lines_of_the_whole_calculation(demo_store: Path):
    whole = attain("calc", "--period", "2026-Q1", "--format", "json", "--executor", "reference", cwd=demo_store)
    assert whole.returncode == 0, whole.stderr
    everything = json.loads(whole.stdout)
    # an AE with splits, a CSM and an agency on observed metrics, an SDR, a partner in the team pool
    for participant in ("ae-01", "csm-2", "agency-harbor", "sdr-3", "pm-2"):
        one = attain("calc", "--period", "2026-Q1", "--format", "json", "--participant", participant, cwd=demo_store)
        assert one.returncode == 0, one.stderr
        document = json.loads(one.stdout)
        expected = [line for line in everything["lines"] if line["participant_id"] == participant]
        assert expected and document["lines"] == expected
        assert document["totals"] == [t for t in everything["totals"] if t["participant_id"] == participant]
    explained = attain("explain", "--participant", "pm-2", "--period", "2026-Q1", cwd=demo_store)
    assert explained.returncode == 0 and "Ada Tanaka" in explained.stdout and "team partners" in explained.stdout
    missing = attain("calc", "--period", "2026-Q1", "--participant", "nobody", cwd=demo_store)
    assert missing.returncode == 3 and "is not in the store" in missing.stderr
    uncovered = attain("calc", "--period", "2026-Q1", "--participant", "cro", cwd=demo_store)
    assert uncovered.returncode == 3 and "not covered by any plan in force" in uncovered.stderr


def _numbers(value: object, key: str = "") -> list[tuple[str, str]]:
    """Every (field, text) in a JSON document whose text is a number."""
    if isinstance(value, dict):
        return [found for k, v in value.items() for found in _numbers(v, k)]
    if isinstance(value, list):
        return [found for v in value for found in _numbers(v, key)]
    if isinstance(value, str) and value.lstrip("-").replace(".", "", 1).isdigit():
        return [(key, value)]
    return []


def test_json_reads_the_same_whichever_executor_computed_it(demo_store: Path):
    runs = {executor: attain("calc", "--period", "2026-Q1", "--format", "json", "--executor", executor,
                             cwd=demo_store) for executor in ("reference", "duckdb")}
    assert all(run.returncode == 0 for run in runs.values()), {k: r.stderr for k, r in runs.items()}
    reference, vectorized = (json.loads(run.stdout) for run in runs.values())
    assert reference["totals"] == vectorized["totals"]
    assert len(reference["lines"]) == len(vectorized["lines"])
    differing = [(a, b) for a, b in zip(reference["lines"], vectorized["lines"], strict=True) if a != b]
    # Both carry exact fractions to the declared rounding (docs/scaling.md#precision): even the
    # accelerator's rate 50,000 / 1,800,000 x 1.5, on ae-04's gross of exactly 9,000, reads the same.
    assert differing == []
