"""Ledger fixtures: literal plans and deals, and workspaces on SQLite and PostgreSQL (if reachable)."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from attain.app.imports import import_file
from attain.app.workspace import Workspace, init_workspace
from attain.core.dataset import DataSet
from attain.core.periods import CALENDAR, parse_period
from attain.core.plan import Plan
from attain.core.records import Deal, DealStatus, Participant
from attain.formats.plan_file import parse_plan
from attain.ledger.entries import Entry
from attain.ledger.recalculate import recalculate
from csv_support import write_csv

# The ledger's store tests use their own database so they never race the store's own tests.
POSTGRES_URL = os.environ.get(
    "ATTAIN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/attain_test"
)
LEDGER_POSTGRES_URL = make_url(POSTGRES_URL).set(
    database=f"{make_url(POSTGRES_URL).database}_ledger").render_as_string(hide_password=False)

ADVANCE_PLAN = """
plan: adv
name: Quarterly commission with monthly advances
currency: USD
payment: {timing: monthly}
metrics:
  bookings: {sum: amount}
components:
  - id: commission
    label: Quarterly commission
    kind: tiered
    method: retroactive
    metric: bookings
    period: quarter
    quota: 300000
    tiers:
      - {from: 0%, to: 100%, rate: 5%}
      - {from: 100%, rate: 8%}
"""

MONTHLY_PLAN = """
plan: monthly
name: Monthly commission
currency: USD
payment: {timing: monthly}
crediting: {clawback_days: CLAWBACK}
metrics:
  bookings: {sum: amount}
components:
  - id: commission
    label: Commission
    kind: flat_rate
    metric: bookings
    period: month
    rate: 10%
"""

DRAW_PLAN = MONTHLY_PLAN + """
draw: {amount: 5000, months: 3, recoverable: RECOVERABLE}
"""


def plan_of(text_: str, **values: object) -> Plan:
    for name, value in values.items():
        text_ = text_.replace(name.upper(), str(value).lower() if isinstance(value, bool) else str(value))
    return parse_plan(text_).plan


def deal(deal_id: str, amount: int | str, booked: date, owner: str = "rep-1",
         cancelled: date | None = None) -> Deal:
    return Deal(id=deal_id, owner_id=owner, amount=Decimal(amount), currency="USD",
                status=DealStatus.CANCELLED if cancelled else DealStatus.WON, booked_on=booked,
                cancelled_on=cancelled)


def people(*ids: str, start: date | None = None) -> tuple[Participant, ...]:
    return tuple(Participant(id=i, name=i.title(), role="ae", start_date=start) for i in ids)


class PureLedger:
    """The ledger without a store: runs append to a list; periods are run in order."""

    def __init__(self, plan: Plan, participants: Sequence[Participant]) -> None:
        self.plans = [plan]
        self.participants = tuple(participants)
        self.deals: dict[str, Deal] = {}
        self.entries: list[Entry] = []

    def put(self, *deals: Deal) -> None:
        for d in deals:
            self.deals[d.id] = d

    def run(self, label: str) -> list[Entry]:
        data = DataSet(participants=self.participants, deals=tuple(self.deals.values()))
        starts = [parse_period(e.period).start for e in self.entries]
        outcome = recalculate(pay_period=parse_period(label), plans=self.plans, data=data, posted=self.entries,
                              calendar=CALENDAR, ledger_start=min(starts) if starts else None)
        self.entries.extend(outcome.entries)
        return list(outcome.entries)


def postgres_ready() -> bool:
    url = make_url(LEDGER_POSTGRES_URL)
    try:
        admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": url.database}).first():
                conn.execute(text(f'CREATE DATABASE "{url.database}"'))
        admin.dispose()
        return True
    except Exception:
        if os.environ.get("CI"):
            raise
        return False


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A clean store URL (SQLite file, or the ledger's own PostgreSQL database)."""
    if request.param == "postgres":
        if not postgres_ready():
            pytest.skip("no PostgreSQL server at ATTAIN_TEST_POSTGRES_URL")
        engine = create_engine(LEDGER_POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        url = LEDGER_POSTGRES_URL
    else:
        url = f"sqlite:///{(tmp_path / 'ledger.db').as_posix()}"
    monkeypatch.setenv("ATTAIN_DATABASE_URL", url)
    yield url


def new_workspace(path: Path, plan_text: str) -> Workspace:
    ws = init_workspace(path)
    (path / "plans" / "plan.yaml").write_text(plan_text, encoding="utf-8")
    import_file(ws, "plans", path / "plans")
    return ws


def import_rows(ws: Workspace, kind: str, rows: Sequence[dict[str, str]], name: str | None = None) -> None:
    path = write_csv(ws.root / "data" / f"{name or kind}.csv", rows)
    import_file(ws, kind, path)


def deal_row(deal_id: str, amount: int | str, booked: str, owner: str = "rep-1",
             cancelled: str = "") -> dict[str, str]:
    return {"deal_id": deal_id, "owner_id": owner, "amount": str(amount), "currency": "USD",
            "status": "cancelled" if cancelled else "won", "booked_on": booked, "cancelled_on": cancelled}
