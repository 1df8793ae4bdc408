"""Worked scenarios with hand-checked values: advances and true-up, draws, clawbacks, late deals."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

from ledger_support import ADVANCE_PLAN, DRAW_PLAN, MONTHLY_PLAN, PureLedger, deal, people, plan_of

from attain.ledger.entries import EntryKind, entries_digest
from attain.ledger.statements import build_statement


def amounts(entries):
    return [(e.kind.value, e.origin, e.amount) for e in entries]


def test_monthly_advances_are_trued_up_at_quarter_end():
    # Retroactive tiers on a 300,000 quarterly quota: 5% below 100%, 8% on everything from 100%.
    ledger = PureLedger(plan_of(ADVANCE_PLAN), people("rep-1"))
    ledger.put(deal("d1", 100_000, date(2026, 1, 10)))
    assert amounts(ledger.run("2026-01")) == [("earning", "2026-Q1", Decimal("5000.00"))]
    ledger.put(deal("d2", 100_000, date(2026, 2, 10)))
    assert amounts(ledger.run("2026-02")) == [("earning", "2026-Q1", Decimal("5000.00"))]
    ledger.put(deal("d3", 150_000, date(2026, 3, 10)))
    march = ledger.run("2026-03")
    # 350,000 is 116.7% of quota: 8% of 350,000 = 28,000 earned, 10,000 advanced: true-up 18,000.
    assert amounts(march) == [("true_up", "2026-Q1", Decimal("18000.00"))]
    assert "earned to date 28,000.00 USD minus paid to date 10,000.00 USD" in march[0].explanation


def test_advance_true_up_can_be_negative_when_the_quarter_falls_short():
    ledger = PureLedger(plan_of(ADVANCE_PLAN), people("rep-1"))
    ledger.put(deal("d1", 320_000, date(2026, 1, 10)))
    assert amounts(ledger.run("2026-01")) == [("earning", "2026-Q1", Decimal("25600.00"))]
    ledger.put(deal("d1", 280_000, date(2026, 1, 10)))  # the deal is corrected down in March
    assert amounts(ledger.run("2026-03")) == [("true_up", "2026-Q1", Decimal("-11600.00"))]  # 14,000 - 25,600


def test_recoverable_draw_over_three_months():
    # 10% monthly commission; a 5,000/month recoverable draw for the first three months.
    ledger = PureLedger(plan_of(DRAW_PLAN, clawback="null", recoverable=True), people("rep-1", start=date(2026, 1, 1)))
    months = [("2026-01", 20_000), ("2026-02", 40_000), ("2026-03", 60_000), ("2026-04", 25_000)]
    posted = {}
    for index, (label, amount) in enumerate(months):
        ledger.put(deal(f"d{index}", amount, date(2026, index + 1, 15)))
        posted[label] = [(e.kind.value, e.amount) for e in ledger.run(label)]
    assert posted == {
        "2026-01": [("earning", Decimal("2000.00")), ("draw_advance", Decimal("3000.00"))],
        "2026-02": [("earning", Decimal("4000.00")), ("draw_advance", Decimal("1000.00"))],
        # Past the guarantee: 6,000 - 5,000 = 1,000 recovered; balance 4,000 -> 3,000.
        "2026-03": [("earning", Decimal("6000.00")), ("draw_recovery", Decimal("-1000.00"))],
        # After the window everything above zero recovers, up to the 3,000 balance.
        "2026-04": [("earning", Decimal("2500.00")), ("draw_recovery", Decimal("-2500.00"))],
    }
    draws = [e for e in ledger.entries if e.kind in (EntryKind.DRAW_ADVANCE, EntryKind.DRAW_RECOVERY)]
    assert sum(e.amount for e in draws) == Decimal("500.00")  # still owed, carried forward
    assert ledger.run("2026-04") == []


def test_non_recoverable_draw_is_never_recovered():
    ledger = PureLedger(plan_of(DRAW_PLAN, clawback="null", recoverable=False), people("rep-1", start=date(2026, 1, 1)))
    ledger.put(deal("d1", 20_000, date(2026, 1, 15)))
    assert [(e.kind.value, e.amount) for e in ledger.run("2026-01")] == [
        ("earning", Decimal("2000.00")), ("draw_advance", Decimal("3000.00"))]
    ledger.put(deal("d2", 90_000, date(2026, 4, 15)))
    assert [(e.kind.value, e.amount) for e in ledger.run("2026-04")] == [("earning", Decimal("9000.00"))]


def test_cancelled_deal_is_clawed_back_in_the_next_period_at_what_was_paid():
    ledger = PureLedger(plan_of(MONTHLY_PLAN, clawback=90), people("rep-1"))
    ledger.put(deal("d1", 50_000, date(2026, 1, 10)), deal("d2", 30_000, date(2026, 1, 20)))
    assert amounts(ledger.run("2026-01")) == [("earning", "2026-01", Decimal("8000.00"))]
    ledger.put(deal("d1", 50_000, date(2026, 1, 10), cancelled=date(2026, 2, 5)))
    february = ledger.run("2026-02")
    assert amounts(february) == [("clawback", "2026-01", Decimal("-5000.00"))]
    assert [(d.deal_id, d.amount) for d in february[0].deals] == [("d1", Decimal("-5000.00"))]
    statement = build_statement(ledger.entries, "rep-1", "2026-02", "open")
    assert statement.total == Decimal("-5000.00") and statement.earlier_periods == ("2026-01",)


def test_cancellation_after_the_clawback_window_keeps_what_was_paid():
    ledger = PureLedger(plan_of(MONTHLY_PLAN, clawback=30), people("rep-1"))
    ledger.put(deal("d1", 50_000, date(2026, 1, 10)))
    ledger.run("2026-01")
    ledger.put(deal("d1", 50_000, date(2026, 1, 10), cancelled=date(2026, 3, 1)))  # 50 days later
    assert ledger.run("2026-03") == []


def test_late_deal_after_close_is_posted_in_the_next_period_pointing_back():
    ledger = PureLedger(plan_of(MONTHLY_PLAN, clawback=90), people("rep-1"))
    ledger.put(deal("d1", 10_000, date(2026, 1, 10)))
    ledger.run("2026-01")
    january = [e for e in ledger.entries if e.period == "2026-01"]
    ledger.put(deal("late", 7_000, date(2026, 1, 30)), deal("d2", 20_000, date(2026, 2, 3)))
    february = ledger.run("2026-02")
    assert sorted(amounts(february)) == [("earning", "2026-02", Decimal("2000.00")),
                                         ("true_up", "2026-01", Decimal("700.00"))]
    late = next(e for e in february if e.origin == "2026-01")
    assert late.period == "2026-02" and "late change" in late.explanation
    assert [e for e in ledger.entries if e.period == "2026-01"] == january


def test_a_rerun_with_unchanged_inputs_posts_nothing():
    ledger = PureLedger(plan_of(ADVANCE_PLAN), people("rep-1", "rep-2"))
    ledger.put(deal("d1", 120_000, date(2026, 1, 10)), deal("d2", 90_000, date(2026, 1, 11), owner="rep-2"))
    assert ledger.run("2026-01")
    assert ledger.run("2026-01") == []


def test_shuffled_inputs_post_byte_identical_entries():
    deals = [deal(f"d{i}", 1000 * (i + 3), date(2026, 1 + i % 3, 1 + i), owner=f"rep-{i % 3}") for i in range(12)]
    digests = set()
    for seed in range(4):
        shuffled = deals[:]
        random.Random(seed).shuffle(shuffled)
        ledger = PureLedger(plan_of(ADVANCE_PLAN), people("rep-2", "rep-0", "rep-1")[::1 if seed % 2 else -1])
        ledger.put(*shuffled)
        for month in ("2026-01", "2026-02", "2026-03"):
            ledger.run(month)
        digests.add(entries_digest(ledger.entries))
        # What was posted, not only that it was the same: each rep's quarter at 5% (all below quota):
        # rep-0 3k+6k+9k+12k, rep-1 4k+7k+10k+13k, rep-2 5k+8k+11k+14k.
        paid = {p: sum(e.amount for e in ledger.entries if e.participant_id == p) for p in ("rep-0", "rep-1", "rep-2")}
        assert paid == {"rep-0": Decimal("1500.00"), "rep-1": Decimal("1700.00"), "rep-2": Decimal("1900.00")}
        assert {e.period for e in ledger.entries} == {"2026-01", "2026-02", "2026-03"}
    assert len(digests) == 1
