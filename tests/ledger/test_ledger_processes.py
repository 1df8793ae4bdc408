"""Runs in separate processes: SIGKILL mid-run leaves no half-posted run, and reruns are byte-identical
across PYTHONHASHSEED values and shuffled input order."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from ledger_support import ADVANCE_PLAN, deal_row, import_rows, new_workspace

from attain.ledger.entries import entry_record
from attain.storage import ledger as store

# Runs a period in a workspace; with PAUSE set, sleeps after each chunk of entries is written
# (inside the run's transaction), so the parent can kill it mid-posting.
RUNNER = """
import json, sys, time
from pathlib import Path
from attain.app.runs import run_period
from attain.app.workspace import open_workspace
ws = open_workspace(Path(sys.argv[1]))
def progress(phase, done):
    print(phase, done, flush=True)
    time.sleep(float(sys.argv[3]))
for label in sys.argv[2].split(","):
    run_period(ws, label, user="runner", progress=progress)
print("done", flush=True)
"""

PEOPLE = [{"id": f"rep-{i:03d}", "name": f"Rep {i}", "role": "ae"} for i in range(700)]
DEALS = [deal_row(f"d{i:04d}", 1000 + 37 * i, f"2026-0{1 + i % 3}-{1 + i % 28:02d}", owner=f"rep-{i % 700:03d}")
         for i in range(1400)]


def _workspace(path: Path, seed: int | None = None):
    ws = new_workspace(path, ADVANCE_PLAN)
    people, deals = PEOPLE[:], DEALS[:]
    if seed is not None:
        random.Random(seed).shuffle(people)
        random.Random(seed + 1).shuffle(deals)
    import_rows(ws, "participants", people)
    import_rows(ws, "deals", deals)
    return ws


def _dump(ws) -> bytes:
    with ws.engine.connect() as conn:
        entries = store.load_entries(conn)
        runs = store.list_runs(conn)
    return json.dumps({"entries": [entry_record(e) for e in entries],
                       "runs": [[r.period, r.input_fingerprint, r.result_digest, r.entries_posted] for r in runs]},
                      sort_keys=True).encode()


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, **extra}


@pytest.mark.slow
def test_a_killed_run_leaves_nothing_and_the_retry_equals_an_uninterrupted_run(tmp_path, monkeypatch):
    monkeypatch.setenv("ATTAIN_DATABASE_URL", f"sqlite:///{(tmp_path / 'killed.db').as_posix()}")
    killed = _workspace(tmp_path / "killed")
    killed.close()
    rng = random.Random(5)
    for attempt in range(3):
        process = subprocess.Popen([sys.executable, "-c", RUNNER, str(tmp_path / "killed"), "2026-01", "0.3"],
                                   stdout=subprocess.PIPE, text=True, env=_env())
        assert process.stdout is not None
        wait_for = rng.randint(1, 3)  # of 4 chunks of entries
        seen = 0
        for line in process.stdout:
            seen += line.startswith("posting")
            if seen >= wait_for:
                break
        process.send_signal(signal.SIGKILL)
        process.wait()
        ws = _workspace_open(tmp_path / "killed")
        with ws.engine.connect() as conn:
            assert store.list_runs(conn) == [] and store.load_entries(conn) == [], f"attempt {attempt}"
        ws.close()
    subprocess.run([sys.executable, "-c", RUNNER, str(tmp_path / "killed"), "2026-01", "0"], check=True,
                   capture_output=True, env=_env())
    monkeypatch.setenv("ATTAIN_DATABASE_URL", f"sqlite:///{(tmp_path / 'clean.db').as_posix()}")
    clean = _workspace(tmp_path / "clean")
    subprocess.run([sys.executable, "-c", RUNNER, str(tmp_path / "clean"), "2026-01", "0"], check=True,
                   capture_output=True, env=_env())
    monkeypatch.setenv("ATTAIN_DATABASE_URL", f"sqlite:///{(tmp_path / 'killed.db').as_posix()}")
    retried = _workspace_open(tmp_path / "killed")
    assert _dump(retried) == _dump(clean)
    retried.close()
    clean.close()


def _workspace_open(path: Path):
    from attain.app.workspace import open_workspace

    return open_workspace(path)


@pytest.mark.slow
def test_reruns_are_byte_identical_across_hash_seeds_and_input_order(tmp_path, monkeypatch):
    dumps = set()
    for index, (hash_seed, order_seed) in enumerate([("0", None), ("1", 7), ("4242", 99)]):
        url = f"sqlite:///{(tmp_path / f'db{index}.db').as_posix()}"
        monkeypatch.setenv("ATTAIN_DATABASE_URL", url)
        ws = _workspace(tmp_path / f"ws{index}", order_seed)
        subprocess.run([sys.executable, "-c", RUNNER, str(tmp_path / f"ws{index}"), "2026-01,2026-02,2026-03", "0"],
                       check=True, capture_output=True, env=_env(PYTHONHASHSEED=hash_seed, ATTAIN_DATABASE_URL=url))
        dumps.add(_dump(ws))
        ws.close()
    assert len(dumps) == 1
