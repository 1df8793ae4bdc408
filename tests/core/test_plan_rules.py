"""Plans that would pay wrongly or crash later are refused when read (and so by `plan check`),
each with the key and line at fault."""

from __future__ import annotations

import pytest

from attain.core.errors import PlanError
from attain.formats.plan_file import parse_plan

PLAN = """
plan: t
name: T
{top}
metrics:
  bookings: {{sum: amount}}
{metrics}
components:
  - id: c
    kind: flat_rate
    metric: bookings
    rate: 5%
    target_incentive: 1000
{component}
"""


def problems(top: str = "", metrics: str = "", component: str = "") -> list[str]:
    try:
        parse_plan(PLAN.format(top=top, metrics=metrics, component=component))
    except PlanError as error:
        return [p.message for p in error.problems]
    return []


def test_a_negative_cap_is_refused():
    (message,) = problems(component="    cap: {amount: -100}")
    assert "cannot be negative" in message and "-100" in message


def test_a_negative_plan_floor_multiple_is_refused():
    (message,) = problems(top="floor: {multiple_of_target: -1}")
    assert "cannot be negative" in message


def test_a_component_cap_below_its_floor_is_refused():
    (message,) = problems(component="    cap: {amount: 100}\n    floor: {amount: 200}")
    assert "the cap (100) is below the floor (200)" in message


def test_a_plan_cap_of_1x_target_below_a_floor_of_2000_is_refused():
    # the target incentive is 1,000, so a cap of 1x target is 1,000 < 2,000
    (message,) = problems(top="cap: {multiple_of_target: 1}\nfloor: {amount: 2000}")
    assert "the cap (1000) is below the floor (2000)" in message


def test_effective_to_before_effective_from_is_refused():
    (message,) = problems(top="effective: {from: 2026-07-01, to: 2026-01-01}")
    assert message.startswith("effective.to (2026-01-01) is before effective.from (2026-07-01)")


@pytest.mark.parametrize(("metrics", "circle"), [
    ("  a: {ratio: [a, bookings]}", "a -> a"),
    ("  a: {ratio: [b, bookings]}\n  b: {ratio: [bookings, a]}", "a -> b -> a"),
    ("  a: {ratio: [b, bookings]}\n  b: {ratio: [c, bookings]}\n  c: {ratio: [a, bookings]}", "a -> b -> c -> a"),
])
def test_circular_ratio_metrics_are_refused_naming_the_circle(metrics, circle):
    (message,) = problems(metrics=metrics)
    assert message.endswith("ratio metrics refer to each other in a circle: " + circle)


def test_a_cap_above_its_floor_and_chained_ratios_are_accepted():
    assert problems(component="    cap: {amount: 200}\n    floor: {amount: 100}",
                    metrics="  a: {ratio: [bookings, bookings]}\n  b: {ratio: [a, bookings]}") == []


def test_plan_check_warns_about_a_bounded_top_retroactive_tier(tmp_path):
    from attain.app.plans import check_plan_files

    text = PLAN.format(top="", metrics="", component="").replace(
        "    kind: flat_rate\n    metric: bookings\n    rate: 5%\n",
        "    kind: tiered\n    method: retroactive\n    metric: bookings\n    tiers:\n"
        "      - {from: 0%, to: 100%, rate: 5%}\n      - {from: 100%, to: 150%, rate: 8%}\n")
    path = tmp_path / "plan.yaml"
    path.write_text(text)
    _loaded, found = check_plan_files([path])
    (warning,) = [p for p in found if p.code == "plan_tier_top_bounded"]
    assert warning.severity == "warning" and "ends at 1.5" in warning.message
    open_top = text.replace("{from: 100%, to: 150%, rate: 8%}", "{from: 100%, rate: 8%}")
    path.write_text(open_top)
    assert not [p for p in check_plan_files([path])[1] if p.code == "plan_tier_top_bounded"]


def test_plan_check_reports_a_literal_division_by_zero_and_a_number_compared_with_a_text(tmp_path):
    from attain.app.plans import check_plan_files

    text = PLAN.format(top="", metrics="  big: {sum: amount, filter: \"amount / 0 > 5\"}",
                       component="    gates: [\"3 > 'abc'\", \"csat >= 4\"]")
    path = tmp_path / "plan.yaml"
    path.write_text(text)
    _loaded, found = check_plan_files([path])
    faults = sorted((p.key, p.message) for p in found if p.code == "plan_expression_fault")
    assert [key for key, _ in faults] == ["components[0].gates[0]", "metrics.big.filter"]
    assert "a number compared with a text" in faults[0][1] and "division by zero" in faults[1][1]
    assert all(p.severity == "error" and p.line for p in found if p.code == "plan_expression_fault")


def test_static_faults_leave_sound_expressions_alone():
    from attain.core.expressions import parse, static_faults

    assert static_faults(parse("bookings / quota > 1 and region == 'east'")) == []
    assert static_faults(parse("(bookings / 0) > 1")) == ["division by zero in bookings / 0"]
