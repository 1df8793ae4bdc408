"""A job submitted to a Spark cluster by test_spark_cluster.py, written as docs/scaling.md tells a user to.

Usage: spark-submit --master URL spark_cluster_job.py PLAN.yaml QUARTER_URL OUTPUT_URL RESULT.json

Runs on the driver only: the plan is compiled here, and the cluster's executors run Spark SQL.
The bulk amounts are written by the executors to OUTPUT_URL; RESULT.json tells the test how
many executors the job had.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pyspark.sql import SparkSession

from attain.core.periods import parse_period
from attain.engine.vectorized import connect, run_bulk
from attain.formats.plan_file import load_plan


def main(plan_file: str, quarter: str, output: str, result_file: str) -> None:
    spark = SparkSession.builder.appName("attain-cluster-test").getOrCreate()
    try:
        con = connect("spark", session=spark)
        plan = load_plan(plan_file).plan
        period = parse_period("2026-Q1")
        run_bulk(plan, quarter, period, connection=con, output=output)
        executors = spark.sparkContext._jsc.sc().getExecutorMemoryStatus().size() - 1  # without the driver
        Path(result_file).write_text(json.dumps({"executors": executors}), encoding="utf-8")
    finally:
        spark.stop()


if __name__ == "__main__":
    main(*sys.argv[1:])
