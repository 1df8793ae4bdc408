"""Clawbacks at their edges (docs/ledger.md, "Clawbacks"), with hand-checked values: the window's
boundary day, a cancellation with no date, a cancellation offset by another deal's increase in
the same run, and the per-deal shares of every posted entry summing to its amount."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from ledger_support import MONTHLY_PLAN, PureLedger, deal, people, plan_of

from attain.core.records import Deal, DealStatus
from attain.ledger.entries import DealShare, Entry, EntryKind, entry_key
from attain.ledger.posting import DealSharesMismatch, check_deal_shares


def amounts(entries):
    return [(e.kind.value, e.origin, e.amount) for e in entries]


def shares(entry):
    return [(d.deal_id, d.amount) for d in entry.deals]


def january_ledger(window: int, booked: date = date(2026, 1, 10)) -> PureLedger:
    # 10% of 50,000 booked in January: 5,000 posted in January.
    ledger = PureLedger(plan_of(MONTHLY_PLAN, clawback=window), people("rep-1"))
    ledger.put(deal("d1", 50_000, booked))
    assert amounts(ledger.run("2026-01")) == [("earning", "2026-01", Decimal("5000.00"))]
    return ledger


def test_a_cancellation_on_the_windows_last_day_is_clawed_back():
    ledger = january_ledger(30)
    ledger.put(deal("d1", 50_000, date(2026, 1, 10), cancelled=date(2026, 2, 9)))  # exactly 30 days
    (claw,) = ledger.run("2026-02")
    assert (claw.kind, claw.amount, shares(claw)) == (EntryKind.CLAWBACK, Decimal("-5000.00"),
                                                      [("d1", Decimal("-5000.00"))])
    assert "30-day clawback window" in claw.explanation


def test_a_cancellation_the_day_after_the_window_keeps_what_was_paid():
    ledger = january_ledger(30)
    ledger.put(deal("d1", 50_000, date(2026, 1, 10), cancelled=date(2026, 2, 10)))  # 31 days
    assert ledger.run("2026-02") == []


def undated_cancellation(booked: date) -> Deal:
    return Deal(id="d1", owner_id="rep-1", amount=Decimal(50_000), currency="USD",
                status=DealStatus.CANCELLED, booked_on=booked, cancelled_on=None)


def test_a_cancellation_with_no_date_counts_as_the_pay_periods_last_day_inside_the_window():
    ledger = january_ledger(30, booked=date(2026, 1, 31))
    ledger.put(undated_cancellation(date(2026, 1, 31)))  # February 28 is 28 days after January 31
    assert amounts(ledger.run("2026-02")) == [("clawback", "2026-01", Decimal("-5000.00"))]


def test_a_cancellation_with_no_date_counts_as_the_pay_periods_last_day_outside_the_window():
    ledger = january_ledger(30, booked=date(2026, 1, 20))
    ledger.put(undated_cancellation(date(2026, 1, 20)))  # February 28 is 39 days after January 20
    assert ledger.run("2026-02") == []


def test_a_cancellation_offset_by_another_deals_increase_is_still_clawed_back():
    # January: d1 50,000 and d2 30,000 at 10% -> 8,000. February: d1 is cancelled within the window
    # and d2 is amended to 80,000 in the same run: January still earns 8,000 in all, but d1's
    # 5,000 is clawed back and d2's increase of 5,000 is posted as a true-up of its own.
    ledger = PureLedger(plan_of(MONTHLY_PLAN, clawback=90), people("rep-1"))
    ledger.put(deal("d1", 50_000, date(2026, 1, 10)), deal("d2", 30_000, date(2026, 1, 20)))
    assert amounts(ledger.run("2026-01")) == [("earning", "2026-01", Decimal("8000.00"))]
    ledger.put(deal("d1", 50_000, date(2026, 1, 10), cancelled=date(2026, 2, 5)),
               deal("d2", 80_000, date(2026, 1, 20)))
    february = ledger.run("2026-02")
    assert amounts(february) == [("clawback", "2026-01", Decimal("-5000.00")),
                                 ("true_up", "2026-01", Decimal("5000.00"))]
    assert shares(february[0]) == [("d1", Decimal("-5000.00"))]
    assert shares(february[1]) == [("d2", Decimal("5000.00"))]
    # What the ledger now holds per deal: nothing for d1, 8,000 for d2.
    held: dict[str, Decimal] = {}
    for entry in ledger.entries:
        for share in entry.deals:
            held[share.deal_id] = held.get(share.deal_id, Decimal(0)) + share.amount
    assert held == {"d1": Decimal("0.00"), "d2": Decimal("8000.00")}
    # And a rerun posts nothing more.
    assert ledger.run("2026-02") == []


def entry_with(amount: str, *deal_amounts: str) -> Entry:
    return Entry(
        key=entry_key("2026-02", "rep-1", "monthly", "commission", "2026-01", EntryKind.TRUE_UP, 1),
        period="2026-02", origin="2026-01", participant_id="rep-1", plan_id="monthly",
        component_id="commission", kind=EntryKind.TRUE_UP, currency="USD", amount=Decimal(amount),
        explanation="test", pay_item=EntryKind.TRUE_UP.pay_item,
        deals=tuple(DealShare(deal_id=f"d{i}", credit_date=date(2026, 1, 10), amount=Decimal(a))
                    for i, a in enumerate(deal_amounts)),
    )


def test_per_deal_shares_must_sum_to_the_entrys_amount():
    check_deal_shares([entry_with("10.00", "4.00", "6.00"), entry_with("7.00")])  # no shares: no claim
    with pytest.raises(DealSharesMismatch, match=r"sum to 9\.99, the entry's amount is 10\.00"):
        check_deal_shares([entry_with("10.00", "4.00", "5.99")])


def test_every_posted_entry_of_a_run_has_shares_summing_to_its_amount():
    ledger = PureLedger(plan_of(MONTHLY_PLAN, clawback=90), people("rep-1", "rep-2"))
    ledger.put(deal("d1", 12_345, date(2026, 1, 3)), deal("d2", 777, date(2026, 1, 9), owner="rep-2"),
               deal("d3", 1_001, date(2026, 1, 30)))
    ledger.run("2026-01")
    ledger.put(deal("d3", 1_001, date(2026, 1, 30), cancelled=date(2026, 2, 2)), deal("d4", 5, date(2026, 2, 1)))
    ledger.run("2026-02")
    assert len(ledger.entries) == 4
    for entry in ledger.entries:
        assert entry.deals and sum(d.amount for d in entry.deals) == entry.amount
