"""The benchmark behind `attain bench`: a synthetic quarter, the vectorized run, a hand-written baseline.

The quarter is generated straight to Parquet by DuckDB (streaming, in a child process so the
generator's memory is not counted): payees with quotas, deals with splits and cancellations.
The plan has a milestone bonus, marginal tiers with a gate and a cap. The vectorized executor
and a hand-written DuckDB SQL query of the same plan run in this process on the same files and
must agree on every amount; the reference engine runs on a sample to extrapolate its speed.
"""

from __future__ import annotations

import multiprocessing
import resource
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from attain.core.dataset import DataSet
from attain.core.expressions import parse
from attain.core.periods import PeriodKind, parse_period
from attain.core.plan import (
    Aggregate,
    Basis,
    Gate,
    Limit,
    MarginalTiers,
    MetricDef,
    Milestone,
    Plan,
    Rate,
    Tier,
)
from attain.core.records import Deal, DealStatus, Participant, Quota, Split

PERIOD = "2026-Q1"
SPLIT_EVERY = 10  # one deal in ten is split 50/50 with another payee
CANCEL_EVERY = 20  # one deal in twenty is cancelled


def bench_plan() -> Plan:
    """A milestone at 100% of quota, marginal tiers gated on at least three deals, capped at 3x TI."""
    return Plan(
        id="bench", name="Benchmark plan", version="1", currency="USD",
        metrics=(MetricDef(name="bookings", aggregate=Aggregate.SUM),
                 MetricDef(name="deal_count", aggregate=Aggregate.COUNT)),
        components=(
            Milestone(id="milestone", label="Quota bonus", metric="bookings", period=PeriodKind.QUARTER,
                      target_incentive=Decimal(10000), threshold=Decimal(1), basis=Basis.ATTAINMENT,
                      share_of_target=Decimal(1)),
            MarginalTiers(
                id="commission", label="Commission", metric="bookings", period=PeriodKind.QUARTER,
                target_incentive=Decimal(20000), basis=Basis.ATTAINMENT,
                tiers=(Tier(lower=Decimal(0), upper=Decimal("0.5"), rate=Rate(fixed=Decimal("0.02"))),
                       Tier(lower=Decimal("0.5"), upper=Decimal(1), rate=Rate(fixed=Decimal("0.05"))),
                       Tier(lower=Decimal(1), upper=None, rate=Rate(fixed=Decimal("0.08")))),
                gates=(Gate(condition=parse("deal_count >= 3"), text="deal_count >= 3"),),
                cap=Limit(multiple_of_target=Decimal(3)),
            ),
        ),
    )


KEYS = ("text", "integer")


# bench_plan() as a plan file, as a user writes it (run from a workspace by benchmarks/store_bench.py
# and submitted to a Spark cluster by tests/vectorized/test_spark_cluster.py).
PLAN_FILE = """\
plan: bench
name: Benchmark plan
version: "1"
currency: USD
metrics:
  bookings: {sum: amount}
  deal_count: {count: deals}
components:
  - id: milestone
    label: Quota bonus
    kind: milestone
    metric: bookings
    period: quarter
    target_incentive: 10000
    threshold: 100%
    pays: 100%
  - id: commission
    label: Commission
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
"""


def _key_formats(keys: str) -> tuple[str, str]:
    """The SQL templates (of a number `{n}`) the generator writes a payee id and a deal id with:
    text ids, as CRM exports have them ('p0000042', 'd0000000042'), or integers, as a
    warehouse's surrogate keys."""
    if keys == "integer":
        return "({n})::INTEGER", "({n})::BIGINT"
    return "printf('p%07d', {n})", "printf('d%010d', {n})"


