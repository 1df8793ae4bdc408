"""Fixtures for engine tests: a plan with one component written as YAML, paid on given figures."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from decimal import Decimal

import pytest

from attain.core.dataset import DataSet
from attain.core.periods import parse_period
from attain.core.records import Participant
from attain.engine.reference import calculate
from attain.engine.results import PayoutLine
from attain.formats.plan_file import parse_plan

PLAN_HEAD = """
plan: test
name: Test plan
currency: USD
metrics:
  bookings: {sum: amount}
  csat: {average: csat}
  recall: {average: recall}
  dwell_time_min: {average: dwell_time_min}
  incidents: {total: incidents}
components:
"""


def plan_with(component_yaml: str, extra: str = "") -> str:
    body = textwrap.indent(textwrap.dedent(component_yaml).strip(), "  ")
    return PLAN_HEAD + body + "\n" + textwrap.dedent(extra)


PayFn = Callable[..., PayoutLine]


@pytest.fixture
def plan_text() -> Callable[..., str]:
    """plan_text(component_yaml, extra_top_level_yaml="") -> a whole plan file's text."""
    return plan_with


@pytest.fixture
def pay() -> PayFn:
    """pay(component_yaml, bookings=..., quota=..., period=..., **observed) -> the component's line."""

    def run(component_yaml: str, *, period: str = "2026-Q1", quota: str | None = None, **values: str) -> PayoutLine:
        plan = parse_plan(plan_with(component_yaml)).plan
        fixed = {name: Decimal(v) for name, v in values.items()}
        quotas = {"bookings": Decimal(quota)} if quota is not None else {}
        data = DataSet(participants=(Participant(id="rep", name="Rep", role="ae"),))
        result = calculate(plan, data, parse_period(period), fixed_values=fixed, fixed_quotas=quotas)
        (line,) = result.lines
        return line

    return run
