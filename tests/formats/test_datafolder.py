"""A data folder read into a DataSet, or refused with every problem of every file."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from attain.core.errors import DataError
from attain.formats.datafolder import load_folder

FILES = {
    "participants.csv": (
        "id,name,role,team,manager_id,start_date,end_date,effective_from\n"
        "M1,Mia,manager,east,,,,\n"
        "M2,Max,manager,west,,,,\n"
        "R1,Ann,ae,east,M1,2026-01-01,,\n"
        "R1,Ann,ae,west,M2,2026-01-01,,2026-08-01\n"
    ),
    "deals.csv": (
        "deal_id,owner_id,amount,currency,booked_on,status,delivered_pct,product\n"
        "D1,R1,1000.00,USD,2026-07-15,won,,saas\n"
        "D2,R1,2000,EUR,2026-08-15,won,60,services\n"
    ),
    "quotas.csv": "participant_id,metric,period,amount\nR1,bookings,2026-Q3,300000\n",
    "splits.csv": "deal_id,participant_id,share,role\nD2,R1,100,split\nD2,M1,,se\n",
    "metrics.csv": "participant_id,metric,period,value\nR1,csat,2026-Q3,4.5\n",
    "rates.csv": "from_currency,to_currency,date,rate\nEUR,USD,2026-01-01,1.10\n",
}


def make_folder(tmp_path: Path, **overrides: str | None) -> Path:
    for name, text in {**FILES, **{k.replace("_", ".", 1): v for k, v in overrides.items()}}.items():
        if text is not None:
            (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_folder_loads_every_kind(tmp_path: Path) -> None:
    data = load_folder(make_folder(tmp_path))
    assert [p.id for p in data.participants] == ["M1", "M2", "R1"]
    assert data.participant("R1").team == "west"  # the latest term
    assert [(d.id, d.delivered) for d in data.deals] == [("D1", Decimal("1")),
                                                        ("D2", Decimal("0.6"))]
    assert [(q.participant_id, q.amount) for q in data.quotas] == [("R1", Decimal("300000"))]
    assert data.observations[0].value == Decimal("4.5")
    assert data.rates[0].rate == Decimal("1.10")
    assert [(s.participant_id, s.role) for s in data.splits] == [("M1", "se"), ("R1", "split")]


def test_team_change_on_first_august_makes_two_org_terms(tmp_path: Path) -> None:
    data = load_folder(make_folder(tmp_path))
    terms = [t for t in data.org_terms if t.participant_id == "R1"]
    assert [(t.team, t.manager_id, t.effective_from, t.effective_to) for t in terms] == [
        ("east", "M1", None, date(2026, 8, 1)),
        ("west", "M2", date(2026, 8, 1), None),
    ]


def test_optional_files_may_be_missing(tmp_path: Path) -> None:
    data = load_folder(make_folder(tmp_path, quotas_csv=None, splits_csv=None,
                                   metrics_csv=None, rates_csv=None))
    assert (data.quotas, data.splits, data.observations, data.rates) == ((), (), (), ())


def test_every_problem_of_every_file_is_reported_together(tmp_path: Path) -> None:
    folder = make_folder(
        tmp_path,
        deals_csv=(
            "deal_id,owner_id,amount,currency,booked_on,status\n"
            "D1,R1,1e3,USD,2026-07-15,won\n"
            "D2,R9,10,USD,2026-07-15,won\n"
        ),
        quotas_csv="participant_id,metric,period,amount\nR1,bookings,2026-Q3,NaN\n",
        splits_csv="deal_id,participant_id,share\nD2,R1,90\n",
    )
    with pytest.raises(DataError) as caught:
        load_folder(folder)
    found = [(p.file, p.row, p.column, p.code) for p in caught.value.problems]
    assert found == [
        ("deals.csv", 2, "amount", "bad_number"),
        ("deals.csv", 3, "owner_id", "unknown_participant"),
        ("quotas.csv", 2, "amount", "bad_number"),
        ("splits.csv", 2, "share", "split_sum"),
    ]
    assert str(caught.value).startswith("4 problems in data folder")


def test_missing_required_file_is_a_problem(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, deals_csv=None)
    with pytest.raises(DataError) as caught:
        load_folder(folder)
    assert [(p.file, p.code) for p in caught.value.problems] == [("deals.csv", "missing_file")]
