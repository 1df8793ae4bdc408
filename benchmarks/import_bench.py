"""Benchmark: rows per second and peak memory for a deal import (default 1,000,000 rows) into SQLite
and PostgreSQL.

Usage: python benchmarks/import_bench.py [--rows N] [--postgres URL] [--skip-postgres] [--whole-file]
Times the whole `attain import deals` use case: reading and validating the CSV, checking
references, hashing each row's content, and writing versions and the columnar segment in one
transaction; then the no-op re-import of the same file. Each run is a child process of its own,
which reports its peak RSS. With --whole-file, each backend is also run with the file read,
checked and written in one part (as imports did before they were streamed), as the baseline.
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

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from attain.app.imports import import_file
from attain.app.workspace import init_workspace

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


def bench(label: str, root: Path, participants: Path, deals: Path, rows: int, whole_file: bool = False) -> None:
    if whole_file:
        import attain.app.imports as imports_module

        imports_module.STREAMED_ROWS = rows + 1  # the whole file in one part
        label += " (1 part)"
    workspace = init_workspace(root)
    import_file(workspace, "participants", participants)
    started = time.perf_counter()
    report = import_file(workspace, "deals", deals)
    elapsed = time.perf_counter() - started
    assert report.new == rows, report
    started = time.perf_counter()
    again = import_file(workspace, "deals", deals)
    noop = time.perf_counter() - started
    assert again.unchanged == rows and not again.written
    workspace.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{label:<21} {rows:>9,} rows  import {elapsed:7.1f} s = {rows / elapsed:>9,.0f} rows/s   "
          f"re-import (no-op) {noop:6.1f} s = {rows / noop:>9,.0f} rows/s   peak RSS {peak:,.0f} MB", flush=True)


def _child(*args: object) -> None:
    """One run in a process of its own, so its peak memory is its own."""
    context = multiprocessing.get_context("spawn")
    process = context.Process(target=bench, args=args)
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
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        participants, deals = write_files(folder, args.rows)
        os.environ.pop("ATTAIN_DATABASE_URL", None)
        modes = (False, True) if args.whole_file else (False,)
        for whole in modes:
            _child("SQLite", folder / f"sqlite-{whole}", participants, deals, args.rows, whole)
        if not args.skip_postgres:
            os.environ["ATTAIN_DATABASE_URL"] = args.postgres
            for whole in modes:
                reset_postgres(args.postgres)
                _child("PostgreSQL", folder / f"postgres-{whole}", participants, deals, args.rows, whole)


if __name__ == "__main__":
    main()
