"""Every mechanic with hand-checked values at, just below and just above each boundary."""

from __future__ import annotations

from decimal import Decimal

import pytest

MILESTONE = """
- id: bonus
  kind: milestone
  metric: bookings
  target_incentive: 50000
  pays: 100%
"""

ACCELERATOR = """
- id: accel
  kind: accelerator
  metric: bookings
  target_incentive: 50000
  rate: derived
  base_multiplier: 0
  bands: [{above: 100%, multiplier: 1.5}]
"""


@pytest.mark.parametrize(("bookings", "expected"), [
    ("1764000", "0.00"),       # 98%: nothing
    ("1799999.99", "0.00"),    # a cent short
    ("1800000", "50000.00"),   # exactly 100%
    ("2160000", "50000.00"),   # 120%: over-attainment changes nothing
])
def test_seed_milestone_quarterly_quota_1_8m_bonus_50k(pay, bookings, expected):
    line = pay(MILESTONE, bookings=bookings, quota="1800000")
    assert line.amount == Decimal(expected)


def test_milestone_pays_nothing_at_98_percent_and_explains_why(pay):
    line = pay(MILESTONE, bookings="1764000", quota="1800000")
    assert line.amount == Decimal("0.00")
    assert line.metric.attainment == Decimal("0.98")
    assert any("not reached" in note for note in line.notes)


def test_milestone_exclusive_threshold_needs_more_than_100_percent(pay):
    exclusive = MILESTONE + "  inclusive: false\n"
    assert pay(exclusive, bookings="1800000", quota="1800000").amount == Decimal("0.00")
    assert pay(exclusive, bookings="1800000.01", quota="1800000").amount == Decimal("50000.00")


@pytest.mark.parametrize(("bookings", "expected"), [
    ("1800000", "0.00"),
    ("1800001", "0.04"),       # 1 x 50000/1800000 x 1.5 = 0.041666.. -> 0.04
    ("2160000", "15000.00"),   # 360,000 above quota x 2.7777..% x 1.5
])
def test_accelerator_pays_1_5x_the_ote_rate_above_quota(pay, bookings, expected):
    assert pay(ACCELERATOR, bookings=bookings, quota="1800000").amount == Decimal(expected)


def test_accelerator_with_decelerator_below_half(pay):
    component = """
    - id: c
      kind: accelerator
      metric: bookings
      rate: 10%
      bands: [{below: 50%, multiplier: 0.5}, {above: 100%, multiplier: 2}]
    """
    # 0-500k at 5%, 500k-1M at 10%, 1M-1.2M at 20% = 25,000 + 50,000 + 40,000
    assert pay(component, bookings="1200000", quota="1000000").amount == Decimal("115000.00")
    assert pay(component, bookings="400000", quota="1000000").amount == Decimal("20000.00")


STEPPED = """
- id: steps
  kind: stepped
  metric: bookings
  target_incentive: 10000
  steps:
    - {at: 90%, pays: 50%}
    - {at: 100%, pays: 100%}
    - {at: 120%, pays: 150%}
"""


@pytest.mark.parametrize(("bookings", "expected"), [
    ("899999", "0.00"), ("900000", "5000.00"), ("999999", "5000.00"), ("1000000", "10000.00"),
    ("1199999", "10000.00"), ("1200000", "15000.00"), ("3000000", "15000.00"),
])
def test_stepped_bonus_pays_highest_step_reached(pay, bookings, expected):
    assert pay(STEPPED, bookings=bookings, quota="1000000").amount == Decimal(expected)


def test_stepped_additive_adds_every_step_reached(pay):
    additive = STEPPED + "  mode: additive\n"
    assert pay(additive, bookings="1000000", quota="1000000").amount == Decimal("15000.00")
    assert pay(additive, bookings="1200000", quota="1000000").amount == Decimal("30000.00")


def test_flat_rate_pays_five_percent_of_bookings(pay):
    component = "- {id: c, kind: flat_rate, metric: bookings, rate: 5%}"
    assert pay(component, bookings="123456.78").amount == Decimal("6172.84")  # 6172.839 -> half up


def test_rate_above_threshold_pays_only_above_quota(pay):
    component = "- {id: c, kind: rate_above, metric: bookings, threshold: 100%, rate: 8%}"
    assert pay(component, bookings="1000000", quota="1000000").amount == Decimal("0.00")
    assert pay(component, bookings="999999", quota="1000000").amount == Decimal("0.00")
    assert pay(component, bookings="1250000", quota="1000000").amount == Decimal("20000.00")


MARGINAL = """
- id: tiers
  kind: tiered
  method: marginal
  metric: bookings
  tiers:
    - {from: 0%, to: 50%, rate: 2%}
    - {from: 50%, to: 100%, rate: 5%}
    - {from: 100%, rate: 8%}
"""


@pytest.mark.parametrize(("bookings", "expected"), [
    ("500000", "10000.00"),       # 500k x 2%
    ("500001", "10000.05"),       # + 1 x 5%
    ("1000000", "35000.00"),      # 10,000 + 25,000
    ("1100000", "43000.00"),      # + 100k x 8%
])
def test_marginal_tiers_pay_each_slice_at_its_rate(pay, bookings, expected):
    line = pay(MARGINAL, bookings=bookings, quota="1000000")
    assert line.amount == Decimal(expected)
    assert sum(s.amount for s in line.slices) == line.gross


