"""The Spark executor on a cluster: a job submitted with spark-submit to a standalone cluster
(Spark's local-cluster mode: a master and a worker, whose executors are JVMs of their own).

The executors are started with a Python that cannot run (PYSPARK_PYTHON=/bin/false): the job
succeeds only if they run Spark SQL alone, as docs/scaling.md says (Attain is installed on the
driver only). The amounts the executors write equal DuckDB's, and the lines computed on the
cluster equal the reference engine's, reasons and per-deal attribution included.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from attain.core.periods import parse_period
from attain.engine.reference import calculate
from attain.engine.vectorized import run_bulk
from attain.engine.vectorized.bench import PLAN_FILE, generate, reference_sample_data
from attain.formats.plan_file import load_plan

from .generated import differences

pytestmark = pytest.mark.spark
JOB = Path(__file__).with_name("spark_cluster_job.py")
SAMPLE = 40


def _rows(table: object) -> list[tuple[object, ...]]:
    return sorted(tuple(row.values()) for row in table.to_pylist())  # type: ignore[attr-defined]


def test_a_job_on_a_cluster_pays_what_duckdb_and_the_reference_engine_pay(tmp_path: Path) -> None:
    pyspark = pytest.importorskip("pyspark")
    spark_home = Path(pyspark.__file__).parent
    quarter = tmp_path / "quarter"
    generate(quarter, payees=300, rows=6000)
    plan_file = tmp_path / "plan.yaml"
    plan_file.write_text(PLAN_FILE, encoding="utf-8")
    output, result_file = tmp_path / "out", tmp_path / "result.pickle"
    env = {**os.environ, "SPARK_HOME": str(spark_home), "PYSPARK_DRIVER_PYTHON": sys.executable,
           "PYSPARK_PYTHON": "/bin/false"}
    submitted = subprocess.run(
        [str(spark_home / "bin" / "spark-submit"), "--master", "local-cluster[1,1,1024]",
         "--conf", "spark.sql.shuffle.partitions=2", "--conf", "spark.ui.enabled=false",
         str(JOB), str(plan_file), quarter.as_uri(), output.as_uri(), str(SAMPLE), str(result_file)],
        env=env, capture_output=True, text=True, timeout=600, check=False)
    assert submitted.returncode == 0, submitted.stderr[-4000:]
    job = pickle.loads(result_file.read_bytes())
    assert job["executors"] == 1

    plan, period = load_plan(plan_file).plan, parse_period("2026-Q1")
    on_cluster = pq.read_table(output)
    on_duckdb = run_bulk(plan, quarter, period)
    assert on_cluster.num_rows == on_duckdb.num_rows == 300
    assert _rows(on_cluster.select(on_duckdb.column_names)) == _rows(on_duckdb)

    reference = calculate(plan, reference_sample_data(quarter, SAMPLE), period)
    assert len(reference.lines) > SAMPLE  # the sample's payees, and the other payees of their split deals
    assert any(line.deals for line in reference.lines)
    assert differences(reference, job["result"]) == []
