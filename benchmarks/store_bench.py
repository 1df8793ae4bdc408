"""The bulk run from a workspace's store at volume, against the same run from plain Parquet files.

    python benchmarks/store_bench.py [--payees 100000] [--rows 10000000] [--workdir bench-store]

1. The synthetic quarter of `attain bench` (attain.engine.vectorized.bench.generate: one deal in
   ten split 50/50, one in twenty cancelled) is generated as Parquet, once, in the work folder.
2. A SQLite workspace is seeded with it, once. Participants and quotas (100,000 rows each) go
   through the real import path (`import_file`). Deals and splits do not: the import path checks
   and hashes every row in Python (about 10,000 rows a second here, so 10M deals would take
   about 20 minutes). A bulk loader writes them in the store's own format instead: one import
   row per kind, every deal version in `deal_versions` and every split set in `split_versions`
   (the columns and content hashes an import would write), and the columnar segment of each
   import, all in one transaction per kind like an import. Its time is printed.
3. The workspace's cache is emptied (resolved participants and quotas, compiled plans), as
   after a new quarter's imports and a new plan version. In a child process, the step an import
   of participants or quotas ends with: resolving them for bulk runs (timed).
4. In one child process: `attain bulk`'s use case (read the segments as of the last import and
   the resolved participants and quotas, credit, calculate, write the payout lines to Parquet),
   the first run (which compiles the plan and keeps it) and the best of three. Then `attain
   bulk` as a user runs it, a new process each time, wall clock from start to exit. In another
   child process: `run_bulk` on the generated Parquet files, the baseline, first run and best of
   three. Each child reports its own peak RSS. The amounts of both must agree for every payee.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import resource
import shutil
import sys
import time
from pathlib import Path
from typing import Any

PERIOD = "2026-Q1"
BATCH = 200_000


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _hash(values: list[str | None]) -> str:
    text = "\x1f".join("\x00" if v is None else v for v in values)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def _load_kind(ws: Any, kind: str, source_sql: str, columns: list[str], segment_sql: str, parquet: Path) -> int:
    """One import of `kind` written in the store's format: the import row, the version rows and
    the segment (renamed into place before the commit), in one transaction."""
    import duckdb

    from attain.app.workspace import utc_now
    from attain.storage.schema import VERSIONED
    from attain.storage.segments import ImportStamp, segment_path, segments_folder
    from attain.storage.versions import Counts, begin_import, finish_import

    table = VERSIONED[kind]
    names = [c.name for c in table.columns if c.name != "id"]
    duck = duckdb.connect()
    duck.execute("SET preserve_insertion_order = true")
    digest = hashlib.sha256(parquet.read_bytes()).hexdigest()
    started_at = utc_now()
    count = 0
    with ws.engine.connect() as conn:
        transaction = conn.begin()
        import_id = begin_import(conn, kind=kind, source="default", file_name=parquet.name, file_sha256=digest,
                                 started_at=started_at)
        driver = conn.connection.driver_connection
        quoted = ", ".join(f'"{n}"' for n in names)
        insert = f'INSERT INTO "{table.name}" ({quoted}) VALUES ({", ".join("?" for _ in names)})'
        reader = duck.sql(source_sql).to_arrow_reader(BATCH)
        for batch in reader:
            data = batch.to_pydict()
            rows = []
            for i in range(batch.num_rows):
                values = [data[c][i] for c in columns]
                record = dict(zip(columns, values, strict=True))
                record.update(import_id=import_id, source="default", key=record[columns[0]], version=1,
                              content_hash=_hash(values))
                rows.append(tuple(record.get(n) for n in names))
            driver.executemany(insert, rows)
            count += len(rows)
        finish_import(conn, import_id, Counts(new=count), 0, utc_now())
        stamp = ImportStamp(import_id=import_id, kind=kind, file_sha256=digest, started_at=started_at, versions=count)
        target = segment_path(segments_folder(ws.root), kind, import_id)
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.tmp")
        meta = stamp.text().replace("'", "''")
        duck.execute(f"COPY ({segment_sql.format(import_id=import_id)}) TO '{temporary}' "
                     f"(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 1000000, "
                     f"KV_METADATA {{'attain.segment': '{meta}'}})")
        temporary.replace(target)
        transaction.commit()
    duck.close()
    return count


def seed(folder: Path, root: Path) -> dict[str, float]:
    """A workspace holding the generated quarter (see the module doc); returns seconds per step."""
    import duckdb

    from attain.app.imports import import_file
    from attain.app.workspace import init_workspace
    from attain.engine.vectorized.bench import PLAN_FILE

    times: dict[str, float] = {}
    ws = init_workspace(root, name="store-bench")
    (root / "plans" / "bench.yaml").write_text(PLAN_FILE, encoding="utf-8")
    duck = duckdb.connect()
    duck.execute(f"COPY (SELECT participant_id AS id, name, role, team FROM '{folder / 'participants.parquet'}') "
                 f"TO '{root / 'data' / 'participants.csv'}' (HEADER)")
    duck.execute(f"COPY (SELECT participant_id, metric, period, amount FROM '{folder / 'quotas.parquet'}') "
                 f"TO '{root / 'data' / 'quotas.csv'}' (HEADER)")
    duck.close()
    for kind in ("participants", "quotas"):
        started = time.perf_counter()
        import_file(ws, kind, root / "data" / f"{kind}.csv")
        times[f"import {kind} (import path)"] = time.perf_counter() - started
    deals = folder / "deals.parquet"
    started = time.perf_counter()
    _load_kind(ws, "deals", f"""SELECT deal_id, owner_id, CAST(amount AS VARCHAR) AS amount, currency, status,
            strftime(booked_on, '%Y-%m-%d') AS booked_on, NULL::VARCHAR AS signed_on, NULL::VARCHAR AS invoiced_on,
            NULL::VARCHAR AS recognized_on, NULL::VARCHAR AS cancelled_on, '1' AS delivered, '{{}}' AS fields
            FROM '{deals}'""",
               ["deal_id", "owner_id", "amount", "currency", "status", "booked_on", "signed_on", "invoiced_on",
                "recognized_on", "cancelled_on", "delivered", "fields"],
               f"""SELECT {{import_id}}::BIGINT AS import_id, 'default' AS source, deal_id AS key,
            1::INTEGER AS version,
            deal_id, owner_id, amount, currency, status, booked_on, signed_on, invoiced_on, recognized_on,
            NULL::DATE AS cancelled_on, 1::DECIMAL(18, 0) AS delivered FROM '{deals}'""", deals)
    times["load deals (bulk loader)"] = time.perf_counter() - started
    splits = folder / "splits.parquet"
    started = time.perf_counter()
    # The split set of a deal as the codec writes it: json.dumps of sorted [participant, share, role].
    _load_kind(ws, "splits", f"""SELECT deal_id, '[' || string_agg('["' || participant_id || '", "'
            || CAST(CAST(share AS DOUBLE) AS VARCHAR) || '", "' || role || '"]', ', '
            ORDER BY participant_id, share, role) || ']' AS shares FROM '{splits}' GROUP BY deal_id""",
               ["deal_id", "shares"],
               f"""SELECT {{import_id}}::BIGINT AS import_id, 'default' AS source, deal_id AS key,
            1::INTEGER AS version,
            deal_id, participant_id, CAST(share AS DECIMAL(18, 1)) AS share, role FROM '{splits}'""", splits)
    times["load splits (bulk loader)"] = time.perf_counter() - started
    ws.close()
    return times


def _store_runs(root: Path, output: Path, repeat: int) -> dict[str, Any]:
    import ibis

    from attain.app.bulk import bulk_calculate
    from attain.app.workspace import open_workspace

    ws = open_workspace(root)
    con = ibis.duckdb.connect(preserve_insertion_order=False)
    seconds = []
    steps = []
    for _ in range(1 + repeat):
        started = time.perf_counter()
        report = bulk_calculate(ws, PERIOD, plan_ids=["bench"], output=output, connection=con)
        seconds.append(time.perf_counter() - started)
        steps.append(report.seconds)
    ws.close()
    best = min(range(1, len(seconds)), key=lambda i: seconds[i])
    return {"first": seconds[0], "best": seconds[best], "first_steps": steps[0], "best_steps": steps[best],
            "lines": report.lines, "payees": report.payees, "total": str(report.total), "peak_rss_mb": _peak_rss_mb()}


def _prepare(root: Path) -> float:
    """What an import of participants, quotas or metrics does last: resolve them for bulk runs."""
    from attain.app.bulk import prepare_bulk_reads
    from attain.app.workspace import open_workspace

    ws = open_workspace(root)
    started = time.perf_counter()
    prepare_bulk_reads(ws)
    seconds = time.perf_counter() - started
    ws.close()
    return seconds


def _command_run(root: Path, output: Path) -> tuple[float, str]:
    """`attain bulk` as a user runs it: a new process, wall clock (Python's start-up included)."""
    import subprocess

    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "attain", "bulk", "--workspace", str(root), "--period", PERIOD,
                           "--plan", "bench", "--output", str(output)], capture_output=True, text=True, check=True)
    return time.perf_counter() - started, " ".join(done.stdout.split())


