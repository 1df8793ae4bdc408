"""The vectorized executor pushed down into PostgreSQL equals the reference engine, to the cent."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from attain.core.dataset import DataSet
from attain.core.periods import parse_period
from attain.core.plan import Plan
from attain.engine.reference import calculate
from attain.engine.vectorized import calculate_vectorized

from .generated import datasets, differences, plans

pytestmark = pytest.mark.postgres
Q1 = parse_period("2026-Q1")


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(plan=plans(), data=datasets())
def test_vectorized_equals_reference_on_postgres(plan: Plan, data: DataSet, postgres_backend: Any) -> None:
    assert differences(calculate(plan, data, Q1), calculate_vectorized(plan, data, Q1,
                                                                       connection=postgres_backend)) == []
