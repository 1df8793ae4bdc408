"""Writing every payee's pay statement for a pay period: `attain statements` on a 500-payee workspace.

    python benchmarks/statements_bench.py [--payees 500] [--workdir bench-statements] [--baseline 10]

A SQLite workspace is built once through the ordinary commands' use cases: `--payees` account
executives on a quarterly tiered commission with a quota each, monthly advances and a recoverable
draw, four deals each over January and February; January is run, published and closed, then
February is run. Timed in the same process:
- the batch: `write_statements` for February, every payee, HTML + PDF + JSON (Attain's way);
- the baseline: one payee at a time, as one `attain statement`-like call per payee (read the
  ledger and the run's inputs, explain, render the three files), for `--baseline` payees, and
  extrapolated to all of them.
The goal is the batch under 30 s for 500 payees on a 2-core machine.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import time
from pathlib import Path

from attain.app.imports import import_file
from attain.app.periods import close_period, publish_period
from attain.app.runs import run_period
from attain.app.statements import pay_statement, write_statements
from attain.app.workspace import Workspace, init_workspace, open_workspace
from attain.reports.pay_statement_html import render_pay_statement_html
from attain.reports.pay_statement_json import render_pay_statement_json
from attain.reports.pay_statement_pdf import render_pay_statement_pdf

PLAN = """
plan: ae
name: Account executive commission
currency: USD
payment: {timing: monthly}
crediting: {clawback_days: 180}
metrics:
  bookings: {sum: amount, label: Bookings}
components:
  - id: commission
    label: Quarterly commission
    kind: tiered
    method: marginal
    metric: bookings
    period: quarter
    quota: 300000
    tiers:
      - {from: 0%, to: 50%, rate: 2%}
      - {from: 50%, to: 100%, rate: 5%}
      - {from: 100%, rate: 8%}
draw: {amount: 3000, months: 3, recoverable: true}
"""


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def build(root: Path, payees: int) -> Workspace:
    if (root / "attain.toml").exists():
        return open_workspace(root)
    started = time.perf_counter()
    ws = init_workspace(root)
    (root / "plans" / "ae.yaml").write_text(PLAN, encoding="utf-8")
    import_file(ws, "plans", root / "plans")
    people = [{"id": f"ae-{i:04d}", "name": f"Payee {i}", "role": "ae", "start_date": "2026-01-01"}
              for i in range(payees)]
    import_file(ws, "participants", _write(root / "participants.csv", people))
    deals = []
    for i in range(payees):
        for n, day in enumerate(("2026-01-08", "2026-01-21", "2026-02-04", "2026-02-18")):
            deals.append({"deal_id": f"D-{i:04d}-{n}", "owner_id": f"ae-{i:04d}",
                          "amount": str(20_000 + (i * 7919 + n * 104_729) % 90_000), "currency": "USD",
                          "status": "won", "booked_on": day, "cancelled_on": ""})
    import_file(ws, "deals", _write(root / "deals.csv", deals))
    run_period(ws, "2026-01", user="bench")
    publish_period(ws, "2026-01", user="bench")
    close_period(ws, "2026-01", user="bench")
    run_period(ws, "2026-02", user="bench")
    print(f"built {payees} payees, {len(deals)} deals, January closed and February run in "
          f"{time.perf_counter() - started:.1f} s", flush=True)
    return ws


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payees", type=int, default=500)
    parser.add_argument("--workdir", type=Path, default=Path("bench-statements"))
    parser.add_argument("--baseline", type=int, default=10)
    args = parser.parse_args()
    ws = build(args.workdir / "ws", args.payees)
    out = args.workdir / "out"
    shutil.rmtree(out, ignore_errors=True)
    try:
        started = time.perf_counter()
        written = write_statements(ws, "2026-02", out)
        batch = time.perf_counter() - started
        one_dir = args.workdir / "one"
        one_dir.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        for i in range(args.baseline):
            s = pay_statement(ws, f"ae-{i:04d}", "2026-02")
            (one_dir / f"{i}.html").write_text(render_pay_statement_html(s), encoding="utf-8")
            (one_dir / f"{i}.json").write_text(render_pay_statement_json(s), encoding="utf-8")
            (one_dir / f"{i}.pdf").write_bytes(render_pay_statement_pdf(s))
        each = (time.perf_counter() - started) / args.baseline
    finally:
        ws.close()
    extrapolated = each * written.count
    print(f"batch: {written.count} statements ({len(written.files)} files) in {batch:.2f} s "
          f"({batch / max(written.count, 1) * 1000:.1f} ms a payee); goal < 30 s: {'met' if batch < 30 else 'MISSED'}")
    print(f"baseline, one payee per call: {each * 1000:.0f} ms a payee, {extrapolated:.1f} s for {written.count} "
          f"(extrapolated from {args.baseline})")
    print(f"batch / baseline: {batch / extrapolated:.3f}")


if __name__ == "__main__":
    main()
