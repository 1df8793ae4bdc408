"""Benchmark: rows per second and peak memory for a deal import (default 1,000,000 rows) into SQLite
and PostgreSQL.

Usage: python benchmarks/import_bench.py [--rows N] [--kind deals|splits] [--postgres URL] [--skip-postgres]
                                         [--whole-file]
Times the whole `attain import deals` use case: reading and validating the CSV, checking
references, hashing each row's content, and writing versions and the columnar segment in one
transaction; then the no-op re-import of the same file. Each run is a child process of its own,
which reports its peak RSS. With --whole-file, each backend is also run with the file read,
checked and written in one part (as imports were before they were streamed), as the baseline.
With --kind splits, N split rows (two per deal, grouped by deal) are imported into a store that
an earlier process filled with the N / 2 deals they split.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from attain.app.imports import import_file
from attain.app.workspace import init_workspace, open_workspace

DEFAULT_POSTGRES = os.environ.get(
    "ATTAIN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/attain_bench"
)


def write_files(folder: Path, rows: int, reps: int = 1000) -> tuple[Path, Path]:
    rng = random.Random(7)
    participants = folder / "participants.csv"
    with participants.open("w", encoding="utf-8") as out:
        out.write("id,name,role,team\n")
        for i in range(reps):
            out.write(f"R{i},Rep {i},ae,team{i % 20}\n")
    deals = folder / "deals.csv"
    with deals.open("w", encoding="utf-8") as out:
        out.write("deal_id,owner_id,amount,currency,booked_on,status,delivered_pct,product\n")
        for i in range(rows):
            out.write(
                f"D{i},R{rng.randrange(reps)},{rng.randrange(100, 10_000_000) / 100:.2f},USD,"
                f"2026-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d},won,100,"
                f"{rng.choice(('saas', 'services', 'hardware'))}\n"
            )
    return participants, deals


def reset_postgres(url: str) -> None:
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}"'))
        conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


def write_splits(folder: Path, rows: int, reps: int = 1000) -> Path:
    """Two split rows per deal D0 .. D(rows/2 - 1), 50% each, grouped by deal as exports are."""
    rng = random.Random(11)
    splits = folder / "splits.csv"
    with splits.open("w", encoding="utf-8") as out:
        out.write("deal_id,participant_id,share,role\n")
        for i in range(rows // 2):
            first = rng.randrange(reps)
            out.write(f"D{i},R{first},50,split\nD{i},R{(first + 1) % reps},50,split\n")
    return splits


def prepare(root: Path, participants: Path, deals: Path) -> None:
    """A store with the participants and the deals the split rows name (not timed)."""
    workspace = init_workspace(root)
    import_file(workspace, "participants", participants)
    import_file(workspace, "deals", deals)
    workspace.close()


def bench(label: str, root: Path, participants: Path, data: Path, rows: int, whole_file: bool = False,
          kind: str = "deals") -> None:
    if whole_file:
        import attain.app.imports as imports_module

        imports_module.STREAMED_ROWS = rows + 1  # the whole file in one part
        label += " (1 part)"
    if kind == "deals":
        workspace = init_workspace(root)
        import_file(workspace, "participants", participants)
    else:
        workspace = open_workspace(root)
    records = rows if kind == "deals" else rows // 2  # a deal's splits are one record
    started = time.perf_counter()
    report = import_file(workspace, kind, data)
    elapsed = time.perf_counter() - started
    assert report.new == records, report
    started = time.perf_counter()
    again = import_file(workspace, kind, data)
    noop = time.perf_counter() - started
    assert again.unchanged == records and not again.written
    workspace.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{label:<21} {rows:>9,} rows  import {elapsed:7.1f} s = {rows / elapsed:>9,.0f} rows/s   "
          f"re-import (no-op) {noop:6.1f} s = {rows / noop:>9,.0f} rows/s   peak RSS {peak:,.0f} MB", flush=True)


def _child(*args: object, target: Any = None) -> None:
    """One run in a process of its own, so its peak memory is its own."""
    context = multiprocessing.get_context("spawn")
    process = context.Process(target=target or bench, args=args)
    process.start()
    process.join()
    if process.exitcode != 0:
        raise SystemExit(f"the run {args[0]} failed (exit code {process.exitcode})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--whole-file", action="store_true", help="also run each backend with the file in one part")
    parser.add_argument("--kind", choices=("deals", "splits"), default="deals")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        splits = args.kind == "splits"
        participants, deals = write_files(folder, args.rows // 2 if splits else args.rows)
        data = write_splits(folder, args.rows) if splits else deals
        os.environ.pop("ATTAIN_DATABASE_URL", None)
        modes = (False, True) if args.whole_file else (False,)

        def run(label: str, root: Path, whole: bool) -> None:
            if splits:
                _child(root, participants, deals, target=prepare)
            _child(label, root, participants, data, args.rows, whole, args.kind)

        for whole in modes:
            run("SQLite", folder / f"sqlite-{whole}", whole)
        if not args.skip_postgres:
            os.environ["ATTAIN_DATABASE_URL"] = args.postgres
            for whole in modes:
                reset_postgres(args.postgres)
                run("PostgreSQL", folder / f"postgres-{whole}", whole)


if __name__ == "__main__":
    main()
