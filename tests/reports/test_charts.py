"""Payout curves are drawn offline from the plan's rule, with the payee's position marked."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

import attain
from attain.core.plan import Plan
from attain.engine.results import MetricReading
from attain.formats.plan_file import load_plan
from attain.reports.charts import (
    breakpoints,
    chart_basis,
    combined_curve_svg,
    has_curve,
    pay_at,
    payout_curve_svg,
)

DEMO_PLAN = Path(attain.__file__).parent / "demo" / "plans" / "account-executive.yaml"
QUOTA = Decimal(1_800_000)


def demo_plan() -> Plan:
    return load_plan(DEMO_PLAN).plan


def reading(attainment: str) -> MetricReading:
    ratio = Decimal(attainment)
    return MetricReading(name="bookings", value=QUOTA * ratio, quota=QUOTA, attainment=ratio)


def marker_x(svg: str) -> float:
    """The x coordinate of the payee marker (a <use> inside the group matplotlib names by gid)."""
    group = svg[svg.index('<g id="payee-position">'):]
    return float(re.search(r'<use [^>]*x="([0-9.]+)"', group).group(1))


def axis_x(svg: str, label: str) -> float:
    """The x coordinate of the x-axis tick label `label` (e.g. `100%`)."""
    match = re.search(rf'x="([0-9.]+)"[^>]*>{re.escape(label)}</text>', svg)
    assert match is not None, f"no tick {label}"
    return float(match.group(1))


def test_milestone_curve_jumps_at_the_threshold():
    plan = demo_plan()
    bonus = plan.component("quota_bonus")
    basis = chart_basis(plan, bonus)
    assert basis.quota == QUOTA  # taken from the plan's worked examples, not assumed
    just_below = QUOTA - Decimal("0.01")
    assert pay_at(bonus, just_below, basis) == 0
    assert pay_at(bonus, QUOTA, basis) == 50_000
    assert pay_at(bonus, QUOTA * Decimal("1.2"), basis) == 50_000
    assert breakpoints(bonus, QUOTA) == [QUOTA]


def test_curve_respects_the_component_cap():
    plan = demo_plan()
    accelerator = plan.component("accelerator")
    basis = chart_basis(plan, accelerator)
    assert pay_at(accelerator, QUOTA * Decimal("1.2"), basis) == Decimal("15000")
    assert pay_at(accelerator, QUOTA * 5, basis) == Decimal("100000")  # 2x target incentive


def test_marker_sits_at_the_payees_attainment():
    plan = demo_plan()
    svg = payout_curve_svg(plan, plan.component("quota_bonus"), reading("0.98"), paid=Decimal("0.00"))
    assert '<g id="payee-position">' in svg
    assert "you: 98.0% → 0.00 USD" in svg
    zero, hundred = axis_x(svg, "0%"), axis_x(svg, "100%")
    expected = zero + (hundred - zero) * 0.98
    assert marker_x(svg) == pytest.approx(expected, abs=0.5)


def test_marker_moves_with_attainment():
    plan = demo_plan()
    at_98 = marker_x(payout_curve_svg(plan, plan.component("quota_bonus"), reading("0.98")))
    at_120 = marker_x(payout_curve_svg(plan, plan.component("quota_bonus"), reading("1.2")))
    assert at_120 > at_98


def test_plan_curve_without_a_payee_has_no_marker():
    plan = demo_plan()
    svg = combined_curve_svg(plan, [plan.component("quota_bonus"), plan.component("accelerator")])
    assert "payee-position" not in svg
    assert 'id="payout-curve"' in svg
    assert "Quarterly quota bonus" in svg and "Accelerator above quota" in svg


def test_inline_svg_references_nothing_outside():
    plan = demo_plan()
    svg = payout_curve_svg(plan, plan.component("accelerator"), reading("1.2"))
    assert svg.startswith("<svg")
    assert "http" not in svg
    assert "<?xml" not in svg


def test_standalone_svg_keeps_its_namespace():
    plan = demo_plan()
    svg = payout_curve_svg(plan, plan.component("quota_bonus"), None, standalone=True)
    assert svg.startswith("<?xml")
    assert 'xmlns="http://www.w3.org/2000/svg"' in svg


def test_the_same_inputs_draw_the_same_svg():
    plan = demo_plan()
    first = payout_curve_svg(plan, plan.component("quota_bonus"), reading("0.98"))
    assert payout_curve_svg(plan, plan.component("quota_bonus"), reading("0.98")) == first


def test_a_spiff_has_no_curve():
    plan = demo_plan()
    spiff = plan.component("new_logo_spiff")
    assert not has_curve(spiff)
    with pytest.raises(ValueError, match="has a payout curve"):
        payout_curve_svg(plan, spiff, None)
