"""Benchmark: one deal changed, that payee's result recomputed from the store (target: under 50 ms).

Usage: python benchmarks/recompute_bench.py [--deals N] [--payees N] [--runs N] [--full-runs N]
                                            [--postgres URL] [--skip-postgres]

Builds a workspace store through the import path (default 100,000 deals over two fiscal years
across 2,000 participants: reps, SEs on overlay, managers and directors on roll-up, a partner
team pool), changes one deal of one rep through the import path, then in the same process times:

  narrow  `attain calc --participant X` from the store now: only the records X's result depends
          on (storage/payee_reads.py), then the reference engine for X;
  full    the same payee from the full read of the store (every record of the fiscal year, what
          `attain calc --participant X` read before), then the reference engine for X.

Each figure is the median of --runs runs (--full-runs for the full read, which takes seconds) after
a first (cold) run, shown separately: it also parses the plan texts, which a process then keeps.
Both reads give the same lines (checked). On PostgreSQL the store is ANALYZEd after seeding, as
autovacuum does on a default server: the index plans need the tables' statistics.
The rep is the payee of the changed deal; a first-line manager and a director (roll-up over
their whole organisation) show how the cost follows what the payee depends on. SQLite, and
PostgreSQL when it answers (default ATTAIN_TEST_POSTGRES_URL's server, database attain_bench_recompute).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from attain.app.calculation import calculate_payee
from attain.app.imports import import_file
from attain.app.runs import load_plans
from attain.app.workspace import Workspace, init_workspace
from attain.engine.reference import calculate
from attain.engine.results import CalcResult
from attain.storage.snapshot import read_dataset
from attain.storage.versions import known_import

PERIOD = "2026-Q1"
DEFAULT_POSTGRES = make_url(os.environ.get(
    "ATTAIN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/attain_test",
)).set(database="attain_bench_recompute").render_as_string(hide_password=False)

PLANS = {
    "ae.yaml": """
plan: ae
name: Account executives
currency: USD
assign: {roles: [ae]}
crediting: {overlay_roles: [se], clawback_days: 180}
metrics:
  bookings: {sum: amount}
components:
  - {id: quota_bonus, label: Quota bonus, kind: milestone, metric: bookings, period: quarter,
     target_incentive: 20000, threshold: 100%, pays: 100%}
  - {id: commission, label: Commission, kind: tiered, method: marginal, metric: bookings, period: quarter,
     tiers: [{from: 0%, to: 100%, rate: 4%}, {from: 100%, rate: 7%}], gates: ["csat >= 3.5"]}
  - {id: logos, label: New-logo SPIFF, kind: spiff, window: {from: 2026-03-01, to: 2026-03-31},
     qualifies: "deal_type == 'new_logo'", amount_per_deal: 300}
""",
    "managers.yaml": """
plan: managers
name: Managers and directors on roll-up
currency: USD
assign: {roles: [manager, director]}
crediting: {rollup: true, overlay_roles: [se]}
metrics:
  bookings: {sum: amount}
components:
  - {id: override, label: Override, kind: flat_rate, metric: bookings, period: quarter, rate: 0.5%}
  - {id: team_goal, label: Team goal, kind: stepped, metric: bookings, period: quarter, target_incentive: 30000,
     steps: [{at: 90%, pays: 50%}, {at: 100%, pays: 100%}]}
""",
    "se.yaml": """
plan: se
name: Solution engineers
currency: USD
assign: {roles: [se]}
crediting: {overlay_roles: [se]}
metrics:
  bookings: {sum: amount}
components:
  - {id: overlay, label: Overlay, kind: flat_rate, metric: bookings, period: quarter, rate: 0.3%}
""",
    "partners.yaml": """
plan: partners
name: Partner team pool
currency: USD
assign: {roles: [partner]}
metrics:
  bookings: {sum: amount}
components:
  - {id: pool, label: Partner pool, kind: pool, metric: bookings, period: quarter, quota: 5000000,
     target_incentive: 100000, funding: {kind: milestone, threshold: 100%, pays: 100%},
     buckets: [{id: volume, share: 80%, split: contribution}, {id: even, share: 20%, split: equal}]}
