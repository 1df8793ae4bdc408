"""Imports into the store: all or nothing, re-imports are no-ops, changes are new versions."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from attain.app.imports import import_file
from attain.app.workspace import Workspace
from attain.core.errors import DataError
from attain.formats.datafolder import load_folder
from attain.storage.schema import VERSIONED, deal_versions, imports

PARTICIPANTS = (
    "id,name,role,team,manager_id,start_date,end_date,effective_from\n"
    "M1,Mia,manager,east,,,,\n"
    "M2,Max,manager,west,,,,\n"
    "R1,Ann,ae,east,M1,2026-01-01,,\n"
    "R1,Ann,ae,west,M2,2026-01-01,,2026-08-01\n"
    "R2,Bob,ae,east,M1,2026-08-01,,\n"
)
DEALS = (
    "deal_id,owner_id,amount,currency,booked_on,status,delivered_pct,product\n"
    "D1,R1,1000.00,USD,2026-07-15,won,,saas\n"
    "D2,R1,2000,EUR,2026-08-15,won,60,services\n"
    "D3,R2,500.5,USD,2026-09-01,open,,saas\n"
)
FILES = {
    "participants": PARTICIPANTS,
    "deals": DEALS,
    "quotas": "participant_id,metric,period,amount\nR1,bookings,2026-Q3,300000\n"
              "R2,bookings,2026-Q3,300000\n",
    "splits": "deal_id,participant_id,share,role\nD2,R1,50,split\nD2,R2,50%,split\nD2,M2,,se\n",
    "metrics": "participant_id,metric,period,value\nR1,csat,2026-Q3,4.5\n",
    "rates": "from_currency,to_currency,date,rate\nEUR,USD,2026-01-01,1.10\n",
}


def write(folder: Path, kind: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{kind}.csv"
    path.write_text(text, encoding="utf-8")
    return path


def import_all(ws: Workspace, folder: Path) -> None:
    for kind, text in FILES.items():
        import_file(ws, kind, write(folder, kind, text))


def count(ws: Workspace, table=None) -> int:  # type: ignore[no-untyped-def]
    with ws.engine.connect() as conn:
        if table is not None:
            return int(conn.execute(select(func.count()).select_from(table)).scalar_one())
        return sum(int(conn.execute(select(func.count()).select_from(t)).scalar_one())
                   for t in (imports, *VERSIONED.values()))


def test_store_gives_back_what_the_folder_holds(workspace: Workspace, tmp_path: Path) -> None:
    folder = tmp_path / "data"
    import_all(workspace, folder)
    assert workspace.dataset() == load_folder(folder)


def test_amounts_are_kept_exactly(workspace: Workspace, tmp_path: Path) -> None:
    path = write(tmp_path / "d", "participants", PARTICIPANTS)
    import_file(workspace, "participants", path)
    amount = "123456789012345678.123456789012"  # the declared limit: 18 digits, 12 places
    import_file(workspace, "deals", write(tmp_path / "d", "deals",
                "deal_id,owner_id,amount,currency,booked_on,status\n"
                f"D1,R1,{amount},USD,2026-07-15,won\n"))
    (deal,) = workspace.dataset().deals
    assert deal.amount == Decimal(amount) and str(deal.amount) == amount


def test_reimporting_the_same_file_changes_nothing(workspace: Workspace, tmp_path: Path) -> None:
    folder = tmp_path / "data"
    import_all(workspace, folder)
    before = count(workspace)
    report = import_file(workspace, "deals", folder / "deals.csv")
    assert (report.new, report.changed, report.unchanged, report.written) == (0, 0, 3, False)
    assert count(workspace) == before


def test_changed_deal_is_a_new_version_and_the_old_one_stays_known(
        workspace: Workspace, tmp_path: Path) -> None:
    folder = tmp_path / "data"
    import_all(workspace, folder)
    first = workspace.known_import()
    with workspace.engine.connect() as conn:
        (first_at,) = conn.execute(select(imports.c.recorded_at).where(imports.c.id == first)).one()
    changed = DEALS.replace("D3,R2,500.5,USD,2026-09-01,open", "D3,R2,500.5,USD,2026-09-01,won")
    report = import_file(workspace, "deals", write(folder, "deals", changed))
    assert (report.new, report.changed, report.unchanged) == (0, 1, 2)
    assert count(workspace, deal_versions) == 4  # nothing deleted or overwritten
    now = {d.id: d.status.value for d in workspace.dataset().deals}
    then = {d.id: d.status.value for d in workspace.dataset(as_of=first_at).deals}
    assert (now["D3"], then["D3"]) == ("won", "open")
    assert workspace.dataset(as_of=first_at - timedelta(days=3650)).deals == ()


def test_one_bad_row_means_nothing_is_written(workspace: Workspace, tmp_path: Path) -> None:
    folder = tmp_path / "data"
    import_file(workspace, "participants", write(folder, "participants", PARTICIPANTS))
    before = count(workspace)
    bad = DEALS + "D4,R1,1e3,USD,2026-07-15,won,,saas\n"
    with pytest.raises(DataError) as caught:
        import_file(workspace, "deals", write(folder, "deals", bad))
    assert [(p.file, p.row, p.column, p.code) for p in caught.value.problems] == [
        ("deals.csv", 5, "amount", "bad_number")]
    assert count(workspace) == before


def test_skip_invalid_writes_valid_rows_and_a_reject_file(workspace: Workspace,
                                                         tmp_path: Path) -> None:
    folder = tmp_path / "data"
    import_file(workspace, "participants", write(folder, "participants", PARTICIPANTS))
    bad = DEALS + "D4,R9,10,USD,2026-07-15,won,,saas\n"
    report = import_file(workspace, "deals", write(folder, "deals", bad), skip_invalid=True)
    assert (report.new, report.rejected) == (3, 1)
    assert report.reject_file == folder / "deals.rejected.csv"
    lines = report.reject_file.read_text(encoding="utf-8").splitlines()
    assert lines == [
        "row,problems,deal_id,owner_id,amount,currency,booked_on,status,delivered_pct,product",
        "5,owner_id: no participant with this id ('R9'),D4,R9,10,USD,2026-07-15,won,,saas",
    ]
    assert sorted(d.id for d in workspace.dataset().deals) == ["D1", "D2", "D3"]


def test_references_are_checked_against_the_store(workspace: Workspace, tmp_path: Path) -> None:
    folder = tmp_path / "data"
    import_all(workspace, folder)
    with pytest.raises(DataError) as caught:
        import_file(workspace, "splits", write(
            folder, "splits", "deal_id,participant_id,share\nD9,R1,100\nD1,R1,90\n"))
    assert [(p.row, p.code) for p in caught.value.problems] == [
        (2, "unknown_deal"), (3, "split_sum")]


def test_a_deal_id_belongs_to_one_source(workspace: Workspace, tmp_path: Path) -> None:
    folder = tmp_path / "data"
    import_all(workspace, folder)
    with pytest.raises(DataError) as caught:
        import_file(workspace, "deals", folder / "deals.csv", source="billing")
    assert {p.code for p in caught.value.problems} == {"deal_other_source"}


def test_a_quota_or_participant_belongs_to_one_source(workspace: Workspace, tmp_path: Path) -> None:
    # A correction sent under another source would be a second quota for the same payee and
    # period, of which only one could count: refused, naming the source that holds it.
    folder = tmp_path / "data"
    import_all(workspace, folder)
    with pytest.raises(DataError) as caught:
        import_file(workspace, "quotas", write(folder / "hr", "quotas",
                                               "participant_id,metric,period,amount\nR2,bookings,2026-Q4,1\n"
                                               "R1,bookings,2026-Q3,250000\n"), source="hr")
    assert [(p.row, p.code, p.column, p.value) for p in caught.value.problems] == [
        (3, "quota_other_source", "participant_id", "R1|bookings|2026-Q3|")]
    assert "imported from source 'default'" in caught.value.problems[0].message
    with pytest.raises(DataError) as caught:
        import_file(workspace, "participants", write(folder / "hr", "participants",
                                                     "id,name,role,team\nR9,Cy,ae,east\nM1,Mia,manager,north\n"),
                    source="hr")
    assert [(p.row, p.code, p.value) for p in caught.value.problems] == [(3, "participant_other_source", "M1|")]
    # The same rows from their own source are a new version, as ever.
    report = import_file(workspace, "quotas", write(folder / "hr", "quotas",
                                                    "participant_id,metric,period,amount\nR1,bookings,2026-Q3,250000\n"))
    assert (report.changed, report.unchanged) == (1, 0)


def test_splits_of_a_deal_are_replaced_as_a_set(workspace: Workspace, tmp_path: Path) -> None:
    folder = tmp_path / "data"
    import_all(workspace, folder)
    import_file(workspace, "splits", write(folder, "splits",
                                           "deal_id,participant_id,share\nD2,R1,100\n"))
    assert [(s.participant_id, s.share) for s in workspace.dataset().splits] == [
        ("R1", Decimal("1"))]


def test_team_change_is_kept_as_two_org_terms(workspace: Workspace, tmp_path: Path) -> None:
    import_all(workspace, tmp_path / "data")
    terms = [t for t in workspace.dataset().org_terms if t.participant_id == "R1"]
    assert [(t.manager_id, t.effective_from, t.effective_to) for t in terms] == [
        ("M1", None, date(2026, 8, 1)), ("M2", date(2026, 8, 1), None)]


def test_dataset_for_a_period_reads_the_fiscal_year_around_it(workspace: Workspace,
                                                              tmp_path: Path) -> None:
    folder = tmp_path / "data"
    import_all(workspace, folder)
    extra = DEALS + "D9,R1,1,USD,2025-12-31,won,,saas\n"
    import_file(workspace, "deals", write(folder, "deals", extra))
    assert sorted(d.id for d in workspace.dataset("2026-Q1").deals) == ["D1", "D2", "D3"]
    assert [d.id for d in workspace.dataset("2025-12").deals] == ["D9"]


def test_column_mapping_loads_a_crm_export(workspace: Workspace, tmp_path: Path) -> None:
    (workspace.root / "attain.toml").write_text(
        (workspace.root / "attain.toml").read_text() + (
            '\n[imports.deals]\nthousands = ","\n'
            '[imports.deals.columns]\n"Opportunity ID" = "deal_id"\n"Owner" = "owner_id"\n'
            '"Amount" = "amount"\n"Stage" = "status"\n"Close Date" = "booked_on"\n'
            '[imports.deals.values.status]\n"Closed Won" = "won"\n'
            '[imports.deals.defaults]\ncurrency = "USD"\n'), encoding="utf-8")
    from attain.app.workspace import open_workspace

    ws = open_workspace(workspace.root)
    folder = tmp_path / "crm"
    import_file(ws, "participants", write(folder, "participants", PARTICIPANTS))
    import_file(ws, "deals", write(folder, "deals",
                                   'Opportunity ID,Owner,Amount,Stage,Close Date\n'
                                   'O-1,R1,"1,250.00",Closed Won,2026-07-01\n'))
    (deal,) = ws.dataset().deals
    assert (deal.id, deal.amount, deal.currency, deal.status.value) == (
        "O-1", Decimal("1250.00"), "USD", "won")
    ws.close()


def test_large_file_path_scans_instead_of_looking_up_and_counts_the_same(
        workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from attain.storage import versions

    monkeypatch.setattr(versions, "SCAN_THRESHOLD", 0)
    folder = tmp_path / "data"
    import_all(workspace, folder)
    changed = DEALS.replace("D3,R2,500.5,USD,2026-09-01,open", "D3,R2,500.5,USD,2026-09-01,won")
    report = import_file(workspace, "deals", write(folder, "deals", changed))
    assert (report.new, report.changed, report.unchanged) == (0, 1, 2)
    again = import_file(workspace, "deals", folder / "deals.csv")
    assert (again.new, again.changed, again.unchanged, again.written) == (0, 0, 3, False)
    with pytest.raises(DataError):
        import_file(workspace, "deals", folder / "deals.csv", source="billing")


def test_a_second_split_set_for_a_deal_from_another_source_is_refused_naming_both(
        workspace: Workspace, tmp_path: Path) -> None:
    # D2's splits (50/50) came from the default source; a second set from "crm" would make the
    # deal sum to 200% and be credited to nobody.
    folder = tmp_path / "data"
    import_all(workspace, folder)
    before = count(workspace)
    with pytest.raises(DataError) as caught:
        import_file(workspace, "splits", write(folder / "crm", "splits",
                                               "deal_id,participant_id,share,role\nD2,R1,100,split\n"),
                    source="crm")
    (problem,) = caught.value.problems
    assert (problem.code, problem.row, problem.column, problem.value) == ("split_other_source", 2, "deal_id", "D2")
    assert "from source 'default'" in problem.message and "this import is from source 'crm'" in problem.message
    assert count(workspace) == before


@pytest.mark.parametrize(("rows", "loop", "since"), [
    ("A,Ann,ae,east,B,,,\nB,Bob,manager,east,A,,,\n", "A -> B -> A", "from the start"),
    # C has no manager until July; a later effective-dated row closes the loop A -> B -> C -> A
    ("A,Ann,ae,east,B,,,\nB,Bob,manager,east,C,,,\nC,Cy,vp,east,,,,\nC,Cy,vp,east,A,,,2026-07-01\n",
     "A -> B -> C -> A", "from 2026-07-01"),
])
def test_a_loop_of_managers_is_refused_at_import_and_in_a_data_folder(
        workspace: Workspace, tmp_path: Path, rows: str, loop: str, since: str) -> None:
    header = "id,name,role,team,manager_id,start_date,end_date,effective_from\n"
    path = write(tmp_path / "data", "participants", header + rows)
    before = count(workspace)
    with pytest.raises(DataError) as caught:
        import_file(workspace, "participants", path)
    (problem,) = caught.value.problems
    assert problem.code == "manager_loop" and problem.file == "participants.csv"
    assert problem.message.startswith(f"managers form a loop {since}: {loop}")
    assert count(workspace) == before
    write(tmp_path / "data", "deals", "deal_id,owner_id,amount,currency,booked_on,status\n"
                                      "D1,A,1000,USD,2026-07-15,won\n")
    with pytest.raises(DataError) as folder:
        load_folder(tmp_path / "data")
    assert [p.code for p in folder.value.problems] == ["manager_loop"]