def generate(folder: Path, payees: int, rows: int, keys: str = "text") -> int:
    """Write participants, quotas, deals and splits Parquet files; return the number of deals."""
    import duckdb

    folder.mkdir(parents=True, exist_ok=True)
    deals = max(1, rows * SPLIT_EVERY // (SPLIT_EVERY + 1))
    payee, deal = _key_formats(keys)
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    con.execute(f"""COPY (SELECT {payee.format(n="i")} AS participant_id, printf('Payee %d', i) AS name, 'ae' AS role,
        printf('t%04d', i % 1000) AS team, NULL::DATE AS start_date, NULL::DATE AS end_date
        FROM range({payees}) t(i)) TO '{folder / "participants.parquet"}' (FORMAT parquet)""")
    con.execute(f"""COPY (SELECT {payee.format(n="i")} AS participant_id, 'bookings' AS metric, '{PERIOD}' AS period,
        (200000 + (i % 16) * 25000)::DECIMAL(18, 2) AS amount FROM range({payees}) t(i))
        TO '{folder / "quotas.parquet"}' (FORMAT parquet)""")
    con.execute(f"""COPY (SELECT {deal.format(n="i")} AS deal_id, {payee.format(n=f"hash(i) % {payees}")} AS owner_id,
        ((hash(i * 7) % 2000000) / 100)::DECIMAL(18, 2) AS amount, 'USD' AS currency,
        CASE WHEN i % {CANCEL_EVERY} = 0 THEN 'cancelled' ELSE 'won' END AS status,
        DATE '2026-01-01' + (hash(i * 13) % 90)::INTEGER AS booked_on, NULL::DATE AS signed_on,
        NULL::DATE AS invoiced_on, NULL::DATE AS recognized_on, 1::DECIMAL(5, 4) AS delivered
        FROM range({deals}) t(i)) TO '{folder / "deals.parquet"}' (FORMAT parquet, ROW_GROUP_SIZE 1000000)""")
    con.execute(f"""COPY (SELECT deal_id, participant_id, 0.5::DECIMAL(5, 4) AS share, 'split' AS role FROM (
        SELECT {deal.format(n="i")} AS deal_id, {payee.format(n=f"hash(i) % {payees}")} AS participant_id
        FROM range(0, {deals}, {SPLIT_EVERY}) t(i)
        UNION ALL
        SELECT {deal.format(n="i")}, {payee.format(n=f"(hash(i) % {payees} + 1) % {payees}")}
        FROM range(0, {deals}, {SPLIT_EVERY}) t(i)))
        TO '{folder / "splits.parquet"}' (FORMAT parquet)""")
    con.close()
    return deals


# The baseline: the bench plan as a person would write it in DuckDB SQL, exact DECIMAL all the
# way (no double anywhere). It computes what the plan does on this data:
# - credits: won USD deals booked in the quarter, amount x delivered share; a deal with split
#   rows (roles split/owner) credits each split payee amount x delivered x share, but only if its
#   shares sum to 100% (otherwise the deal credits no one); a deal without split rows credits
#   its owner in full. The deals are read once, streamed through a join with the small split
#   table, and summed per payee (bookings and the count of credits);
# - per payee: the quarter's quota (the payee's quota for 2026-Q1), the milestone (10,000 once
#   bookings reach quota), marginal tiers 2% / 5% / 8% on the attainment bands 0-50%, 50-100%,
#   above 100%, paid only with at least three credited deals and capped at 60,000 (3x the
#   target incentive), rounded once to the cent.
BASELINE_SQL = """
WITH shared AS (
  SELECT deal_id, participant_id, share FROM read_parquet('{splits}') WHERE role IN ('split', 'owner')
), totals AS (
  SELECT deal_id, sum(share) AS total FROM shared GROUP BY deal_id
), shares AS (
  SELECT deal_id, participant_id, sum(share) AS share FROM shared
  WHERE deal_id IN (SELECT deal_id FROM totals WHERE total = 1) GROUP BY deal_id, participant_id
), credits AS (
  SELECT coalesce(s.participant_id, d.owner_id) AS participant_id,
         d.amount * d.delivered * coalesce(s.share, 1) AS amount
  FROM read_parquet('{deals}') d LEFT JOIN shares s USING (deal_id)
  WHERE d.status = 'won' AND d.currency = 'USD' AND d.booked_on >= DATE '2026-01-01'
    AND d.booked_on < DATE '2026-04-01' AND d.deal_id NOT IN (SELECT deal_id FROM totals WHERE total <> 1)
), per_payee AS (
  SELECT participant_id, sum(amount) AS bookings, count(*) AS deal_count FROM credits GROUP BY participant_id
), figures AS (
  SELECT p.participant_id, coalesce(c.bookings, 0) AS v, coalesce(c.deal_count, 0) AS n, q.amount AS q
  FROM read_parquet('{participants}') p
  LEFT JOIN per_payee c USING (participant_id)
  LEFT JOIN (SELECT participant_id, min(amount) AS amount FROM read_parquet('{quotas}')
             WHERE metric = 'bookings' AND period = '2026-Q1' GROUP BY participant_id) q USING (participant_id)
)
SELECT participant_id,
  CASE WHEN q IS NULL OR q = 0 THEN 0 WHEN v >= q THEN 10000 ELSE 0 END::DECIMAL(38, 2) AS milestone,
  round(CASE WHEN q IS NULL OR q = 0 OR n < 3 THEN 0 ELSE least(60000,
      greatest(least(v, 0.5 * q), 0) * 0.02
    + greatest(least(v, q) - 0.5 * q, 0) * 0.05
    + greatest(v - q, 0) * 0.08) END, 2)::DECIMAL(38, 2) AS commission
FROM figures
"""


# The floor: one pass over the deals, reading the columns the plan needs, keeping won USD deals of
# the quarter and summing them per owner; no splits, no quotas, no plan. No executor computing
# per-payee totals from these files can do less, so it shows how close to the machine's limit
# the vectorized run and the baseline are.
SCAN_SQL = """
SELECT owner_id, sum(amount * delivered) AS bookings, count(*) AS deal_count FROM read_parquet('{deals}')
WHERE status = 'won' AND currency = 'USD' AND booked_on >= DATE '2026-01-01' AND booked_on < DATE '2026-04-01'
GROUP BY owner_id
"""


# The floor of crediting: the same pass, but each deal's id read and looked up among the deals
# that have split rows, as any executor must to credit a split deal to its split payees rather
# than its owner (no shares applied, no quotas, no plan).
CREDIT_FLOOR_SQL = """
WITH split_deals AS (SELECT DISTINCT deal_id FROM read_parquet('{splits}'))
SELECT d.owner_id, sum(d.amount * d.delivered) AS bookings, count(*) AS deal_count, count(s.deal_id) AS split_deals
FROM read_parquet('{deals}') d LEFT JOIN split_deals s USING (deal_id)
WHERE d.status = 'won' AND d.currency = 'USD' AND d.booked_on >= DATE '2026-01-01' AND d.booked_on < DATE '2026-04-01'
GROUP BY d.owner_id
"""


def scan(con: Any, folder: Path) -> Any:
    """The floor: the deals read once and summed per owner (see SCAN_SQL)."""
    return con.sql(SCAN_SQL.format(deals=folder / "deals.parquet")).to_arrow_table()


def credit_floor(con: Any, folder: Path) -> Any:
    """The floor of crediting: the pass with every deal id matched to the split deals (CREDIT_FLOOR_SQL)."""
    return con.sql(CREDIT_FLOOR_SQL.format(deals=folder / "deals.parquet",
                                           splits=folder / "splits.parquet")).to_arrow_table()


def baseline(con: Any, folder: Path) -> Any:
    """The same plan written by hand in DuckDB SQL, exact DECIMAL all the way."""
    sql = BASELINE_SQL.format(**{name: folder / f"{name}.parquet"
                                 for name in ("deals", "splits", "participants", "quotas")})
    return con.sql(sql).to_arrow_table()


def baseline_in_postgres(con: Any, tables: dict[str, str]) -> Any:
    """The same hand-written query run by PostgreSQL on the tables `load_into_postgres` wrote (its
    SQL is standard but for DuckDB's `read_parquet`), to compare the postgres executor with what
    a person would write for that database."""
    sql = BASELINE_SQL
    for name, table in tables.items():
        sql = sql.replace(f"read_parquet('{{{name}}}')", f'"{table}"')
    import pyarrow as pa

    cursor = con.con.execute(sql)
    names = [column.name for column in cursor.description]
    return pa.Table.from_pylist([dict(zip(names, row, strict=True)) for row in cursor.fetchall()])


def reference_sample_data(folder: Path, payees: int, keys: str = "text") -> DataSet:
    """The first `payees` payees of a generated quarter, their deals, splits and quotas, as a
    DataSet (whose ids are text: integer keys are written as their digits)."""
    import duckdb

    con = duckdb.connect()
    ids = [str(i) if keys == "integer" else f"p{i:07d}" for i in range(payees)]
    id_list = ", ".join(ids if keys == "integer" else (f"'{i}'" for i in ids))
    deal_rows = con.sql(f"""SELECT * FROM read_parquet('{folder / "deals.parquet"}') WHERE owner_id IN ({id_list})
                            """).fetchall()
    split_rows = con.sql(f"""SELECT * FROM read_parquet('{folder / "splits.parquet"}')
                             WHERE deal_id IN (SELECT deal_id FROM read_parquet('{folder / "deals.parquet"}')
                                               WHERE owner_id IN ({id_list}))""").fetchall()
    quota_rows = con.sql(f"""SELECT * FROM read_parquet('{folder / "quotas.parquet"}')
                             WHERE participant_id IN ({id_list})""").fetchall()
    con.close()
    return DataSet(
        participants=tuple(Participant(id=i, name=i, role="ae") for i in ids),
        deals=tuple(Deal(id=str(r[0]), owner_id=str(r[1]), amount=r[2], currency=r[3], status=DealStatus(r[4]),
                         booked_on=r[5], delivered=r[9]) for r in deal_rows),
        splits=tuple(Split(deal_id=str(r[0]), participant_id=str(r[1]), share=r[2], role=r[3]) for r in split_rows),
        quotas=tuple(Quota(participant_id=str(r[0]), metric=r[1], period=r[2], amount=r[3]) for r in quota_rows),
    )


def reference_sample(folder: Path, payees: int, keys: str = "text") -> tuple[int, float]:
    """Run the reference engine on the first `payees` payees; return (credited rows, seconds).

    A split deal owned by a sampled payee credits its other payee too; those credits count.
    """
    from attain.engine.reference import calculate

    data = reference_sample_data(folder, payees, keys)
    started = time.perf_counter()
    result = calculate(bench_plan(), data, parse_period(PERIOD))
    seconds = time.perf_counter() - started
    credited = sum(len(line.deals) for line in result.lines if line.component_id == "commission")
    return max(credited, 1), seconds


_PG_TYPES = {"string": "text", "large_string": "text", "int64": "bigint", "int32": "integer", "bool": "boolean",
             "date32[day]": "date"}


def _pg_type(arrow_type: Any) -> str:
    import pyarrow as pa

    if pa.types.is_decimal(arrow_type):
        return f"numeric({arrow_type.precision}, {arrow_type.scale})"
    try:
        return _PG_TYPES[str(arrow_type)]
    except KeyError:
        raise ValueError(f"no PostgreSQL column type for {arrow_type} in the bench quarter") from None


def load_into_postgres(con: Any, folder: Path) -> tuple[dict[str, str], float]:
    """The quarter's Parquet files as PostgreSQL tables (the postgres executor computes in the
    database, which cannot read Parquet): each file copied into an unlogged table named after the
    folder, then analyzed. Tables already holding the file's rows are kept. Returns the table
    names and the seconds the copies took (not part of the timed runs)."""
    import io

    import pyarrow as pa
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    from attain.engine.vectorized.sources import BULK_TABLES

    raw = con.con
    started = time.perf_counter()
    names: dict[str, str] = {}
    for name in BULK_TABLES:
        source = pq.ParquetFile(folder / f"{name}.parquet")
        table = f"attain_bench_{folder.name.replace('-', '_')}_{name}"
        names[name] = table
        with raw.cursor() as cursor:
            found = cursor.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone()
            if found and found[0]:
                counted = cursor.execute(f'SELECT count(*) FROM "{table}"').fetchone()
                if counted and counted[0] == source.metadata.num_rows:
                    continue
            columns = ", ".join(f'"{field.name}" {_pg_type(field.type)}' for field in source.schema_arrow)
            cursor.execute(f'DROP TABLE IF EXISTS "{table}"')
            cursor.execute(f'CREATE UNLOGGED TABLE "{table}" ({columns})')
            with cursor.copy(f'COPY "{table}" FROM STDIN (FORMAT csv)') as copy:
                for batch in source.iter_batches(batch_size=500_000):
                    text = io.BytesIO()
                    pa_csv.write_csv(pa.Table.from_batches([batch]), text,
                                     write_options=pa_csv.WriteOptions(include_header=False))
                    copy.write(text.getvalue())
            cursor.execute(f'ANALYZE "{table}"')
        if not raw.autocommit:
            raw.commit()
    return names, time.perf_counter() - started


@dataclass(frozen=True, slots=True, kw_only=True)
class BenchResult:
    rows: int
    deals: int
    payees: int
    keys: str
    executor: str
    seconds: float
    first_run_seconds: float
    compile_seconds: float
    baseline_seconds: float
    ratio_to_baseline: float
    scan_seconds: float
    ratio_to_scan: float
    credit_floor_seconds: float
    ratio_to_credit_floor: float
    rows_per_second: float
    peak_rss_mb: float
    memory_limit: str | None
    threads: int
    load_seconds: float | None
    postgres_baseline_seconds: float | None
    reference_rows_per_second: float
    speedup_vs_reference: float
    agrees_with_baseline: bool


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def duckdb_settings(memory_limit: str | None, spill: Path | None = None, threads: int | None = None) -> dict[str, Any]:
    """The DuckDB settings both the vectorized run and the baseline run with; beyond the memory
    limit DuckDB spills to `spill` (by default a `.tmp` folder in the working directory). `threads`
    caps DuckDB's worker threads (by default one per core)."""
    settings: dict[str, Any] = {"preserve_insertion_order": False}
    if memory_limit:
        settings["memory_limit"] = memory_limit
    if threads is not None:
        settings["threads"] = threads
    if spill is not None:
        settings["temp_directory"] = str(spill)
    return settings


def run(payees: int, rows: int, workdir: Path, executor: str = "duckdb", reference_payees: int = 200,
        repeat: int = 3, memory_limit: str | None = None, keys: str = "text",
        threads: int | None = None) -> BenchResult:
    """Generate (if needed), then time the vectorized run and the baseline (best of `repeat`).

    The first vectorized run compiles the plan (reported as `first_run_seconds` and
    `compile_seconds`); later runs of the same plan version reuse the compiled SQL.
    """
    import duckdb
    import ibis

    from attain.engine.vectorized import connect, run_bulk

    if keys not in KEYS:
        raise ValueError(f"keys is one of {', '.join(KEYS)}, not {keys!r}")
    folder = workdir / (f"quarter-{payees}-{rows}" + ("-integer-keys" if keys == "integer" else ""))
    marker = folder / "deals.count"
    if not marker.exists():
        ctx = multiprocessing.get_context("spawn")
        with ctx.Pool(1) as pool:
            deals = pool.apply(generate, (folder, payees, rows, keys))
        marker.write_text(str(deals))
    deals = int(marker.read_text())
    plan = bench_plan()
    period = parse_period(PERIOD)
    if threads is not None and threads < 1:
        raise ValueError(f"threads is at least 1, not {threads}")
    settings = duckdb_settings(memory_limit, workdir / "spill", threads)
    con = connect(executor) if executor != "duckdb" else ibis.duckdb.connect(**settings)
    source: Path | dict[str, str] = folder
    load_seconds = None
    if executor == "postgres":
        source, load_seconds = load_into_postgres(con, folder)
    raw = duckdb.connect(config=settings)
    used_threads = int(raw.execute("SELECT current_setting('threads')").fetchall()[0][0])
    # In rounds, each query once per round, so a slow spell of the machine (a shared host) falls
    # on all of them alike rather than on whichever ran then; the best round of each counts.
    seconds, results = _rounds(repeat, {
        "vectorized": lambda: run_bulk(plan, source, period, connection=con),
        "baseline": lambda: baseline(raw, folder),
        "scan": lambda: scan(raw, folder),
        "credit_floor": lambda: credit_floor(raw, folder),
        **({"postgres_baseline": lambda: baseline_in_postgres(con, source)} if isinstance(source, dict) else {}),
    })
    first, best = seconds["vectorized"][0], min(seconds["vectorized"])
    best_base, best_scan, best_floor = (min(seconds[name]) for name in ("baseline", "scan", "credit_floor"))
    agrees = _agree(results["vectorized"], results["baseline"]) and (
        "postgres_baseline" not in results or _agree(results["vectorized"], results["postgres_baseline"]))
    credited = deals + deals // SPLIT_EVERY  # split deals credit two payees
    # The reference engine's best of up to three runs, as the others' best round.
    ref_rows, ref_seconds = min((reference_sample(folder, reference_payees, keys) for _ in range(min(repeat, 3))),
                                key=lambda found: found[1])
    reference_rps = ref_rows / ref_seconds
    rps = credited / best
    return BenchResult(rows=credited, deals=deals, payees=payees, keys=keys, executor=executor, seconds=round(best, 3),
                       first_run_seconds=round(first, 3), compile_seconds=round(compile_seconds(plan, source, con), 3),
                       baseline_seconds=round(best_base, 3), ratio_to_baseline=round(best / best_base, 3),
                       scan_seconds=round(best_scan, 3), ratio_to_scan=round(best / best_scan, 3),
                       credit_floor_seconds=round(best_floor, 3), ratio_to_credit_floor=round(best / best_floor, 3),
                       rows_per_second=round(rps), peak_rss_mb=round(_peak_rss_mb(), 1), memory_limit=memory_limit,
                       threads=used_threads,
                       load_seconds=None if load_seconds is None else round(load_seconds, 3),
                       postgres_baseline_seconds=(round(min(seconds["postgres_baseline"]), 3)
                                                  if "postgres_baseline" in seconds else None),
                       reference_rows_per_second=round(reference_rps),
                       speedup_vs_reference=round(rps / reference_rps, 2), agrees_with_baseline=agrees)


def _rounds(repeat: int, calls: dict[str, Any]) -> tuple[dict[str, list[float]], dict[str, Any]]:
    """The seconds of each call in each of `repeat` rounds (every call once per round, in order),
    and each call's last result."""
    seconds: dict[str, list[float]] = {name: [] for name in calls}
    results: dict[str, Any] = {}
    for _ in range(repeat):
        for name, call in calls.items():
            started = time.perf_counter()
            results[name] = call()
            seconds[name].append(time.perf_counter() - started)
    return seconds, results


def compile_seconds(plan: Plan, folder: Path | dict[str, str], con: Any) -> float:
    from attain.core.periods import CALENDAR
    from attain.engine.vectorized import _profile, bulk

    return bulk.prepare(plan, folder, parse_period(PERIOD), con, CALENDAR, _profile(con)).compile_seconds


def _agree(vectorized: Any, base: Any) -> bool:
    if vectorized is None or base is None:
        return False
    mine = {r["participant_id"]: (r["milestone"], r["commission"]) for r in vectorized.to_pylist()}
    theirs = {r["participant_id"]: (r["milestone"], r["commission"]) for r in base.to_pylist()}
    return mine == theirs


__all__ = ["BenchResult", "bench_plan", "generate", "run"]
