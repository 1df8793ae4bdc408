"""The Spark executor on a cluster (Spark's local-cluster master: a standalone master and a worker,
whose executors are JVMs of their own): a bulk job submitted with spark-submit, and `attain calc`
in a workspace whose attain.toml names the cluster.

The executors are started with a Python that cannot run (PYSPARK_PYTHON=/bin/false): the runs
succeed only if they run Spark SQL alone, as docs/scaling.md says (Attain is installed on the
driver only). The amounts the executors write equal DuckDB's; the lines `attain calc` computes on
the cluster (reasons and per-deal attribution included) equal the reference engine's.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from attain.app.imports import import_file
from attain.app.workspace import init_workspace
from attain.core.periods import parse_period
from attain.engine.vectorized import run_bulk
from attain.engine.vectorized.bench import PLAN_FILE, generate
from attain.formats.plan_file import load_plan

from .conftest import SPARK_TEST_SETTINGS

pytestmark = pytest.mark.spark
JOB = Path(__file__).with_name("spark_cluster_job.py")
CLUSTER = "local-cluster[1,1,1024]"


def _spark_env(spark_home: Path) -> dict[str, str]:
    """The environment of a process whose Spark executors cannot run Python."""
    return {**os.environ, "SPARK_HOME": str(spark_home), "PYSPARK_DRIVER_PYTHON": sys.executable,
            "PYSPARK_PYTHON": "/bin/false"}


@pytest.fixture
def cluster_apps() -> Iterator[Callable[[], set[Path]]]:
    """The applications a local-cluster worker ran during the test: it keeps each one's executor
    logs under SPARK_HOME/work (Spark's default); they are removed afterwards."""
    pyspark = pytest.importorskip("pyspark")
    work = Path(pyspark.__file__).parent / "work"
    before = set(work.glob("app-*"))

    def new() -> set[Path]:
        return set(work.glob("app-*")) - before

    yield new
    for folder in new():
        shutil.rmtree(folder, ignore_errors=True)


def _rows(table: object) -> list[tuple[object, ...]]:
    return sorted(tuple(row.values()) for row in table.to_pylist())  # type: ignore[attr-defined]


def test_a_bulk_job_on_a_cluster_pays_what_duckdb_pays(
        tmp_path: Path, cluster_apps: Callable[[], set[Path]]) -> None:
    pyspark = pytest.importorskip("pyspark")
    spark_home = Path(pyspark.__file__).parent
    quarter = tmp_path / "quarter"
    generate(quarter, payees=300, rows=6000)
    plan_file = tmp_path / "plan.yaml"
    plan_file.write_text(PLAN_FILE, encoding="utf-8")
    output, result_file = tmp_path / "out", tmp_path / "result.json"
    submitted = subprocess.run(
        [str(spark_home / "bin" / "spark-submit"), "--master", CLUSTER,
         *(item for key, value in SPARK_TEST_SETTINGS.items() for item in ("--conf", f"{key}={value}")),
         str(JOB), str(plan_file), quarter.as_uri(), output.as_uri(), str(result_file)],
        env=_spark_env(spark_home), capture_output=True, text=True, timeout=600, check=False)
    assert submitted.returncode == 0, submitted.stderr[-4000:]
    job = json.loads(result_file.read_text(encoding="utf-8"))
    assert job["executors"] == 1 and len(cluster_apps()) == 1

    plan, period = load_plan(plan_file).plan, parse_period("2026-Q1")
    on_cluster = pq.read_table(output)
    on_duckdb = run_bulk(plan, quarter, period)
    assert on_cluster.num_rows == on_duckdb.num_rows == 300
    assert _rows(on_cluster.select(on_duckdb.column_names)) == _rows(on_duckdb)


def _csv(path: Path, text: str) -> Path:
    path.write_text(text.strip() + "\n", encoding="utf-8")
    return path


def test_attain_calc_runs_on_the_cluster_the_workspace_names(
        tmp_path: Path, cluster_apps: Callable[[], set[Path]]) -> None:
    """`[spark]` settings in attain.toml reach the session `attain calc --executor spark` builds:
    on the cluster it prints, character for character, what the reference engine prints."""
    pyspark = pytest.importorskip("pyspark")
    ws = init_workspace(tmp_path / "ws")
    data = ws.root / "data"
    (ws.root / "plans" / "bench.yaml").write_text(PLAN_FILE, encoding="utf-8")
    files = {
        "participants": "id,name,role,team\nr1,Ana,ae,east\nr2,Bo,ae,east\nr3,Cy,ae,west\nr4,Di,ae,west",
        "quotas": "participant_id,metric,period,amount\nr1,bookings,2026-Q1,200000\nr2,bookings,2026-Q1,150000\n"
                  "r3,bookings,2026-Q1,300000\nr4,bookings,2026-Q1,100000",
        "deals": "deal_id,owner_id,amount,currency,status,booked_on\n"
                 "d1,r1,120000.00,USD,won,2026-01-10\nd2,r1,95000.50,USD,won,2026-02-11\nd3,r1,10000,USD,won,2026-03-01\n"
                 "d4,r2,49999.99,USD,won,2026-01-20\nd5,r2,80000,USD,won,2026-02-20\nd6,r2,33333.33,USD,won,2026-03-20\n"
                 "d7,r3,410000,USD,won,2026-02-02\nd8,r3,5000,USD,cancelled,2026-02-03\nd9,r4,70000,USD,won,2026-01-05\n"
                 "d10,r4,30000,USD,won,2026-02-05\nd11,r4,25000,USD,won,2026-03-05\nd12,r3,60000,USD,won,2026-03-15",
        "splits": "deal_id,participant_id,share,role\nd7,r3,60,split\nd7,r4,40,split",
    }
    for kind, text in files.items():
        import_file(ws, kind, _csv(data / f"{kind}.csv", text))
    import_file(ws, "plans", ws.root / "plans")
    ws.close()
    with (ws.root / "attain.toml").open("a", encoding="utf-8") as settings:
        settings.write(f'\n[spark]\n"spark.master" = "{CLUSTER}"\n')
        settings.writelines(f'"{key}" = "{value}"\n' for key, value in SPARK_TEST_SETTINGS.items())

    def calc(executor: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "attain", "calc", "--workspace", str(ws.root), "--period", "2026-Q1",
             "--executor", executor, "--format", "json"],
            env=_spark_env(Path(pyspark.__file__).parent), capture_output=True, text=True, timeout=600, check=False)

    reference, on_cluster = calc("reference"), calc("spark")
    apps = cluster_apps()
    assert reference.returncode == 0, reference.stderr
    assert on_cluster.returncode == 0, on_cluster.stderr[-4000:]
    assert on_cluster.stdout == reference.stdout
    assert '"component_id": "commission"' in reference.stdout and "gate" in reference.stdout
    # The session ran on the cluster: one application, one executor (executor 0; a lost executor
    # would be replaced by a 1). It was stopped at exit: released, not killed with the JVM (which
    # the worker reports as errors).
    assert [sorted(folder.name for folder in app.iterdir()) for app in apps] == [["0"]]
    assert "ERROR" not in on_cluster.stderr
