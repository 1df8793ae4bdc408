"""Scenarios with real deals: crediting, per-deal attribution, SPIFFs, pools and plan limits."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from attain.core.dataset import DataSet
from attain.core.periods import parse_period
from attain.core.records import Deal, DealStatus, MetricObservation, Participant, Quota, Split
from attain.engine.reference import calculate
from attain.formats.plan_file import parse_plan


def deal(deal_id: str, owner: str, amount: str, day: str, **fields: str) -> Deal:
    on = date.fromisoformat(day)
    return Deal(id=deal_id, owner_id=owner, amount=Decimal(amount), currency="USD", status=DealStatus.WON,
                booked_on=on, signed_on=on, invoiced_on=on, recognized_on=on, fields=tuple(fields.items()))


def reps(*ids: str, team: str = "east") -> tuple[Participant, ...]:
    return tuple(Participant(id=i, name=i.upper(), role="ae", team=team) for i in ids)


MARGINAL = """
- id: tiers
  kind: tiered
  method: marginal
  metric: bookings
  tiers:
    - {from: 0%, to: 100%, rate: 5%}
    - {from: 100%, rate: 10%}
"""


def test_delta_method_gives_the_deal_that_crosses_quota_the_higher_rate(plan_text):
    plan = parse_plan(plan_text(MARGINAL)).plan
    data = DataSet(
        participants=reps("a"),
        deals=(deal("D1", "a", "600000", "2026-01-10"), deal("D2", "a", "600000", "2026-02-10")),
        quotas=(Quota(participant_id="a", metric="bookings", period="2026-Q1", amount=Decimal(1_000_000)),),
    )
    (line,) = calculate(plan, data, parse_period("2026-Q1")).lines
    # 1,000,000 at 5% + 200,000 at 10% = 70,000; D1: 600k at 5%; D2: 400k at 5% + 200k at 10%
    assert line.amount == Decimal("70000.00")
    assert [(d.deal_id, d.amount) for d in line.deals] == [("D1", Decimal("30000.00")),
                                                            ("D2", Decimal("40000.00"))]


def test_milestone_is_attributed_to_the_deal_that_reached_it(plan_text):
    component = "- {id: bonus, kind: milestone, metric: bookings, amount: 50000}"
    plan = parse_plan(plan_text(component)).plan
    data = DataSet(
        participants=reps("a"),
        deals=(deal("D1", "a", "1000000", "2026-01-05"), deal("D2", "a", "900000", "2026-03-01"),
               deal("D3", "a", "100000", "2026-03-20")),
        quotas=(Quota(participant_id="a", metric="bookings", period="2026-Q1", amount=Decimal(1_800_000)),),
    )
    (line,) = calculate(plan, data, parse_period("2026-Q1")).lines
    assert [(d.deal_id, d.amount) for d in line.deals] == [
        ("D1", Decimal("0.00")), ("D2", Decimal("50000.00")), ("D3", Decimal("0.00"))]


def test_split_deal_credits_each_rep_their_share_and_overlay_in_full(plan_text):
    component = "- {id: c, kind: flat_rate, metric: bookings, rate: 10%}"
    plan = parse_plan(plan_text(component, "crediting: {overlay_roles: [se]}\n")).plan
    data = DataSet(
        participants=(*reps("a", "b"), Participant(id="s", name="S", role="ae")),
        deals=(deal("D1", "a", "100000", "2026-02-01"),),
        splits=(Split(deal_id="D1", participant_id="a", share=Decimal("0.6")),
                Split(deal_id="D1", participant_id="b", share=Decimal("0.4")),
                Split(deal_id="D1", participant_id="s", share=Decimal(1), role="se")),
    )
    result = calculate(plan, data, parse_period("2026-Q1"))
    assert {line.participant_id: line.amount for line in result.lines} == {
        "a": Decimal("6000.00"), "b": Decimal("4000.00"), "s": Decimal("10000.00")}


def test_spiff_pays_per_qualifying_deal_inside_the_window_only(plan_text):
    component = """
    - id: spiff
      kind: spiff
      window: {from: 2026-03-01, to: 2026-03-31}
      qualifies: "deal_type == 'new_logo'"
      amount_per_deal: 500
    """
    plan = parse_plan(plan_text(component)).plan
    data = DataSet(participants=reps("a"), deals=(
        deal("D1", "a", "10", "2026-02-28", deal_type="new_logo"),
        deal("D2", "a", "10", "2026-03-01", deal_type="new_logo"),
        deal("D3", "a", "10", "2026-03-31", deal_type="new_logo"),
        deal("D4", "a", "10", "2026-03-15", deal_type="expansion"),
    ))
    lines = calculate(plan, data, parse_period("2026-Q1")).lines
    assert [(line.period, line.amount) for line in lines] == [("2026-03", Decimal("1000.00"))]
    assert [d.deal_id for d in lines[0].deals] == ["D2", "D3"]


POOL = """
- id: pool
  kind: pool
  metric: bookings
  quota: 1000000
  target_incentive: 10000
  funding: {kind: milestone, pays: 100%}
  buckets:
    - {id: volume, share: 60%, split: contribution}
    - {id: quality, share: 30%, split: share, metric: csat}
    - {id: team, share: 10%, split: equal}
