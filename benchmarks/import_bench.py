"""Benchmark: rows per second for a deal import (default 1,000,000 rows) into SQLite and PostgreSQL.

Usage: python benchmarks/import_bench.py [--rows N] [--postgres URL] [--skip-postgres]
Times the whole `attain import deals` use case: reading and validating the CSV, checking
references, hashing each row's content, and writing versions in one transaction; then the
no-op re-import of the same file.
"""

from __future__ import annotations

import argparse
import os
import random
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


def bench(label: str, root: Path, participants: Path, deals: Path, rows: int) -> None:
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
    print(f"{label:<10} {rows:>9,} rows  import {elapsed:7.1f} s = {rows / elapsed:>9,.0f} rows/s   "
          f"re-import (no-op) {noop:6.1f} s = {rows / noop:>9,.0f} rows/s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        participants, deals = write_files(folder, args.rows)
        os.environ.pop("ATTAIN_DATABASE_URL", None)
        bench("SQLite", folder / "sqlite", participants, deals, args.rows)
        if not args.skip_postgres:
            reset_postgres(args.postgres)
            os.environ["ATTAIN_DATABASE_URL"] = args.postgres
            bench("PostgreSQL", folder / "postgres", participants, deals, args.rows)


if __name__ == "__main__":
    main()
