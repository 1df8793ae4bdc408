"""A workspace whose April pay statement holds every kind of entry: a monthly advance, a true-up
from a closed quarter, a clawback, a recoverable draw's recovery and an approved adjustment."""

from __future__ import annotations

from pathlib import Path

from attain.app.adjustments import add_adjustment, decide_adjustment
from attain.app.imports import import_file
from attain.app.periods import close_period, publish_period
from attain.app.runs import run_period
from attain.app.workspace import Workspace, init_workspace
from csv_support import write_csv

PLAN = """
plan: ae
name: Account executive commission
currency: USD
payment: {timing: monthly}
crediting: {clawback_days: 365}
metrics:
  bookings: {sum: amount, label: Bookings}
components:
  - id: commission
    label: Quarterly commission
    kind: flat_rate
    metric: bookings
    period: quarter
    rate: 10%
draw: {amount: 5000, months: 3, recoverable: true}
"""

PEOPLE = [{"id": "rep-1", "name": "Ada Park", "role": "ae", "start_date": "2026-01-01"}]


def deal(deal_id: str, amount: int, booked: str, cancelled: str = "") -> dict[str, str]:
    return {"deal_id": deal_id, "owner_id": "rep-1", "amount": str(amount), "currency": "USD",
            "status": "cancelled" if cancelled else "won", "booked_on": booked, "cancelled_on": cancelled}


def build_april(root: Path) -> Workspace:
    """January to March run, published and closed; then a late March deal, d1's cancellation and an
    April deal arrive, April is run and an adjustment is approved.

    By hand (10% of bookings, quarterly, advanced monthly; draw 5,000 a month for Jan-Mar):
    Jan d1 30,000: earning 3,000, draw advance 2,000.  Feb: earning 0, draw advance 5,000.
    Mar d2 20,000: earning 2,000, draw advance 3,000 (balance 10,000).
    Apr: d3 10,000 booked 30 March (true-up for Q1 +1,000), d1 cancelled (clawback -3,000),
    d4 50,000 in April (Q2 advance 5,000); April earns 3,000, all recovered from the draw
    balance (-3,000, balance 7,000 carried forward); adjustment +250.00.
    """
    ws = init_workspace(root)
    (root / "plans" / "ae.yaml").write_text(PLAN, encoding="utf-8")
    import_file(ws, "plans", root / "plans")
    import_file(ws, "participants", write_csv(root / "data" / "participants.csv", PEOPLE))
    import_file(ws, "deals", write_csv(root / "data" / "deals.csv", [
        deal("d1", 30_000, "2026-01-10"), deal("d2", 20_000, "2026-03-05")]))
    for month in ("2026-01", "2026-02", "2026-03"):
        run_period(ws, month, user="alice")
        publish_period(ws, month, user="alice")
        close_period(ws, month, user="carol")
    import_file(ws, "deals", write_csv(root / "data" / "april.csv", [
        deal("d1", 30_000, "2026-01-10", cancelled="2026-04-03"), deal("d3", 10_000, "2026-03-30"),
        deal("d4", 50_000, "2026-04-12")]))
    run_period(ws, "2026-04", user="alice")
    adjustment = add_adjustment(ws, participant_id="rep-1", period="2026-04", amount="250.00",
                                reason="missed SPIFF for the Acme renewal", user="alice")
    decide_adjustment(ws, adjustment.id, approve=True, user="bob", note="checked against the CRM")
    return ws
