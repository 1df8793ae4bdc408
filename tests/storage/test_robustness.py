"""Bad input and killed imports: every malformed row is rejected with its place; nothing half-written."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from attain.app.imports import import_file
from attain.app.workspace import Workspace
from attain.core.errors import DataError
from attain.storage.schema import VERSIONED, imports

REPS = 50
HEADER = "deal_id,owner_id,amount,currency,booked_on,status,delivered_pct,product\n"
# Each kind of damage, and the column a problem about it must name (None: the row as a whole).
DAMAGE = {
    "bad_date": ("D{i},R1,10,USD,2026-02-30,won,,saas\n", "booked_on"),
    "exponent": ("D{i},R1,1e3,USD,2026-02-03,won,,saas\n", "amount"),
    "nan": ("D{i},R1,NaN,USD,2026-02-03,won,,saas\n", "amount"),
    "thousands": ('D{i},R1,"1,000",USD,2026-02-03,won,,saas\n', "amount"),
    "unknown_id": ("D{i},NOBODY,10,USD,2026-02-03,won,,saas\n", "owner_id"),
    "duplicate": ("D0,R1,10,USD,2026-02-03,won,,saas\n", "deal_id"),
    "quoting": ('D{i},"R1"x,10,USD,2026-02-03,won,,saas\n', None),
    "encoding": ("D{i},R1,10,USD,2026-02-03,won,,caf\xe9\n", "product"),
}


def count_all(ws: Workspace) -> int:
    with ws.engine.connect() as conn:
        return sum(int(conn.execute(select(func.count()).select_from(t)).scalar_one())
                   for t in (imports, *VERSIONED.values()))


def participants_file(folder: Path) -> Path:
    path = folder / "participants.csv"
    path.write_text("id,name,role\n" + "".join(f"R{i},Rep {i},ae\n" for i in range(REPS)),
                    encoding="utf-8")
    return path


def test_ten_thousand_malformed_rows_are_each_rejected_and_nothing_written(
        workspace: Workspace, tmp_path: Path) -> None:
    import_file(workspace, "participants", participants_file(tmp_path))
    before = count_all(workspace)
    kinds = list(DAMAGE)
    expected: dict[int, tuple[str, str | None]] = {}
    body = bytearray(HEADER.encode())
    body += b"D0,R1,10,USD,2026-02-03,won,,saas\n"  # row 2: valid, the original of duplicates
    for i in range(1, 10_001):
        kind = kinds[i % len(kinds)]
        template, column = DAMAGE[kind]
        line = template.format(i=i)
        body += line.encode("latin-1") if kind == "encoding" else line.encode("utf-8")
        expected[i + 2] = (kind, column)
    path = tmp_path / "deals.csv"
    path.write_bytes(bytes(body))
    with pytest.raises(DataError) as caught:
        import_file(workspace, "deals", path)
    problems = caught.value.problems
    by_row = {p.row: p for p in problems}
    assert len(problems) == 10_000 and set(by_row) == set(expected)
    for row, (_kind, column) in expected.items():
        problem = by_row[row]
        assert problem.file == "deals.csv"
        assert problem.column == column
    assert count_all(workspace) == before


def test_splits_of_ninety_percent_are_rejected_naming_each_deal(workspace: Workspace,
                                                               tmp_path: Path) -> None:
    import_file(workspace, "participants", participants_file(tmp_path))
    deals = tmp_path / "deals.csv"
    deals.write_text(HEADER + "".join(f"D{i},R1,10,USD,2026-02-03,won,,saas\n"
                                      for i in range(500)), encoding="utf-8")
    import_file(workspace, "deals", deals)
    before = count_all(workspace)
    splits = tmp_path / "splits.csv"
    splits.write_text("deal_id,participant_id,share\n" + "".join(
        f"D{i},R1,50\nD{i},R2,40\n" for i in range(500)), encoding="utf-8")
    with pytest.raises(DataError) as caught:
        import_file(workspace, "splits", splits)
    problems = caught.value.problems
    assert len(problems) == 1000
    assert all(p.code == "split_sum" and p.column == "share" for p in problems)
    assert {p.subject for p in problems} == {f"deal D{i}" for i in range(500)}
    assert count_all(workspace) == before


def _writing_started(store_url: str, tmp_path: Path) -> bool:
    if store_url.startswith("sqlite"):
        wal = tmp_path / "store.db-wal"
        return wal.exists() and wal.stat().st_size > 512 * 1024
    engine = create_engine(store_url)
    with engine.connect() as conn:
        busy = conn.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE query ILIKE 'COPY%' "
            "AND datname = current_database() AND pid <> pg_backend_pid()")).scalar_one()
    engine.dispose()
    return bool(busy)


def test_an_import_killed_mid_file_leaves_the_store_unchanged_and_a_retry_completes(
        workspace: Workspace, tmp_path: Path, store_url: str) -> None:
    import_file(workspace, "participants", participants_file(tmp_path))
    rows = 150_000
    deals = tmp_path / "deals.csv"
    with deals.open("w", encoding="utf-8") as out:
        out.write(HEADER)
        out.writelines(f"D{i},R{i % REPS},{i}.25,USD,2026-02-03,won,,saas\n" for i in range(rows))
    before = count_all(workspace)
    command = [sys.executable, "-c", "from attain.cli.main import run; run()",
               "import", "deals", str(deals), "--workspace", str(workspace.root)]
    process = subprocess.Popen(command, env={**os.environ, "ATTAIN_DATABASE_URL": store_url},
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while process.poll() is None and not _writing_started(store_url, tmp_path):
        assert time.monotonic() < deadline, "the import never started writing"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the import finished before it was killed"
    assert count_all(workspace) == before
    report = import_file(workspace, "deals", deals)
    assert (report.new, report.changed, report.unchanged) == (rows, 0, 0)
    assert len(workspace.dataset().deals) == rows
