"""Workspaces: init, schema checks, settings, plan versions and assignments, credits from the store."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from attain.app.credits import list_credits
from attain.app.imports import import_file
from attain.app.plan_versions import assign_plan
from attain.app.workspace import Workspace, open_workspace, upgrade_workspace
from attain.core.errors import ConflictError, InputError
from attain.core.records import CreditRule
from attain.settings import TEMPLATE, database_url, load_settings
from attain.storage import database
from attain.storage.plans import AssignmentRow

PLAN = """\
plan: ae-2026
name: AE plan
version: "{version}"
currency: USD
effective: {{from: 2026-01-01, to: 2026-12-31}}
assign:
  roles: [ae, manager]
crediting:
  date_basis: booked
  rollup: true
metrics:
  bookings:
    sum: amount
components:
  - id: commission
    kind: flat_rate
    metric: bookings
    period: quarter
    rate: {rate}
"""


def test_init_makes_a_workspace_a_team_can_keep_in_git(workspace: Workspace) -> None:
    root = workspace.root
    assert (root / "attain.toml").is_file() and (root / "plans").is_dir()
    assert (root / "data").is_dir()
    assert "attain.db" in (root / ".gitignore").read_text()


def test_opening_an_old_schema_says_what_to_run(tmp_path: Path, store_url: str) -> None:
    root = tmp_path / "old"
    root.mkdir()
    (root / "attain.toml").write_text(TEMPLATE.format(name="old", currency="USD",
                                                      db_file="attain.db"), encoding="utf-8")
    engine = database.connect(load_settings(root).database_url)
    database.upgrade(engine, "0001")  # a store made by an earlier Attain
    engine.dispose()
    with pytest.raises(ConflictError, match="run `attain db upgrade`"):
        open_workspace(root)
    assert upgrade_workspace(root) == ("0001", database.head_revision())
    open_workspace(root).close()


def test_database_url_defaults_to_a_file_in_the_workspace_and_env_overrides(tmp_path: Path) -> None:
    assert database_url(tmp_path, "", {}) == f"sqlite:///{tmp_path.as_posix()}/attain.db"
    assert database_url(tmp_path, "", {"ATTAIN_DATABASE_URL": "postgresql://u@h/db"}) == (
        "postgresql+psycopg://u@h/db")
    assert database_url(tmp_path, "sqlite:///x.db", {}) == f"sqlite:///{tmp_path.as_posix()}/x.db"


def test_wrong_settings_are_reported_together(tmp_path: Path) -> None:
    (tmp_path / "attain.toml").write_text(
        '[workspace]\ncurrency = "usd"\nrounding = "sideways"\n'
        '[imports.opportunities]\ncolumns = {}\n', encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_settings(tmp_path, {})
    assert [p.key for p in caught.value.problems] == [
        "workspace.currency", "workspace.rounding", "imports.opportunities"]



def test_executor_settings_are_read_and_checked(tmp_path: Path) -> None:
    (tmp_path / "attain.toml").write_text(
        '[postgres]\nurl = "postgresql://comp@db.internal/attain"\n'
        '[spark]\n"spark.master" = "spark://spark-master:7077"\n"spark.executor.cores" = 4\n'
        '"spark.dynamicAllocation.enabled" = true\n', encoding="utf-8")
    settings = load_settings(tmp_path, {})
    assert settings.postgres_url == "postgresql://comp@db.internal/attain"
    assert settings.spark == {"spark.master": "spark://spark-master:7077", "spark.executor.cores": "4",
                              "spark.dynamicAllocation.enabled": "true"}
    # A setting written without quotes (a nested table), another database's URL, an unknown key.
    (tmp_path / "attain.toml").write_text(
        '[postgres]\nurl = "mysql://db/attain"\nschema = "comp"\n[spark]\nspark.master = "local[2]"\n',
        encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_settings(tmp_path, {})
    assert [(p.key, p.message.split(" (")[0]) for p in caught.value.problems] == [
        ("postgres.schema", "unknown setting"),
        ("postgres.url", "a PostgreSQL URL"),
        ("spark.spark", 'a Spark setting, named as Spark names it, in quotes'),
    ]
    assert "[postgres]" in TEMPLATE and '"spark.master"' in TEMPLATE

def test_plan_versions_are_content_hashed_and_assignments_effective_dated(
        workspace: Workspace) -> None:
    plan_file = workspace.root / "plans" / "ae.yaml"
    plan_file.write_text(PLAN.format(version="1", rate="5%"), encoding="utf-8")
    assert import_file(workspace, "plans", workspace.root / "plans").new == 1
    assert not import_file(workspace, "plans", plan_file).written  # same text: no-op
    plan_file.write_text(PLAN.format(version="2", rate="6%"), encoding="utf-8")
    assert import_file(workspace, "plans", plan_file).changed == 1
    (in_force,) = workspace.plans(date(2026, 5, 1))
    assert in_force.version.version == 2 and "rate: 6%" in in_force.version.source_text
    assert in_force.assignment.roles == ("ae", "manager")
    assert workspace.plans(date(2027, 1, 1)) == []
    assign_plan(workspace, [AssignmentRow(plan_id="ae-2026", target_kind="participant",
                                          target="R9", effective_from=date(2026, 7, 1))])
    assert workspace.plans(date(2026, 6, 30))[0].assignment.participants == ()
    assert workspace.plans(date(2026, 7, 1))[0].assignment.participants == ("R9",)


def test_credits_follow_the_team_change_on_first_august(workspace: Workspace,
                                                        tmp_path: Path) -> None:
    files = {
        "participants": "id,name,role,team,manager_id,effective_from\n"
                        "M1,Mia,manager,east,,\nM2,Max,manager,west,,\n"
                        "R1,Ann,ae,east,M1,\nR1,Ann,ae,west,M2,2026-08-01\n",
        "deals": "deal_id,owner_id,amount,currency,booked_on,status\n"
                 "D1,R1,1000,USD,2026-07-31,won\nD2,R1,2000,USD,2026-08-01,won\n",
    }
    for kind, body in files.items():
        path = tmp_path / f"{kind}.csv"
        path.write_text(body, encoding="utf-8")
        import_file(workspace, kind, path)
    (workspace.root / "plans" / "ae.yaml").write_text(PLAN.format(version="1", rate="5%"),
                                                      encoding="utf-8")
    import_file(workspace, "plans", workspace.root / "plans")
    m1 = list_credits(workspace, "M1", "2026-Q3")
    m2 = list_credits(workspace, "M2", "2026-Q3")
    assert [(c.deal_id, c.rule, c.amount) for c in m1.credits] == [
        ("D1", CreditRule.ROLLUP, Decimal("1000"))]
    assert [(c.deal_id, c.rule, c.amount) for c in m2.credits] == [
        ("D2", CreditRule.ROLLUP, Decimal("2000"))]
    r1 = list_credits(workspace, "R1", "2026-Q3")
    assert r1.plan_id == "ae-2026"
    assert [c.describe() for c in r1.credits] == [
        "deal D1, owner 100%, of 1,000 USD, booked 2026-07-31",
        "deal D2, owner 100%, of 2,000 USD, booked 2026-08-01",
    ]
