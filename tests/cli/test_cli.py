"""The command line as a user meets it: exit codes, errors naming file/line/key, JSON output, the demo."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from attain.demo.generate import generate

ATTAIN = [sys.executable, "-m", "attain"]


def attain(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*ATTAIN, *args], capture_output=True, text=True, cwd=cwd, timeout=120)


@pytest.fixture(scope="module")
def company(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("company")
    generate(root)
    return root


def test_malformed_plan_names_file_line_and_key_and_exits_2(tmp_path):
    plan = tmp_path / "bad.yaml"
    plan.write_text("plan: bad\nname: Bad\nmetrics:\n  bookings: {sum: amount}\ncomponents:\n"
                    "  - id: c\n    kind: flat_rate\n    metric: bookings\n    rate: 5%\n    colour: red\n")
    result = attain("plan", "check", str(plan))
    assert result.returncode == 2
    assert "bad.yaml:10" in result.stdout + result.stderr
    assert "colour" in result.stdout + result.stderr


def test_one_check_reports_schema_and_semantic_problems_together(tmp_path):
    plan = tmp_path / "many.yaml"
    plan.write_text("plan: many\nname: Many\nmetrics:\n  bookings: {sum: amount}\ncomponents:\n"
                    "  - id: t\n    kind: tiered\n    method: marginal\n    metric: bookngs\n    tiers:\n"
                    "      - {from: 0%, to: 50%, rate: 2%}\n      - {from: 60%, rate: 5%}\n    colour: red\n"
                    "  - {id: m, kind: milestone, metric: bookings, threshold: '1,000', amount: 5}\n")
    out = attain("plan", "check", str(plan)).stdout
    for expected in ("many.yaml:13", "colour", "many.yaml:14", "1,000", "many.yaml:12", "gap between tiers",
                     "many.yaml:9", "unknown metric 'bookngs'"):
        assert expected in out, expected


def test_tier_gap_is_a_plan_error_with_its_line(tmp_path):
    plan = tmp_path / "gap.yaml"
    plan.write_text("plan: gap\nname: Gap\nmetrics:\n  bookings: {sum: amount}\ncomponents:\n"
                    "  - id: t\n    kind: tiered\n    method: marginal\n    metric: bookings\n    tiers:\n"
                    "      - {from: 0%, to: 50%, rate: 2%}\n      - {from: 60%, rate: 5%}\n")
    result = attain("plan", "check", str(plan))
    assert result.returncode == 2
    assert "gap.yaml:12" in result.stdout and "gap between tiers" in result.stdout


def test_falling_curve_needs_a_declared_decelerator(tmp_path):
    text = ("plan: fall\nname: Fall\nmetrics:\n  bookings: {sum: amount}\ncomponents:\n"
            "  - id: t\n    kind: tiered\n    method: retroactive\n    metric: bookings\n    tiers:\n"
            "      - {from: 0%, to: 100%, rate: 5%}\n      - {from: 100%, rate: 3%}\n")
    plan = tmp_path / "fall.yaml"
    plan.write_text(text)
    assert attain("plan", "check", str(plan)).returncode == 2
    plan.write_text(text.replace("method: retroactive", "method: retroactive\n    decelerating: true"))
    assert attain("plan", "check", str(plan)).returncode == 0


def test_plan_test_runs_every_demo_example(company):
    plans = sorted(str(p) for p in (company / "plans").glob("*.yaml"))
    result = attain("plan", "test", *plans)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 failed" in result.stdout


def test_plan_test_fails_on_a_wrong_expectation(tmp_path, company):
    text = (company / "plans" / "account-executive.yaml").read_text()
    broken = tmp_path / "ae.yaml"
    broken.write_text(text.replace("expect: {quota_bonus: 50000, accelerator: 15000}",
                                   "expect: {quota_bonus: 50000, accelerator: 15001}"))
    result = attain("plan", "test", str(broken))
    assert result.returncode == 1
    assert "FAIL" in result.stdout


def test_calc_json_has_every_line_with_reasons_and_totals(company):
    result = attain("calc", "--plan", str(company / "plans" / "account-executive.yaml"), "--data",
                    str(company / "data"), "--period", "2026-Q1", "--format", "json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    lines = document["lines"]
    assert {line["component_id"] for line in lines} == {"quota_bonus", "accelerator", "new_logo_spiff"}
    for total in document["totals"]:
        own = [Decimal(line["amount"]) for line in lines if line["participant_id"] == total["participant_id"]]
        assert sum(own) == Decimal(total["total"])
    bonus = next(line for line in lines if line["component_id"] == "quota_bonus" and line["deals"])
    assert isinstance(bonus["amount"], str) and bonus["metric"]["quota"] == "1800000"


def test_bad_csv_rows_are_all_listed_and_nothing_is_calculated(tmp_path, company):
    data = tmp_path / "data"
    data.mkdir()
    for name in ("participants.csv", "quotas.csv", "splits.csv", "metrics.csv", "rates.csv"):
        (data / name).write_text((company / "data" / name).read_text())
    rows = (company / "data" / "deals.csv").read_text().splitlines()
    rows[2] = rows[2].replace(",USD,", ",US Dollar,")
    rows[3] = rows[3].split(",", 3)[0] + "," + rows[3].split(",")[1] + ",1e3," + ",".join(rows[3].split(",")[3:])
    (data / "deals.csv").write_text("\n".join(rows) + "\n")
    result = attain("calc", "--plan", str(company / "plans" / "account-executive.yaml"), "--data", str(data),
                    "--period", "2026-Q1")
    assert result.returncode == 2
    assert "row 3" in result.stderr and "row 4" in result.stderr
    assert "Payouts" not in result.stdout


def test_demo_runs_and_says_what_to_try_next(tmp_path):
    result = attain("demo", str(tmp_path / "demo"))
    assert result.returncode == 0, result.stderr
    assert "Reached 100%" in result.stdout and "Just short" in result.stdout
    assert "attain explain --participant" in result.stdout
    assert (tmp_path / "demo" / "data" / "deals.csv").exists()
    # The figures of the seeded company, not only the headings: each plan's cost and their total
    # (364,375 + 45,000 + 30,000 + 60,000 + 19,000 = 518,375), and what the first run posted.
    costs = ["364,375.00 USD", "45,000.00 USD", "30,000.00 USD", "60,000.00 USD", "19,000.00 USD"]
    assert all(cost in result.stdout for cost in costs)
    assert "518,375.00 USD" in result.stdout
    assert "27 payees on 5 plans" in result.stdout
    assert "run 1 posted 37 ledger entries" in result.stdout
    assert "Elif Rossi (98.0%)" in result.stdout  # the rep just short of quota the demo points to


def test_a_cap_that_makes_a_tier_unreachable_is_a_warning_not_an_error(tmp_path):
    plan = tmp_path / "capped.yaml"
    plan.write_text("plan: capped\nname: Capped\nmetrics:\n  bookings: {sum: amount}\ncomponents:\n"
                    "  - id: t\n    kind: tiered\n    method: marginal\n    basis: amount\n    metric: bookings\n"
                    "    cap: {amount: 1000}\n    tiers:\n"
                    "      - {from: 0, to: 100000, rate: 1%}\n      - {from: 100000, rate: 3%}\n")
    result = attain("plan", "check", str(plan))
    assert result.returncode == 0
    assert "warning" in result.stdout and "tier from 100000 pays nothing more" in result.stdout


def test_messages_keep_their_square_brackets(tmp_path):
    """Errors and problems are printed as text: a bracketed word (a settings table, a value from a
    file) is not taken for a Rich style and dropped."""
    assert attain("init", str(tmp_path / "ws")).returncode == 0
    (tmp_path / "ws" / "plans" / "p.yaml").write_text(
        "plan: p\nname: P\ncurrency: USD\nmetrics:\n  bookings: {sum: amount}\ncomponents:\n"
        "  - {id: c, kind: flat_rate, metric: bookings, period: quarter, rate: 5%}\n", encoding="utf-8")
    people = tmp_path / "people.csv"
    people.write_text("id,name,role,start_date\nr1,Ana [EMEA],ae,[soon]\n", encoding="utf-8")
    imported = attain("import", "participants", str(people), cwd=tmp_path / "ws")
    assert imported.returncode == 2
    assert ("people.csv row 2 column start_date: not a valid ISO date (YYYY-MM-DD) (value '[soon]') [bad_date]"
            in imported.stderr)
    assert attain("import", "plans", "plans", cwd=tmp_path / "ws").returncode == 0
    people.write_text("id,name,role\nr1,Ana [EMEA],ae\n", encoding="utf-8")
    assert attain("import", "participants", str(people), cwd=tmp_path / "ws").returncode == 0
    done = subprocess.run([*ATTAIN, "calc", "--period", "2026-Q1", "--executor", "postgres"], capture_output=True,
                          text=True, cwd=tmp_path / "ws", timeout=120,
                          env={k: v for k, v in os.environ.items() if k != "ATTAIN_POSTGRES_URL"})
    assert done.returncode == 5
    assert "set url under [postgres] in attain.toml" in " ".join(done.stderr.split())


@pytest.mark.parametrize(("executor", "missing", "extra"), [("postgres", "psycopg", "postgres"),
                                                              ("spark", "pyspark", "spark")])
def test_an_executor_whose_extra_is_not_installed_says_which_to_install(tmp_path, executor, missing, extra):
    assert attain("init", str(tmp_path / "ws")).returncode == 0
    (tmp_path / "ws" / "plans" / "p.yaml").write_text(
        "plan: p\nname: P\ncurrency: USD\nmetrics:\n  bookings: {sum: amount}\ncomponents:\n"
        "  - {id: c, kind: flat_rate, metric: bookings, period: quarter, rate: 5%}\n", encoding="utf-8")
    (tmp_path / "people.csv").write_text("id,name,role\nr1,Ana,ae\n", encoding="utf-8")
    assert attain("import", "participants", str(tmp_path / "people.csv"), cwd=tmp_path / "ws").returncode == 0
    assert attain("import", "plans", "plans", cwd=tmp_path / "ws").returncode == 0
    # The package cannot be imported in this process, as when its extra is not installed.
    script = (f"import sys; sys.modules[{missing!r}] = None; sys.argv = ['attain', 'calc', '--period', '2026-Q1', "
              f"'--executor', {executor!r}]; from attain.cli.main import run; run()")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path / "ws",
                          timeout=120, env={**os.environ, "ATTAIN_POSTGRES_URL": "postgresql://u@127.0.0.1/x"})
    assert done.returncode == 5, done.stderr
    assert f"needs the {extra} extra" in done.stderr and f"pip install 'attain[{extra}]'" in done.stderr
    assert "Traceback" not in done.stderr
