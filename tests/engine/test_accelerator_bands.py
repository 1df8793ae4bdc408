"""Accelerators and decelerators with several bands: which band applies at, just below and just
above each threshold (hand-checked; the one-band tests in test_mechanics.py left these open).

Quota 1,000,000, base rate 10%; decelerators below 50% (x0.5) and below 75% (x0.75), accelerators
above 100% (x1.5) and above 120% (x2): the slices pay 5% on 0-500k, 7.5% on 500k-750k, 10% on
750k-1M, 15% on 1M-1.2M and 20% above 1.2M, each on its own slice only."""

from __future__ import annotations

from decimal import Decimal

import pytest

BANDS = """
- id: c
  kind: accelerator
  metric: bookings
  rate: 10%
  bands: [{below: 50%, multiplier: 0.5}, {below: 75%, multiplier: 0.75},
          {above: 100%, multiplier: 1.5}, {above: 120%, multiplier: 2}]
"""


@pytest.mark.parametrize(("bookings", "expected"), [
    ("0", "0.00"),
    ("499900", "24995.00"),     # 5% of 499,900
    ("500000", "25000.00"),     # the 50% threshold: all at 5%
    ("500100", "25007.50"),     # + 7.5% of 100
    ("749900", "43742.50"),     # 25,000 + 7.5% of 249,900
    ("750000", "43750.00"),
    ("750100", "43760.00"),     # + 10% of 100 (no band between 75% and 100%: the base multiplier)
    ("999900", "68740.00"),
    ("1000000", "68750.00"),    # 43,750 + 25,000
    ("1000100", "68765.00"),    # + 15% of 100
    ("1199900", "98735.00"),
    ("1200000", "98750.00"),    # 68,750 + 30,000
    ("1200100", "98770.00"),    # + 20% of 100
    ("1500000", "158750.00"),   # 98,750 + 20% of 300,000
])
def test_each_band_applies_on_its_own_slice(pay, bookings, expected):
    assert pay(BANDS, bookings=bookings, quota="1000000").amount == Decimal(expected)


def test_the_slices_name_each_band_and_add_up_to_the_line(pay):
    line = pay(BANDS, bookings="1300000", quota="1000000")
    assert line.amount == Decimal("118750.00")  # 98,750 + 20% of 100,000
    labels = [s.label for s in line.slices]
    assert len(labels) == 5
    assert [label.rsplit(" at ", 1)[1] for label in labels] == ["0.5x", "0.75x", "1x", "1.5x", "2x"]
    assert sum(s.amount for s in line.slices) == line.amount


def test_a_zero_base_multiplier_pays_only_inside_the_bands(pay):
    component = """
    - id: c
      kind: accelerator
      metric: bookings
      rate: 10%
      base_multiplier: 0
      bands: [{above: 100%, multiplier: 1.5}, {above: 120%, multiplier: 2}]
    """
    assert pay(component, bookings="1000000", quota="1000000").amount == Decimal("0.00")
    assert pay(component, bookings="1100000", quota="1000000").amount == Decimal("15000.00")
    assert pay(component, bookings="1300000", quota="1000000").amount == Decimal("50000.00")  # 30k + 20k
