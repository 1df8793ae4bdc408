"""One truth per period: calc, explain, bulk and run use the plan version in force for the period,
refuse what `plan check` refuses, and never silently ignore an edited plan file. Hand-checked."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pytest

from attain.app.calculation import calculate_folder, calculate_payee, calculate_workspace
from attain.app.imports import import_file
from attain.app.plan_versions import plan_drift
from attain.app.runs import run_period
from attain.app.workspace import Workspace, init_workspace
from attain.core.errors import ConflictError, NotFoundError, PlanError
from attain.storage import ledger as store
from attain.storage.versions import known_import

QUARTERLY = """
plan: bonus
name: Quarterly commission
version: "VERSION"
currency: USD
effective: EFFECTIVE
assign: {roles: [ae]}
metrics:
  bookings: {sum: amount}
components:
  - {id: commission, label: Commission, kind: flat_rate, metric: bookings, period: quarter, rate: RATE}
"""

FALLING = """
plan: falling
name: Falling
currency: USD
assign: {roles: [ae]}
metrics:
  bookings: {sum: amount}
components:
  - id: t
    kind: tiered
    method: retroactive
    metric: bookings
    period: quarter
    quota: 100000
    tiers:
      - {from: 0%, to: 100%, rate: 5%}
      - {from: 100%, rate: 3%}