def test_marginal_tiers_show_each_slice_with_base_and_rate(pay):
    line = pay(MARGINAL, bookings="1100000", quota="1000000")
    assert [(s.base, s.rate, s.amount) for s in line.slices] == [
        (Decimal("500000"), Decimal("0.02"), Decimal("10000.00")),
        (Decimal("500000"), Decimal("0.05"), Decimal("25000.00")),
        (Decimal("100000"), Decimal("0.08"), Decimal("8000.00")),
    ]


RETRO = MARGINAL.replace("method: marginal", "method: retroactive")


@pytest.mark.parametrize(("bookings", "expected"), [
    ("499999", "9999.98"),        # all at 2%
    ("500000", "25000.00"),       # boundary owned by the upper tier: all at 5%
    ("1000000", "80000.00"),      # all at 8%
    ("1100000", "88000.00"),      # at 110%, everything at 8%
])
def test_retroactive_tiers_pay_everything_at_the_tier_reached(pay, bookings, expected):
    assert pay(RETRO, bookings=bookings, quota="1000000").amount == Decimal(expected)


def test_retroactive_boundary_owned_by_lower_tier(pay):
    lower = RETRO + "  boundary: lower\n"
    assert pay(lower, bookings="500000", quota="1000000").amount == Decimal("10000.00")
    assert pay(lower, bookings="500001", quota="1000000").amount == Decimal("25000.05")


def test_tiers_by_amount_need_no_quota(pay):
    component = """
    - id: c
      kind: tiered
      method: marginal
      basis: amount
      metric: bookings
      tiers: [{from: 0, to: 100000, rate: 1%}, {from: 100000, rate: 3%}]
    """
    assert pay(component, bookings="150000").amount == Decimal("2500.00")


def test_derived_tier_rates_use_target_incentive_over_quota(pay):
    component = """
    - id: c
      kind: tiered
      method: marginal
      metric: bookings
      target_incentive: 40000
      tiers: [{from: 0%, to: 100%, multiplier: 1}, {from: 100%, multiplier: 2}]
    """
    # base rate 40,000 / 800,000 = 5%; 800k at 5% + 200k at 10%
    assert pay(component, bookings="1000000", quota="800000").amount == Decimal("60000.00")


GATED = """
- id: bonus
  kind: milestone
  metric: bookings
  amount: 25000
  gates: ["dwell_time_min > 3 and recall > 70%"]
"""


@pytest.mark.parametrize(("dwell", "recall", "expected"), [
    ("3.4", "0.74", "25000.00"),
    ("3", "0.74", "0.00"),        # dwell exactly 3 is not above 3
    ("3.01", "0.70", "0.00"),     # recall exactly 70% is not above 70%
    ("3.01", "0.7001", "25000.00"),
])
def test_quality_gate_with_and(pay, dwell, recall, expected):
    line = pay(GATED, bookings="1000000", quota="1000000", dwell_time_min=dwell, recall=recall)
    assert line.amount == Decimal(expected)
    (gate,) = line.gates
    assert [c.text for c in gate.clauses] == ["dwell_time_min > 3", "recall > 70%"]
    assert gate.clauses[0].left == Decimal(dwell)


def test_gate_with_missing_metric_does_not_pay_and_says_so(pay):
    line = pay(GATED, bookings="1000000", quota="1000000", dwell_time_min="4")
    assert line.amount == Decimal("0.00")
    assert line.gates[0].clauses[1].result is None


def test_gate_with_or_and_not(pay):
    component = MILESTONE + '  gates: ["csat >= 4.2 or not (recall < 50%)"]\n'
    assert pay(component, bookings="1800000", quota="1800000", csat="4.0", recall="0.6").amount == Decimal("50000.00")
    assert pay(component, bookings="1800000", quota="1800000", csat="4.0", recall="0.4").amount == Decimal("0.00")


def test_reduction_cuts_bonus_by_half_when_incidents(pay):
    component = MILESTONE + "  reductions: [{when: incidents > 0, reduce_by: 50%}]\n"
    assert pay(component, bookings="1800000", quota="1800000", incidents="0").amount == Decimal("50000.00")
    line = pay(component, bookings="1800000", quota="1800000", incidents="1")
    assert line.amount == Decimal("25000.00")
    assert line.reductions[0].applied


def test_elimination_term_removes_the_payout(pay):
    component = MILESTONE + "  reductions: [{when: incidents >= 3, eliminate: true}]\n"
    assert pay(component, bookings="1800000", quota="1800000", incidents="3").amount == Decimal("0.00")


def test_component_cap_as_multiple_of_target(pay):
    component = "- {id: c, kind: flat_rate, metric: bookings, rate: 10%, target_incentive: 1000, " \
                "cap: {multiple_of_target: 3}}"
    assert pay(component, bookings="29999").amount == Decimal("2999.90")
    line = pay(component, bookings="50000")
    assert line.amount == Decimal("3000.00")
    assert line.limits[0].kind == "cap" and line.limits[0].before == Decimal("5000.0")


def test_component_floor_guarantees_a_minimum_unless_gated(pay):
    component = "- {id: c, kind: flat_rate, metric: bookings, rate: 10%, floor: {amount: 500}, gates: ['csat >= 4']}"
    assert pay(component, bookings="1000", csat="4.5").amount == Decimal("500.00")
    assert pay(component, bookings="1000", csat="3.9").amount == Decimal("0.00")


def test_missing_quota_pays_nothing_and_reports_a_problem(pay):
    line = pay(MILESTONE, bookings="1800000")
    assert line.amount == Decimal("0.00")
    assert any("no quota" in note for note in line.notes)