def _parquet_runs(folder: Path, output: Path, repeat: int) -> dict[str, Any]:
    import ibis

    from attain.core.periods import parse_period
    from attain.engine.vectorized import run_bulk
    from attain.engine.vectorized.bench import bench_plan

    con = ibis.duckdb.connect(preserve_insertion_order=False)
    seconds = []
    for _ in range(1 + repeat):
        started = time.perf_counter()
        run_bulk(bench_plan(), folder, parse_period(PERIOD), connection=con, output=output)
        seconds.append(time.perf_counter() - started)
    return {"first": seconds[0], "best": min(seconds[1:]), "peak_rss_mb": _peak_rss_mb()}


def _agree(store_lines: Path, parquet_table: Path) -> bool:
    import duckdb

    mismatches = duckdb.sql(f"""
        WITH s AS (SELECT participant_id, component, amount FROM '{store_lines}'),
             p AS (UNPIVOT '{parquet_table}' ON milestone, commission INTO NAME component VALUE amount)
        SELECT count(*) FROM s FULL JOIN p USING (participant_id, component)
        WHERE coalesce(s.amount, 0) <> coalesce(p.amount, 0)""").fetchall()[0][0]
    return mismatches == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payees", type=int, default=100_000)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--workdir", type=Path, default=Path("bench-store"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from attain.engine.vectorized.bench import generate

    workdir = args.workdir.resolve()
    folder = workdir / f"quarter-{args.payees}-{args.rows}"
    root = workdir / f"workspace-{args.payees}-{args.rows}"
    ctx = multiprocessing.get_context("spawn")
    if not (folder / "deals.count").exists():
        started = time.perf_counter()
        with ctx.Pool(1) as pool:
            deals = pool.apply(generate, (folder, args.payees, args.rows))
        (folder / "deals.count").write_text(str(deals))
        print(f"generated the quarter in {time.perf_counter() - started:.1f} s")
    if not (root / "seeded.json").exists():
        with ctx.Pool(1) as pool:
            times = pool.apply(seed, (folder, root))
        (root / "seeded.json").write_text(json.dumps(times, indent=2))
    times = json.loads((root / "seeded.json").read_text())
    print("seeding the workspace (once): " + ", ".join(f"{k} {v:.1f} s" for k, v in times.items()))
    store_out, parquet_out = workdir / "store-lines.parquet", workdir / "parquet-amounts.parquet"
    # From a cold cache: the resolved participants and quotas and the compiled plan are made
    # again, as after the imports of a new quarter's data and a new plan version.
    shutil.rmtree(root / "store" / "cache", ignore_errors=True)
    with ctx.Pool(1) as pool:
        prepared = pool.apply(_prepare, (root,))
    with ctx.Pool(1) as pool:
        store = pool.apply(_store_runs, (root, store_out, args.repeat))
    commands = [_command_run(root, store_out) for _ in range(args.repeat)]
    with ctx.Pool(1) as pool:
        plain = pool.apply(_parquet_runs, (folder, parquet_out, args.repeat))
    deals = int((folder / "deals.count").read_text())
    print(f"{deals:,} deals, {args.payees:,} payees, {store['lines']:,} payout lines, total {store['total']}")
    print(f"{'run':<34}{'first run':>11}{'best of ' + str(args.repeat):>12}{'ratio':>8}{'peak RSS':>12}")
    print(f"{'from the store (attain bulk)':<34}{store['first']:>10.2f}s{store['best']:>11.2f}s"
          f"{store['best'] / plain['best']:>7.2f}x{store['peak_rss_mb']:>9.0f} MB")
    print(f"{'from Parquet files (run_bulk)':<34}{plain['first']:>10.2f}s{plain['best']:>11.2f}s"
          f"{1:>7.2f}x{plain['peak_rss_mb']:>9.0f} MB")
    print(f"resolving 100k participants and quotas for bulk runs (the last step of their import): {prepared:.2f} s")
    print("`attain bulk` in a new process each time (wall clock, plan compiled by an earlier process): "
          + ", ".join(f"{seconds:.2f} s" for seconds, _ in commands))
    print(f"  it printed: {commands[-1][1]}")
    print("store run steps (best): " + ", ".join(f"{k} {v:.2f} s" for k, v in store["best_steps"].items()))
    print("store run steps (first): " + ", ".join(f"{k} {v:.2f} s" for k, v in store["first_steps"].items()))
    agrees = _agree(store_out, parquet_out)
    print(f"same amounts for every payee: {agrees}")
    sys.exit(0 if agrees else 1)


if __name__ == "__main__":
    main()
