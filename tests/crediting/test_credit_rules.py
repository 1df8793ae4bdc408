"""Crediting rules with hand-checked values: date basis, splits, overlays, roll-ups, delivery, fx."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from attain.core.money import allocate
from attain.core.periods import parse_period
from attain.core.plan import CreditingRules
from attain.core.records import (
    CreditRule,
    CurrencyRate,
    DateBasis,
    Deal,
    DealStatus,
    OrgTerm,
    Split,
)
from attain.crediting import Org, RateTable, credit_deals

ORG = Org([
    OrgTerm(participant_id="VP", role="vp", team="sales", manager_id=None),
    OrgTerm(participant_id="M1", role="manager", team="east", manager_id="VP"),
    OrgTerm(participant_id="M2", role="manager", team="west", manager_id="VP"),
    OrgTerm(participant_id="A", role="ae", team="east", manager_id="M1",
            effective_to=date(2026, 8, 1)),
    OrgTerm(participant_id="A", role="ae", team="west", manager_id="M2",
            effective_from=date(2026, 8, 1)),
    OrgTerm(participant_id="B", role="ae", team="east", manager_id="M1"),
    OrgTerm(participant_id="S", role="se", team="east", manager_id="M1"),
])
NO_RATES = RateTable([])


def deal(deal_id: str = "D1", owner: str = "A", amount: str = "10000", *,
         booked: date | None = date(2026, 7, 10), signed: date | None = None,
         invoiced: date | None = None, currency: str = "USD", delivered: str = "1",
         status: DealStatus = DealStatus.WON) -> Deal:
    return Deal(id=deal_id, owner_id=owner, amount=Decimal(amount), currency=currency,
                status=status, booked_on=booked, signed_on=signed, invoiced_on=invoiced,
                delivered=Decimal(delivered))


def credited(deals, splits=(), rules=CreditingRules(), rates=NO_RATES, window=None):  # type: ignore[no-untyped-def]
    result = credit_deals(deals, splits, ORG, rules, "USD", rates, window)
    return [(c.participant_id, c.rule, c.amount) for c in result.credits], result.problems


def test_credit_date_basis_decides_the_period() -> None:
    d = deal(booked=date(2026, 6, 28), invoiced=date(2026, 7, 3))
    q3 = parse_period("2026-Q3")
    booked, _ = credited([d], window=q3)
    invoiced, _ = credited([d], rules=CreditingRules(date_basis=DateBasis.INVOICED), window=q3)
    assert booked == []
    assert invoiced == [("A", CreditRule.OWNER, Decimal("10000"))]


def test_missing_date_on_the_basis_is_a_problem_naming_the_deal() -> None:
    _, problems = credited([deal(signed=None)], rules=CreditingRules(date_basis=DateBasis.SIGNED))
    assert [(p.code, p.subject) for p in problems] == [("credit_date_missing", "deal D1")]


def test_sixty_forty_split_and_an_overlay_se_in_full() -> None:
    splits = [Split(deal_id="D1", participant_id="A", share=Decimal("0.6")),
              Split(deal_id="D1", participant_id="B", share=Decimal("0.4")),
              Split(deal_id="D1", participant_id="S", share=Decimal("1"), role="se")]
    credits, _ = credited([deal()], splits, CreditingRules(overlay_roles=("se",)))
    assert credits == [("A", CreditRule.OWNER, Decimal("6000.0")),
                       ("B", CreditRule.SPLIT, Decimal("4000.0")),
                       ("S", CreditRule.OVERLAY, Decimal("10000"))]


def test_an_se_row_on_a_plan_without_se_overlays_earns_nothing_and_breaks_nothing() -> None:
    splits = [Split(deal_id="D1", participant_id="S", share=Decimal("1"), role="se")]
    credits, problems = credited([deal()], splits)
    assert credits == [("A", CreditRule.OWNER, Decimal("10000"))] and problems == ()


def test_splits_of_ninety_percent_credit_nothing_and_name_the_deal() -> None:
    splits = [Split(deal_id="D1", participant_id="A", share=Decimal("0.5")),
              Split(deal_id="D1", participant_id="B", share=Decimal("0.4"))]
    credits, problems = credited([deal()], splits)
    assert credits == []
    assert [(p.code, p.subject) for p in problems] == [("split_sum", "deal D1")]


def test_rollup_follows_the_hierarchy_on_the_credit_date() -> None:
    # A moved from M1 (east) to M2 (west) on 1 August: July's deal rolls up to M1, August's
    # to M2; the VP above both gets each deal once.
    rules = CreditingRules(rollup=True)
    july, _ = credited([deal("D1", booked=date(2026, 7, 31))], rules=rules)
    august, _ = credited([deal("D2", booked=date(2026, 8, 1))], rules=rules)
    assert july == [("A", CreditRule.OWNER, Decimal("10000")),
                    ("M1", CreditRule.ROLLUP, Decimal("10000")),
                    ("VP", CreditRule.ROLLUP, Decimal("10000"))]
    assert august == [("A", CreditRule.OWNER, Decimal("10000")),
                      ("M2", CreditRule.ROLLUP, Decimal("10000")),
                      ("VP", CreditRule.ROLLUP, Decimal("10000"))]


def test_rollup_of_a_split_between_two_reps_of_one_manager_is_counted_once() -> None:
    splits = [Split(deal_id="D1", participant_id="A", share=Decimal("0.5")),
              Split(deal_id="D1", participant_id="B", share=Decimal("0.5"))]
    credits, _ = credited([deal()], splits, CreditingRules(rollup=True))
    assert ("M1", CreditRule.ROLLUP, Decimal("10000.0")) in credits
    assert [c for c in credits if c[0] == "VP"] == [("VP", CreditRule.ROLLUP, Decimal("10000.0"))]


def test_partial_delivery_is_credited_pro_rata() -> None:
    credits, _ = credited([deal(delivered="0.6")])
    assert credits == [("A", CreditRule.OWNER, Decimal("6000.0"))]
    whole, _ = credited([deal(delivered="0.6")], rules=CreditingRules(pro_rata_delivery=False))
    assert whole == [("A", CreditRule.OWNER, Decimal("10000"))]


def test_open_and_cancelled_deals_earn_no_credit() -> None:
    credits, _ = credited([deal("D1", status=DealStatus.OPEN),
                           deal("D2", status=DealStatus.CANCELLED)])
    assert credits == []


def test_other_currency_is_converted_at_the_rate_of_the_credit_date() -> None:
    rates = RateTable([
        CurrencyRate(from_currency="EUR", to_currency="USD", on=date(2026, 1, 1),
                     rate=Decimal("1.10")),
        CurrencyRate(from_currency="EUR", to_currency="USD", on=date(2026, 7, 15),
                     rate=Decimal("1.20")),
    ])
    before, _ = credited([deal(currency="EUR", booked=date(2026, 7, 14))], rates=rates)
    on_day, _ = credited([deal(currency="EUR", booked=date(2026, 7, 15))], rates=rates)
    assert before == [("A", CreditRule.OWNER, Decimal("11000.00"))]
    assert on_day == [("A", CreditRule.OWNER, Decimal("12000.00"))]


def test_missing_rate_is_a_problem() -> None:
    credits, problems = credited([deal(currency="GBP")])
    assert credits == [] and [p.code for p in problems] == ["fx_rate_missing"]


@settings(max_examples=200, deadline=None)
@given(
    amount=st.integers(min_value=1, max_value=10**12),
    weights=st.lists(st.integers(min_value=1, max_value=10_000), min_size=1, max_size=12),
)
def test_split_allocations_sum_exactly_to_the_deal(amount: int, weights: list[int]) -> None:
    total = Decimal(amount).scaleb(-2)
    shares = [Decimal(w) / Decimal(sum(weights)) for w in weights]
    parts = allocate(total, shares, Decimal("0.01"))
    assert sum(parts) == total
    assert all(abs(p - total * s) < Decimal("0.01") for p, s in zip(parts, shares, strict=True))


@settings(max_examples=200, deadline=None)
@given(
    cents=st.integers(min_value=1, max_value=10**12),
    basis_points=st.lists(st.integers(min_value=1, max_value=10_000), min_size=1, max_size=8),
    delivered=st.integers(min_value=0, max_value=100),
)
def test_split_credits_of_a_deal_sum_exactly_to_its_credited_value(
        cents: int, basis_points: list[int], delivered: int) -> None:
    # Shares in basis points, the last one topping up to exactly 100%.
    total_bp = sum(basis_points[:-1])
    assume(total_bp < 10_000)  # a rejected draw is replaced, not counted as a pass
    points = [*basis_points[:-1], 10_000 - total_bp]
    people = [f"P{i}" for i in range(len(points))]
    org = Org([OrgTerm(participant_id=p, role="ae", team="t", manager_id=None) for p in people])
    splits = [Split(deal_id="D1", participant_id=p, share=Decimal(bp).scaleb(-4))
              for p, bp in zip(people, points, strict=True)]
    d = deal(owner="P0", amount=str(Decimal(cents).scaleb(-2)), delivered=str(
        Decimal(delivered).scaleb(-2)))
    result = credit_deals([d], splits, org, CreditingRules(), "USD", NO_RATES)
    assert result.problems == ()
    assert sum(c.amount for c in result.credits) == d.amount * d.delivered
