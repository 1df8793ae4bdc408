"""Spark (local mode): refused before anything runs until its DECIMAL arithmetic is exact."""

from __future__ import annotations

from typing import Any

import pytest

from attain.core.dataset import DataSet
from attain.core.errors import UnsupportedError
from attain.core.periods import parse_period
from attain.engine.vectorized import calculate_vectorized
from attain.engine.vectorized.bench import bench_plan

pytestmark = pytest.mark.spark


def test_spark_executor_refuses_rather_than_paying_different_numbers(spark_backend: Any) -> None:
    with pytest.raises(UnsupportedError, match="Spark"):
        calculate_vectorized(bench_plan(), DataSet(), parse_period("2026-Q1"), connection=spark_backend)
