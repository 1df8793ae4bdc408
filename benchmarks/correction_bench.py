"""A one-row correction in a large store: how long the import of one changed quota or participant
takes, its last step (resolving participants, quotas and metrics for bulk runs) included.

    python benchmarks/correction_bench.py [--payees 100000] [--workdir bench-correction] [--repeat 3]

A SQLite workspace is seeded once through the import path with `--payees` participants (one in
ten with a second org term) and a quota each. Then, in turns, a file of one changed quota and a
file of one changed participant are imported, each import timed from start to end:
- resolved again only for who changed, from the state kept after the previous import (Attain's
  way), and
- with that turned off, so every participant is resolved again (the baseline),
the same imports in the same process. After each timed import, the kept tables are checked
equal to a resolution of everyone.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import time
from pathlib import Path

import attain.app.bulk as bulk_module
from attain.app.bulk import RESOLVED_TABLES, _resolve_small, cache_folder, resolved_small
from attain.app.imports import import_file
from attain.app.workspace import Workspace, init_workspace, open_workspace


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _person(i: int, team: str, effective_from: str = "") -> dict[str, str]:
    return {"id": f"p{i:07d}", "name": f"Payee {i}", "role": "ae", "team": team, "effective_from": effective_from}


def _seed(root: Path, payees: int) -> Workspace:
    if (root / "attain.toml").exists():
        return open_workspace(root)
    ws = init_workspace(root)
    people = [_person(i, f"t{i % 100}") for i in range(payees)]
    people += [_person(i, f"t{(i + 1) % 100}", "2026-02-01") for i in range(0, payees, 10)]
    started = time.perf_counter()
    import_file(ws, "participants", _write(root / "people.csv", people))
    quotas = [{"participant_id": f"p{i:07d}", "metric": "bookings", "period": "2026-Q1",
               "amount": f"{200000 + (i % 16) * 25000}"} for i in range(payees)]
    import_file(ws, "quotas", _write(root / "quotas.csv", quotas))
    print(f"seeded {payees:,} participants and quotas in {time.perf_counter() - started:.1f} s", flush=True)
    return ws


def _check(ws: Workspace) -> None:
    with ws.engine.connect() as conn:
        kept = resolved_small(conn, cache_folder(ws), ws.known_import(), ws.settings.calendar)
        full = _resolve_small(conn, ws.known_import(), ws.settings.calendar)
    for name in RESOLVED_TABLES:
        assert kept[name].equals(full[name]), name


def _none(*_args: object, **_kwargs: object) -> None:
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payees", type=int, default=100_000)
    parser.add_argument("--workdir", type=Path, default=Path("bench-correction"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    root = args.workdir / f"store-{args.payees}"
    root.mkdir(parents=True, exist_ok=True)
    ws = _seed(root, args.payees)
    seconds: dict[tuple[str, str], list[float]] = {}
    nearest = bulk_module._resolve_from_nearest
    for turn in range(args.repeat):
        for kind in ("quotas", "participants"):
            for way in ("only who changed", "everyone (baseline)"):
                # The baseline finds no kept state to start from, so it resolves everyone.
                bulk_module._resolve_from_nearest = nearest if way == "only who changed" else _none  # type: ignore
                n = 2 * turn + (way != "only who changed")  # a new value each import
                if kind == "quotas":
                    row = [{"participant_id": "p0000042", "metric": "bookings", "period": "2026-Q1",
                            "amount": f"{300000 + n}"}]
                else:
                    row = [_person(42, f"moved-{n}")]
                path = _write(root / f"one-{kind}.csv", row)
                started = time.perf_counter()
                report = import_file(ws, kind, path)
                seconds.setdefault((kind, way), []).append(time.perf_counter() - started)
                assert report.changed == 1, report
                bulk_module._resolve_from_nearest = nearest  # type: ignore[assignment]
                _check(ws)
    for kind in ("quotas", "participants"):
        mine = statistics.median(seconds[(kind, "only who changed")])
        base = statistics.median(seconds[(kind, "everyone (baseline)")])
        print(f"one changed row of {kind:<12} {args.payees:,} participants: only who changed {mine:.3f} s, "
              f"everyone {base:.3f} s (median of {args.repeat}): {base / mine:.1f}x faster", flush=True)
    ws.close()


if __name__ == "__main__":
    main()
