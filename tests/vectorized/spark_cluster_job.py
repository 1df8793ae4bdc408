"""A job submitted to a Spark cluster by test_spark_cluster.py, written as docs/scaling.md tells a user to.

Usage: spark-submit --master URL spark_cluster_job.py PLAN.yaml QUARTER_URL OUTPUT_URL SAMPLE_PAYEES RESULT.pickle

Runs on the driver only: the plan is compiled here, and the cluster's executors run Spark SQL.
The bulk amounts are written by the executors to OUTPUT_URL; the full result (lines, reasons,
per-deal attribution) of the first SAMPLE_PAYEES payees is computed on the cluster from a DataSet
held by the driver and pickled to RESULT.pickle for the test to compare with the reference engine.
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

from pyspark.sql import SparkSession

from attain.core.periods import parse_period
from attain.engine.vectorized import calculate_vectorized, connect, run_bulk
from attain.engine.vectorized.bench import reference_sample_data
from attain.formats.plan_file import load_plan


def main(plan_file: str, quarter: str, output: str, sample_payees: str, result_file: str) -> None:
    spark = SparkSession.builder.appName("attain-cluster-test").getOrCreate()
    try:
        con = connect("spark", session=spark)
        plan = load_plan(plan_file).plan
        period = parse_period("2026-Q1")
        run_bulk(plan, quarter, period, connection=con, output=output)
        data = reference_sample_data(Path(quarter.removeprefix("file://")), int(sample_payees))
        result = calculate_vectorized(plan, data, period, connection=con)
        executors = spark.sparkContext._jsc.sc().getExecutorMemoryStatus().size() - 1  # without the driver
        Path(result_file).write_bytes(pickle.dumps({"result": result, "executors": executors}))
    finally:
        spark.stop()


if __name__ == "__main__":
    main(*sys.argv[1:])
