"""The front door's exit codes: an error met while calculating is exit 2, an --as-of before any
import and an unknown participant are exit 3 and say why, `plan test` without examples says so."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ATTAIN = [sys.executable, "-m", "attain"]

PLAN = ("plan: p\nname: P\ncurrency: USD\nassign: {roles: [ae]}\nmetrics:\n  bookings: {sum: amount}\ncomponents:\n"
        "  - {id: c, kind: flat_rate, metric: bookings, period: quarter, rate: 5%}\n"
        "  - id: bonus\n    kind: milestone\n    metric: bookings\n    period: quarter\n    target_incentive: 1000\n"
        "    threshold: 100%\n    pays: 100%\n")


def attain(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*ATTAIN, *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def test_calc_exit_codes_say_what_is_wrong(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    assert attain("init", str(ws), cwd=tmp_path).returncode == 0
    (ws / "plans" / "p.yaml").write_text(PLAN, encoding="utf-8")
    before = attain("calc", "--period", "2026-Q1", "--as-of", "2000-01-01T00:00:00", cwd=ws)
    assert before.returncode == 3 and "nothing has been imported yet" in before.stderr
    no_examples = attain("plan", "test", "plans/p.yaml", cwd=ws)
    assert no_examples.returncode == 0 and "carries no worked examples" in no_examples.stdout
    (tmp_path / "people.csv").write_text("id,name,role\nr1,Ana,ae\n", encoding="utf-8")
    (tmp_path / "deals.csv").write_text("deal_id,owner_id,amount,currency,status,booked_on\n"
                                        "d1,r1,1000,USD,won,2026-02-01\n", encoding="utf-8")
    for kind, file in (("participants", "people.csv"), ("deals", "deals.csv")):
        assert attain("import", kind, str(tmp_path / file), cwd=ws).returncode == 0
    assert attain("import", "plans", "plans", cwd=ws).returncode == 0
    # No quota for the milestone: the figures are printed, then exit 2 with the problem (not a warning).
    missing = attain("calc", "--period", "2026-Q1", "--format", "csv", cwd=ws)
    assert missing.returncode == 2, missing.stderr
    assert "r1,Ana,p,1,c,2026-Q1,bookings,1000,,,50.00,USD" in missing.stdout
    assert "[quota_missing]" in missing.stderr and "`attain run` refuses them" in missing.stderr
    refused = attain("run", "--period", "2026-Q1", cwd=ws)
    assert refused.returncode == 2 and "nothing was run or posted" in refused.stderr
    for command in (("calc", "--period", "2026-Q1", "--participant", "nobody"),
                    ("explain", "--period", "2026-Q1", "--participant", "nobody"),
                    ("statement", "--period", "2026-Q1", "--participant", "nobody"),
                    ("credits", "--period", "2026-Q1", "--participant", "nobody")):
        unknown = attain(*command, cwd=ws)
        assert unknown.returncode == 3 and "'nobody' is not in the store" in unknown.stderr
