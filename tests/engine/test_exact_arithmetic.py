"""The reference engine carries exact fractions to the declared rounding: a derived rate is never
cut to 38 digits before it is multiplied, so rounding `up` cannot add a cent that is not owed."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from attain.core.dataset import DataSet
from attain.core.money import RoundingMode
from attain.core.periods import parse_period
from attain.core.records import Participant
from attain.engine.exact import allocate_exact, round_exact, shown
from attain.engine.reference import calculate
from attain.formats.plan_file import parse_plan

ACCELERATOR = """
plan: exact
name: Exact
currency: USD
rounding: {{mode: {mode}, point: {point}}}
metrics:
  bookings: {{sum: amount}}
components:
  - id: accel
    kind: accelerator
    metric: bookings
    target_incentive: 50000
    rate: derived
    bands: [{{above: 100%, multiplier: 1.5}}]
    base_multiplier: 0
"""


def _line(mode: str, bookings: str, point: str = "line"):
    plan = parse_plan(ACCELERATOR.format(mode=mode, point=point)).plan
    data = DataSet(participants=(Participant(id="rep", name="Rep", role="ae"),))
    result = calculate(plan, data, parse_period("2026-Q1"), fixed_values={"bookings": Decimal(bookings)},
                       fixed_quotas={"bookings": Decimal(1800000)})
    (line,) = result.lines
    return line


@pytest.mark.parametrize("mode", ["up", "ceiling", "half_up", "down"])
def test_rounding_up_a_derived_rate_pays_exactly_9000_not_9000_01(mode):
    # 216,000 above quota x 50,000 / 1,800,000 x 1.5 = 9,000 exactly; 38 digits of the rate
    # (0.041666...67) made it 9,000.000...0012, which `up` paid as 9,000.01.
    line = _line(mode, "2016000")
    assert line.amount == Decimal("9000.00")
    assert line.gross == Decimal("9000")
    assert line.slices[0].amount == Decimal("9000")


def test_a_gross_that_never_terminates_is_rounded_by_the_declared_mode():
    # 1 above quota: 1 x 50,000 / 1,800,000 x 1.5 = 1/24 = 0.041666...
    assert _line("up", "1800001").amount == Decimal("0.05")
    assert _line("down", "1800001").amount == Decimal("0.04")
    assert _line("half_up", "1800001").amount == Decimal("0.04")


def test_rounding_per_deal_uses_the_exact_shares():
    line = _line("up", "2016000", point="deal")
    assert line.amount == Decimal("9000.00")


@pytest.mark.parametrize(("value", "mode", "expected"), [
    (Fraction(1, 200), RoundingMode.HALF_UP, "0.01"),
    (Fraction(1, 200), RoundingMode.HALF_DOWN, "0.00"),
    (Fraction(1, 200), RoundingMode.HALF_EVEN, "0.00"),
    (Fraction(3, 200), RoundingMode.HALF_EVEN, "0.02"),
    (Fraction(-1, 200), RoundingMode.HALF_UP, "-0.01"),
    (Fraction(-1, 200), RoundingMode.HALF_DOWN, "0.00"),
    (Fraction(-1, 300), RoundingMode.UP, "-0.01"),
    (Fraction(-1, 300), RoundingMode.DOWN, "0.00"),
    (Fraction(-1, 300), RoundingMode.CEILING, "0.00"),
    (Fraction(-1, 300), RoundingMode.FLOOR, "-0.01"),
    (Fraction(900000000000001, 100000000000000), RoundingMode.UP, "9.01"),
    (Fraction(9000), RoundingMode.UP, "9000.00"),
])
def test_exact_rounding_agrees_with_the_declared_mode(value, mode, expected):
    assert round_exact(value, "USD", mode) == Decimal(expected)


def test_exact_rounding_uses_the_currencys_places():
    assert round_exact(Fraction(1001, 2), "JPY", RoundingMode.HALF_EVEN) == Decimal("500")
    assert round_exact(Fraction(1, 3), "KWD", RoundingMode.UP) == Decimal("0.334")


def test_a_shown_figure_is_the_38_digit_quotient():
    assert shown(Fraction(18000, 2)) == Decimal("9000")
    assert shown(Fraction(1, 3)) == Decimal("0." + "3" * 38)


def test_exact_allocation_sums_to_the_whole_with_remainders_to_the_largest():
    assert allocate_exact(Decimal("100.00"), [Fraction(1, 3)] * 3, Decimal("0.01")) == (
        Decimal("33.34"), Decimal("33.33"), Decimal("33.33"))
    assert allocate_exact(Decimal("10.00"), [Fraction(1), Fraction(2)], Decimal("0.01")) == (
        Decimal("3.33"), Decimal("6.67"))



def test_above_a_bounded_top_retroactive_tier_the_top_rate_is_paid_and_said(pay):
    tiers = """
- id: tiers
  kind: tiered
  method: retroactive
  metric: bookings
  tiers:
    - {from: 0%, to: 100%, rate: 5%}
    - {from: 100%, to: 150%, rate: 8%}
"""
    line = pay(tiers, bookings="2000000", quota="1000000")
    assert line.amount == Decimal("160000.00")  # 200%: all 2,000,000 at the top tier's 8%
    assert any(note.startswith("above the top tier's upper bound 150.0%") for note in line.notes)
    inside = pay(tiers, bookings="1200000", quota="1000000")
    assert inside.amount == Decimal("96000.00")
    assert not any("upper bound" in note for note in inside.notes)


def test_a_months_share_of_a_quarters_quota_is_exact():
    from attain.core.records import Quota
    from attain.engine.measures import QuotaBook

    book = QuotaBook([Quota(participant_id="rep", metric="bookings", period="2026-Q1", amount=Decimal(30))])
    quota, note = book.quota("rep", "bookings", parse_period("2026-01"))
    assert quota == Decimal(10) and note == "1/3 of the 2026-Q1 quota 30"
    year = QuotaBook([Quota(participant_id="rep", metric="bookings", period="2026", amount=Decimal(120000))])
    assert year.quota("rep", "bookings", parse_period("2026-Q2"))[0] == Decimal(30000)