""",
}


def build_files(folder: Path, deals: int, payees: int) -> dict[str, object]:
    """Seeded CSV files of a company; returns who is who."""
    rng = random.Random(2026)
    directors = [f"dir-{i:02d}" for i in range(max(1, payees // 200))]
    managers = [f"mgr-{i:03d}" for i in range(max(1, payees // 20))]
    ses = [f"se-{i:03d}" for i in range(max(1, payees // 20))]
    partners = [f"partner-{i:02d}" for i in range(max(1, payees // 100))]
    reps = [f"rep-{i:04d}" for i in range(payees - len(directors) - len(managers) - len(ses) - len(partners) - 1)]
    manager_of = {m: directors[i % len(directors)] for i, m in enumerate(managers)}
    team_of = {r: managers[i % len(managers)] for i, r in enumerate(reps)}
    with (folder / "participants.csv").open("w", encoding="utf-8") as out:
        out.write("id,name,role,team,manager_id,start_date\n")
        out.write("vp,The VP,vp,lead,,2020-01-01\n")
        for d in directors:
            out.write(f"{d},{d},director,lead,vp,2020-01-01\n")
        for m in managers:
            out.write(f"{m},{m},manager,{m},{manager_of[m]},2020-01-01\n")
        for r in reps:
            out.write(f"{r},{r},ae,{team_of[r]},{team_of[r]},2021-01-01\n")
        for s in ses:
            out.write(f"{s},{s},se,solutions,vp,2021-01-01\n")
        for p in partners:
            out.write(f"{p},{p},partner,partners,vp,2021-01-01\n")
    sellers = reps + partners
    first, days = date(2025, 1, 1), 730
    with (folder / "deals.csv").open("w", encoding="utf-8") as out, \
            (folder / "splits.csv").open("w", encoding="utf-8") as split_out:
        out.write("deal_id,owner_id,amount,currency,status,booked_on,deal_type\n")
        split_out.write("deal_id,participant_id,share,role\n")
        for n in range(deals):
            deal_id, owner = f"D{n:07d}", rng.choice(sellers)
            status = "cancelled" if rng.random() < 0.03 else "won"
            booked = first + timedelta(days=rng.randrange(days))
            currency = "EUR" if rng.random() < 0.2 else "USD"
            kind = rng.choice(("new_logo", "renewal", "expansion"))
            out.write(f"{deal_id},{owner},{rng.randrange(1_000, 200_000)}.{rng.randrange(100):02d},{currency},"
                      f"{status},{booked.isoformat()},{kind}\n")
            if rng.random() < 0.15:
                other = rng.choice(sellers)
                if other != owner:
                    split_out.write(f"{deal_id},{owner},60,split\n{deal_id},{other},40,split\n")
            if rng.random() < 0.10:
                split_out.write(f"{deal_id},{rng.choice(ses)},,se\n")
    with (folder / "quotas.csv").open("w", encoding="utf-8") as out:
        out.write("participant_id,metric,period,amount\n")
        for year in (2025, 2026):
            for q in range(1, 5):
                for r in reps:
                    out.write(f"{r},bookings,{year}-Q{q},400000\n")
                for m in managers:
                    out.write(f"{m},bookings,{year}-Q{q},7000000\n")
                for d in directors:
                    out.write(f"{d},bookings,{year}-Q{q},70000000\n")
    with (folder / "metrics.csv").open("w", encoding="utf-8") as out:
        out.write("participant_id,metric,period,value\n")
        for year in (2025, 2026):
            for month in range(1, 13):
                for r in reps:
                    out.write(f"{r},csat,{year}-{month:02d},{rng.choice(('3.2', '4.1', '4.6'))}\n")
    with (folder / "rates.csv").open("w", encoding="utf-8") as out:
        out.write("from_currency,to_currency,date,rate\n")
        for offset in range(0, days, 7):
            out.write(f"EUR,USD,{(first + timedelta(days=offset)).isoformat()},"
                      f"{1 + rng.randrange(50, 150) / 1000:.4f}\n")
    plans = folder / "plans"
    plans.mkdir(exist_ok=True)
    for name, source in PLANS.items():
        (plans / name).write_text(source, encoding="utf-8")
    return {"rep": reps[7], "manager": team_of[reps[7]], "director": manager_of[team_of[reps[7]]]}


def change_one_deal(ws: Workspace, folder: Path, rep: str) -> tuple[str, float]:
    """Raise the amount of one of `rep`'s deals in Q1 2026 through the import path."""
    with (folder / "deals.csv").open(encoding="utf-8") as source:
        header = next(source)
        for line in source:
            cells = line.rstrip("\n").split(",")
            if cells[1] == rep and cells[5].startswith("2026-0") and cells[5][6] in "123" and cells[4] == "won":
                break
        else:
            raise SystemExit(f"no Q1 2026 deal of {rep} to change")
    cells[2] = "999999.99"
    (folder / "change.csv").write_text(header + ",".join(cells) + "\n", encoding="utf-8")
    started = time.perf_counter()
    report = import_file(ws, "deals", folder / "change.csv")
    assert report.changed == 1, report
    return cells[0], time.perf_counter() - started


def full_read(ws: Workspace, participant: str) -> list[CalcResult]:
    """What `attain calc --participant X` from the store did before: read everything, calculate X."""
    calendar = ws.settings.calendar
    period = ws.period(PERIOD)
    with ws.engine.connect() as conn:
        upto = known_import(conn, None)
        data = read_dataset(conn, upto, period, calendar)
        plans = load_plans(conn, ws, upto, period.last_day)
    return [calculate(plan, data, period, calendar, only={participant}) for plan in plans]


