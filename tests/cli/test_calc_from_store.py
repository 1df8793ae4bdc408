"""`attain calc` and `attain explain` read the store as well as files, and can look back in time."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from attain.app.imports import import_file
from attain.app.workspace import init_workspace
from attain.demo.generate import generate


def attain(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "attain", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120)


def amounts(output: str) -> dict[tuple[str, str, str, str], Decimal]:
    return {(line["plan_id"], line["participant_id"], line["component_id"], line["period"]): Decimal(line["amount"])
            for line in json.loads(output)["lines"]}


def test_the_store_gives_what_the_files_give_and_as_of_sees_the_past(tmp_path: Path):
    demo = generate(tmp_path / "ws")
    ws = init_workspace(demo.root)
    try:
        for kind in ("participants", "quotas", "metrics", "rates"):
            import_file(ws, kind, demo.data / f"{kind}.csv")
        import_file(ws, "plans", demo.root / "plans")
        before_deals = datetime.now(UTC).replace(tzinfo=None)
        time.sleep(0.01)
        import_file(ws, "deals", demo.data / "deals.csv")
        import_file(ws, "splits", demo.data / "splits.csv")
    finally:
        ws.close()
    files = attain("calc", "--period", "2026-Q1", "--format", "json", "--data", "data",
                   *[a for p in sorted((demo.root / "plans").glob("*.yaml")) for a in ("--plan", str(p))],
                   cwd=demo.root)
    store = attain("calc", "--period", "2026-Q1", "--format", "json", cwd=demo.root)
    assert files.returncode == 0 and store.returncode == 0, files.stderr + store.stderr
    assert amounts(store.stdout) == amounts(files.stdout)
    assert sum(amounts(store.stdout).values()) == Decimal("518375.00")
    past = attain("calc", "--period", "2026-Q1", "--format", "json", "--as-of", before_deals.isoformat(),
                  cwd=demo.root)
    assert past.returncode == 0, past.stderr
    bonus = {k: v for k, v in amounts(past.stdout).items() if k[0] == "ae-2026"}
    assert bonus and all(v == 0 for v in bonus.values())   # no deals were known then
    explained = attain("explain", "--participant", "ae-09", "--period", "2026-Q1", cwd=demo.root)
    assert explained.returncode == 0 and "Elif Rossi" in explained.stdout