"""


def plan_text(version: str, effective: str, rate: str) -> str:
    return QUARTERLY.replace("VERSION", version).replace("EFFECTIVE", effective).replace("RATE", rate)


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def deal(deal_id: str, amount: int, booked: str) -> dict[str, str]:
    return {"deal_id": deal_id, "owner_id": "rep-1", "amount": str(amount), "currency": "USD", "status": "won",
            "booked_on": booked}


DEALS = [deal("q1", 500_000, "2026-02-10"), deal("jul", 100_000, "2026-07-10"), deal("sep", 100_000, "2026-09-10")]


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ATTAIN_DATABASE_URL", f"sqlite:///{(tmp_path / 'store.db').as_posix()}")
    ws = init_workspace(tmp_path / "ws")
    write_csv(ws.root / "data" / "participants.csv", [{"id": "rep-1", "name": "Ana", "role": "ae"}])
    write_csv(ws.root / "data" / "deals.csv", DEALS)
    import_file(ws, "participants", ws.root / "data" / "participants.csv")
    import_file(ws, "deals", ws.root / "data" / "deals.csv")
    yield ws
    ws.close()


def put_plans(ws: Workspace, **files: str) -> None:
    for name in ws.settings.plans_dir.glob("*.yaml"):
        name.unlink()
    for name, text in files.items():
        (ws.settings.plans_dir / f"{name}.yaml").write_text(text, encoding="utf-8")


def amounts(results) -> list[tuple[str, str, str, Decimal]]:
    return [(line.participant_id, line.plan_version, line.period, line.amount) for r in results for line in r.lines]


def posted(ws: Workspace) -> Decimal:
    with ws.engine.connect() as conn:
        return sum((e.amount for e in store.load_entries(conn)), Decimal(0))


def test_a_plan_effective_from_july_computes_nothing_for_q1_on_every_surface(workspace):
    put_plans(workspace, bonus=plan_text("1", "{from: 2026-07-01}", "10%"))
    import_file(workspace, "plans", workspace.settings.plans_dir)
    files = sorted(workspace.settings.plans_dir.glob("*.yaml"))
    # Before the fix calc showed 50,000.00 (10% of the 500,000 booked in February) while run posted 0.
    assert amounts(calculate_folder(files, workspace.root / "data", "2026-Q1")[1]) == []
    assert amounts(calculate_workspace(workspace, "2026-Q1")[1]) == []
    with pytest.raises(NotFoundError, match="not covered by any plan in force"):
        calculate_payee(workspace, "2026-Q1", "rep-1")   # explain and statements read this
    assert run_period(workspace, "2026-Q1", user="ana").entries == ()
    assert posted(workspace) == 0
    # In force from July: Q3 pays 10% of 200,000.
    assert amounts(calculate_workspace(workspace, "2026-Q3")[1]) == [("rep-1", "1", "2026-Q3", Decimal("20000.00"))]


def test_two_versions_across_a_mid_quarter_change_give_one_line_with_the_declared_rule(workspace):
    put_plans(workspace, v1=plan_text("1", "{from: 2026-01-01, to: 2026-08-15}", "16%"),
              v2=plan_text("2", "{from: 2026-08-16}", "20%"))
    import_file(workspace, "plans", workspace.settings.plans_dir)
    plans, results = calculate_workspace(workspace, "2026-Q3")
    # Before the fix: two lines for rep-1 (32,000.00 by version 1 and 40,000.00 by version 2).
    assert amounts(results) == [("rep-1", "2", "2026-Q3", Decimal("40000.00"))]   # 20% of 200,000
    assert [p.version for p in plans] == ["2"]
    (line,) = results[0].lines
    assert any("in force at the period's end" in note and "version 1" in note for note in line.notes)
    one = calculate_payee(workspace, "2026-Q3", "rep-1")[1]
    assert amounts(one) == amounts(results)
    # Q1 is version 1's alone: 16% of 500,000, with no note of a change.
    q1 = calculate_workspace(workspace, "2026-Q1")[1]
    assert amounts(q1) == [("rep-1", "1", "2026-Q1", Decimal("80000.00"))] and not q1[0].lines[0].notes
    # The run pays what calc showed.
    run_period(workspace, "2026-Q3", user="ana")
    assert posted(workspace) == Decimal("40000.00")


def test_an_edited_plan_file_is_refused_by_run_with_the_command_that_fixes_it(workspace):
    put_plans(workspace, bonus=plan_text("1", "{from: 2026-01-01}", "10%"))
    import_file(workspace, "plans", workspace.settings.plans_dir)
    put_plans(workspace, bonus=plan_text("1", "{from: 2026-01-01}", "20%"))   # edited, not imported
    with workspace.engine.connect() as conn:
        before = (store.load_entries(conn), store.list_runs(conn), store.list_periods(conn))
    with pytest.raises(ConflictError, match=r"bonus.yaml: plan bonus differs from its recorded version") as caught:
        run_period(workspace, "2026-Q1", user="ana")
    assert "`attain import plans plans/`" in str(caught.value) and "--import-plans" in str(caught.value)
    with workspace.engine.connect() as conn:
        assert (store.load_entries(conn), store.list_runs(conn), store.list_periods(conn)) == before
    # calc from the store shows what run would pay: the recorded 10%, not the edited file's 20%.
    assert amounts(calculate_workspace(workspace, "2026-Q1")[1]) == [("rep-1", "1", "2026-Q1", Decimal("50000.00"))]
    import_file(workspace, "plans", workspace.settings.plans_dir)
    assert run_period(workspace, "2026-Q1", user="ana").totals == {"USD": Decimal("100000.00")}


def test_a_plan_file_never_imported_is_refused_by_run_and_previewed_by_calc_with_the_difference(workspace):
    put_plans(workspace, bonus=plan_text("1", "{from: 2026-01-01}", "10%"))
    with pytest.raises(ConflictError, match=r"bonus.yaml: plan bonus version 1 \(from 2026-01-01\) is not recorded"):
        run_period(workspace, "2026-Q1", user="ana")
    # calc previews plans/ while nothing is recorded, and the difference it would be refused for is known
    assert amounts(calculate_workspace(workspace, "2026-Q1")[1]) == [("rep-1", "1", "2026-Q1", Decimal("50000.00"))]
    with workspace.engine.connect() as conn:
        assert plan_drift(conn, workspace, known_import(conn, None)) == [
            "bonus.yaml: plan bonus version 1 (from 2026-01-01) is not recorded"]


def test_a_plan_that_plan_check_refuses_is_refused_by_every_command_that_computes_it(workspace):
    put_plans(workspace, falling=FALLING)
    import_file(workspace, "plans", workspace.settings.plans_dir)   # it loads: only the check refuses it
    files = sorted(workspace.settings.plans_dir.glob("*.yaml"))
    with pytest.raises(PlanError) as from_files:
        calculate_folder(files, workspace.root / "data", "2026-Q1")
    assert {p.code for p in from_files.value.problems} == {"plan_curve_falls"}
    for refused in (lambda: calculate_workspace(workspace, "2026-Q1"),
                    lambda: calculate_payee(workspace, "2026-Q1", "rep-1"),
                    lambda: run_period(workspace, "2026-Q1", user="ana")):
        with pytest.raises(PlanError, match="does not pass `attain plan check`") as caught:
            refused()
        assert caught.value.exit_code == 2 and {p.code for p in caught.value.problems} == {"plan_curve_falls"}
    assert posted(workspace) == 0


MONTHLY = QUARTERLY.replace("period: quarter", "period: month")


def test_a_monthly_plan_changing_version_in_august_takes_each_months_version_as_the_run_does(workspace):
    put_plans(workspace, v1=MONTHLY.replace("VERSION", "1").replace("EFFECTIVE", "{to: 2026-07-31}")
              .replace("RATE", "10%"),
              v2=MONTHLY.replace("VERSION", "2").replace("EFFECTIVE", "{from: 2026-08-01}").replace("RATE", "20%"))
    import_file(workspace, "plans", workspace.settings.plans_dir)
    results = calculate_workspace(workspace, "2026-Q3")[1]
    # July: 10% of 100,000 by version 1; September: 20% of 100,000 by version 2; one line per month.
    assert amounts(results) == [("rep-1", "1", "2026-07", Decimal("10000.00")),
                                ("rep-1", "2", "2026-08", Decimal("0.00")),
                                ("rep-1", "2", "2026-09", Decimal("20000.00"))]
    for month in ("2026-07", "2026-08", "2026-09"):
        run_period(workspace, month, user="ana")
    assert posted(workspace) == Decimal("30000.00")