def narrow_read(ws: Workspace, participant: str) -> list[CalcResult]:
    return calculate_payee(ws, PERIOD, participant, executor="reference")[1]


def timed(call: Callable[[], list[CalcResult]], runs: int) -> tuple[float, float, list[CalcResult]]:
    """(first run, median of the next `runs`) in ms, and the result."""
    started = time.perf_counter()
    result = call()
    first = (time.perf_counter() - started) * 1000
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return first, statistics.median(times), result


def payee_lines(results: list[CalcResult], participant: str) -> list[object]:
    return sorted((p for r in results for p in r.payees if p.participant_id == participant), key=lambda p: p.plan_id)


def bench(label: str, root: Path, files: Path, who: dict[str, object], runs: int, full_runs: int) -> None:
    started = time.perf_counter()
    ws = init_workspace(root)
    try:
        for kind in ("participants", "rates", "quotas", "metrics", "deals", "splits"):
            import_file(ws, kind, files / f"{kind}.csv")
        import_file(ws, "plans", files / "plans")
        if ws.engine.dialect.name == "postgresql":
            with ws.engine.connect() as conn:
                conn.execute(text("ANALYZE"))
                conn.commit()
        seeded = time.perf_counter() - started
        deal_id, imported = change_one_deal(ws, files, str(who["rep"]))
        print(f"\n{label}: store seeded through the import path in {seeded:.1f} s; deal {deal_id} of {who['rep']} "
              f"changed by an import in {imported * 1000:.0f} ms", flush=True)
        print(f"{'payee':<22} {'narrow first':>12} {'narrow median':>13} {'full first':>10} {'full median':>11} "
              f"{'ratio':>7}  deals read", flush=True)
        for role in ("rep", "manager", "director"):
            pid = str(who[role])
            # The full read first: its first run also parses the plans, so the narrow first run is
            # not flattered by a parse the other paid. Then the narrow read, first run cold on
            # a fresh plan cache.
            load_plans_cache_clear()
            full_first, full_median, full = timed(lambda pid=pid: full_read(ws, pid), full_runs)
            load_plans_cache_clear()
            narrow_first, narrow_median, narrow = timed(lambda pid=pid: narrow_read(ws, pid), runs)
            assert payee_lines(narrow, pid) == payee_lines(full, pid), f"{pid}: narrow and full differ"
            deals = narrow_deal_count(ws, pid)
            print(f"{role + ' ' + pid:<22} {narrow_first:>9.1f} ms {narrow_median:>10.1f} ms {full_first:>7.0f} ms "
                  f"{full_median:>8.0f} ms {full_median / narrow_median:>6.0f}x  {deals:,}", flush=True)
    finally:
        ws.close()


def load_plans_cache_clear() -> None:
    from attain.app.runs import parsed_plan

    parsed_plan.cache_clear()


def narrow_deal_count(ws: Workspace, participant: str) -> int:
    from attain.app.calculation import covers, reach_of
    from attain.storage.payee_reads import read_participants, read_payee_dataset

    period = ws.period(PERIOD)
    with ws.engine.connect() as conn:
        upto = known_import(conn, None)
        plans = load_plans(conn, ws, upto, period.last_day)
        own = read_participants(conn, upto, {participant})
        covering = [p for p in plans if covers(p, own, participant, period)]
        data = read_payee_dataset(conn, upto, period, ws.settings.calendar, participant, reach_of(covering))
    return len(data.deals)


def reset_postgres(url: str) -> bool:
    parsed = make_url(url)
    try:
        admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}"'))
            conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
        admin.dispose()
        return True
    except Exception as exc:  # no server: SQLite only
        print(f"\nPostgreSQL not reachable ({type(exc).__name__}); skipped", flush=True)
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=100_000)
    parser.add_argument("--payees", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--full-runs", type=int, default=3)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = folder / "files"
        files.mkdir()
        who = build_files(files, args.deals, args.payees)
        print(f"{args.deals:,} deals, {args.payees:,} participants, period {PERIOD}; medians of {args.runs} runs "
              f"(full read: {args.full_runs})")
        os.environ["ATTAIN_DATABASE_URL"] = f"sqlite:///{(folder / 'store.db').as_posix()}"
        bench("SQLite", folder / "sqlite", files, who, args.runs, args.full_runs)
        if not args.skip_postgres and reset_postgres(args.postgres):
            os.environ["ATTAIN_DATABASE_URL"] = args.postgres
            bench("PostgreSQL", folder / "postgres", files, who, args.runs, args.full_runs)


if __name__ == "__main__":
    main()