"""


def test_pool_splits_exactly_to_the_cent_by_contribution_share_and_equally(plan_text):
    plan = parse_plan(plan_text(POOL)).plan
    data = DataSet(
        participants=reps("a", "b", "c"),
        deals=(deal("D1", "a", "500000", "2026-01-10"), deal("D2", "b", "300000", "2026-01-10"),
               deal("D3", "c", "200000", "2026-01-10")),
        observations=tuple(MetricObservation(participant_id=p, metric="csat", period="2026-Q1", value=Decimal(v))
                           for p, v in (("a", "1"), ("b", "1"), ("c", "1"))),
    )
    result = calculate(plan, data, parse_period("2026-Q1"))
    amounts = {line.participant_id: line.amount for line in result.lines}
    # volume 6,000 split 5:3:2 (3,000 1,800 1,200); quality 3,000 in thirds; team 1,000: 333.34 333.33 333.33
    assert amounts == {"a": Decimal("4333.34"), "b": Decimal("3133.33"), "c": Decimal("2533.33")}
    assert sum(amounts.values()) == Decimal("10000.00")


def test_plan_cap_scales_lines_down_exactly(plan_text):
    components = """
    - {id: x, kind: flat_rate, metric: bookings, rate: 10%}
    - {id: y, kind: flat_rate, metric: bookings, rate: 5%}
    """
    plan = parse_plan(plan_text(components, "cap: {amount: 1000}\n")).plan
    data = DataSet(participants=reps("a"), deals=(deal("D1", "a", "10000", "2026-01-10"),))
    lines = calculate(plan, data, parse_period("2026-Q1")).lines
    assert [line.amount for line in lines] == [Decimal("666.67"), Decimal("333.33")]
    assert all(line.limits[-1].scope == "plan" for line in lines)


def test_cancelled_and_open_deals_earn_no_credit(plan_text):
    component = "- {id: c, kind: flat_rate, metric: bookings, rate: 10%}"
    plan = parse_plan(plan_text(component)).plan
    on = date(2026, 1, 5)
    data = DataSet(participants=reps("a"), deals=(
        deal("D1", "a", "1000", "2026-01-05"),
        Deal(id="D2", owner_id="a", amount=Decimal(5000), currency="USD", status=DealStatus.CANCELLED, booked_on=on),
        Deal(id="D3", owner_id="a", amount=Decimal(7000), currency="USD", status=DealStatus.OPEN, booked_on=on),
    ))
    (line,) = calculate(plan, data, parse_period("2026-Q1")).lines
    assert line.amount == Decimal("100.00")


def test_an_overlay_named_twice_on_a_deal_is_credited_once(plan_text):
    component = "- {id: c, kind: flat_rate, metric: bookings, rate: 10%}"
    plan = parse_plan(plan_text(component, "crediting: {overlay_roles: [se]}\n")).plan
    data = DataSet(
        participants=(*reps("a"), Participant(id="s", name="S", role="ae")),
        deals=(deal("D1", "a", "100000", "2026-02-01"),),
        splits=(Split(deal_id="D1", participant_id="s", share=Decimal(1), role="se"),
                Split(deal_id="D1", participant_id="s", share=Decimal(1), role="se")),
    )
    result = calculate(plan, data, parse_period("2026-Q1"))
    assert {line.participant_id: line.amount for line in result.lines} == {
        "a": Decimal("10000.00"), "s": Decimal("10000.00")}


def test_a_derived_rate_without_quota_pays_nothing_and_reports_the_missing_quota(plan_text):
    component = "- {id: c, kind: flat_rate, metric: bookings, rate: derived, target_incentive: 1000}"
    plan = parse_plan(plan_text(component)).plan
    data = DataSet(participants=reps("a"), deals=(deal("D1", "a", "100000", "2026-02-01"),))
    result = calculate(plan, data, parse_period("2026-Q1"))
    assert [line.amount for line in result.lines] == [Decimal("0.00")]
    assert [p.code for p in result.problems] == ["quota_missing"]


def test_a_deal_without_a_filtered_field_has_no_value_for_it():
    # A blank cell is a field the deal does not carry: the filter is not true for it, on both
    # executors (the vectorized one reads a missing column value as SQL NULL).
    from attain.engine.vectorized import calculate_vectorized

    plan = parse_plan("""
plan: test
name: Test plan
currency: USD
metrics:
  enterprise_bookings: {sum: amount, filter: "segment == 'enterprise' or seats > 100"}
components:
  - {id: enterprise, kind: flat_rate, metric: enterprise_bookings, rate: 10%}
""").plan
    data = DataSet(
        participants=reps("a"),
        deals=(deal("D1", "a", "1000", "2026-01-10", segment="enterprise"),
               deal("D2", "a", "2000", "2026-01-11"),
               deal("D3", "a", "4000", "2026-01-12", seats="150"),
               deal("D4", "a", "8000", "2026-01-13", segment="smb", seats=""),),
    )
    for result in (calculate(plan, data, parse_period("2026-Q1")),
                   calculate_vectorized(plan, data, parse_period("2026-Q1"))):
        (line,) = result.lines
        assert line.amount == Decimal("500.00")  # 10% of D1 and D3
        assert sorted(d.deal_id for d in line.deals) == ["D1", "D3"]
