"""The vectorized executor on DuckDB equals the reference engine, line by line, to the cent.

Generated plans mix every mechanic, team pools (every split method, gates, named teams, monthly
pools over team moves) and both rounding points; the comparison covers amounts, every reason
(slices, gates, reductions, limits, pool shares, notes) and per-deal attribution."""

from __future__ import annotations

import ibis
import pytest
from hypothesis import HealthCheck, given, settings

from attain.core.dataset import DataSet
from attain.core.periods import parse_period
from attain.core.plan import Plan
from attain.engine.reference import calculate
from attain.engine.vectorized import calculate_vectorized

from .generated import datasets, differences, plans

Q1 = parse_period("2026-Q1")


@pytest.fixture(scope="module")
def duckdb_backend() -> object:
    return ibis.duckdb.connect()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(plan=plans(), data=datasets())
def test_vectorized_equals_reference_on_duckdb(plan: Plan, data: DataSet, duckdb_backend: object) -> None:
    reference = calculate(plan, data, Q1)
    vectorized = calculate_vectorized(plan, data, Q1, connection=duckdb_backend)
    assert differences(reference, vectorized) == []


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(plan=plans(pools=True), data=datasets())
def test_team_pools_on_duckdb_equal_the_reference(plan: Plan, data: DataSet, duckdb_backend: object) -> None:
    reference = calculate(plan, data, Q1)
    vectorized = calculate_vectorized(plan, data, Q1, connection=duckdb_backend)
    assert differences(reference, vectorized) == []
