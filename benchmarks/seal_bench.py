"""Benchmark: what sealing costs a deal import (default 200,000 rows) on SQLite.

Usage: python benchmarks/seal_bench.py [--rows N]
Imports the same participants and deals into two fresh workspaces: one whose engine seals at
commit (as every Attain engine does), and, as the baseline, one with the commit hook removed.
Prints both times and their ratio, then checks that the sealed store verifies.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).parent))
from import_bench import write_files  # noqa: E402

from attain.app.imports import import_file  # noqa: E402
from attain.app.workspace import init_workspace  # noqa: E402
from attain.storage.seals import verify_seals  # noqa: E402


def timed_import(folder: Path, participants: Path, deals: Path, sealed: bool) -> tuple[float, bool | None]:
    os.environ["ATTAIN_DATABASE_URL"] = f"sqlite:///{(folder / 'store.db').as_posix()}"
    ws = init_workspace(folder / "ws")
    if not sealed:
        for listener in list(ws.engine.dispatch.commit):
            event.remove(ws.engine, "commit", listener)
    import_file(ws, "participants", participants)
    started = time.perf_counter()
    import_file(ws, "deals", deals)
    elapsed = time.perf_counter() - started
    ok = None
    if sealed:
        with ws.engine.connect() as conn:
            ok = verify_seals(conn).ok
    ws.close()
    return elapsed, ok


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        participants, deals = write_files(root, args.rows)
        (root / "a").mkdir()
        (root / "b").mkdir()
        baseline, _ = timed_import(root / "a", participants, deals, sealed=False)
        sealed, ok = timed_import(root / "b", participants, deals, sealed=True)
    print(f"{args.rows} deals: without seals {baseline:.2f} s, with seals {sealed:.2f} s, "
          f"ratio {sealed / baseline:.2f}; sealed store verifies: {ok}")


if __name__ == "__main__":
    main()
