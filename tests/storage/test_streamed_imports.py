"""Imports of deals, quotas and metrics are read, checked and written a part at a time: the same
store, the same segment, the same problems and the same all-or-nothing as one pass over the file."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select, text

import attain.app.imports as imports_module
from attain.app.audit import verify_chain
from attain.app.imports import import_file
from attain.app.workspace import Workspace
from attain.core.errors import DataError, UnsupportedError
from attain.formats.records import parse_chunks, parse_rows
from attain.formats.tables import read_table
from attain.storage.schema import deal_versions, imports, quota_versions
from attain.storage.segments import deal_table, ensure_segments, segment_path, segments_folder, unify
from csv_support import write_csv

PEOPLE = [{"id": f"R{i}", "name": f"Rep {i}", "role": "ae", "team": "east"} for i in range(4)]


def _deals() -> list[dict[str, Any]]:
    """17 deals: amounts with 2 places in the first part, 4 in a later one, and a custom field only
    some parts have, so the parts' columnar tables differ in type and columns."""
    rows: list[dict[str, Any]] = []
    for i in range(17):
        row = {"deal_id": f"D{i:03d}", "owner_id": f"R{i % 4}", "currency": "USD", "booked_on": "2026-02-01",
               "status": "won", "amount": f"{100 + i}.50" if i < 10 else f"{i}.1234"}
        if i >= 12:
            row["region"] = f"emea-{i}"
        rows.append(row)
    return rows


@pytest.fixture
def small_parts(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(imports_module, "STREAMED_ROWS", 5)
    return 5


def _seed(ws: Workspace, tmp_path: Path) -> None:
    import_file(ws, "participants", write_csv(tmp_path / "people.csv", PEOPLE))


def _count(ws: Workspace, table: Any) -> int:
    with ws.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_parts_of_a_file_are_the_whole_file_in_order(tmp_path: Path) -> None:
    rows = _deals()
    rows[11] = dict(rows[3])  # a duplicate of a row four parts back
    rows[6]["amount"] = "12,5"  # a bad number
    path = write_csv(tmp_path / "deals.csv", rows)
    whole = parse_rows("deals", read_table(path), path.name)
    parts = list(parse_chunks("deals", read_table(path), path.name, size=4))
    assert len(parts) == 5  # 16 rows in four parts of four accepted or rejected rows, then the last one
    assert [r for p in parts for r in p.rows] == list(whole.rows)
    assert [x for p in parts for x in p.problems] == list(whole.problems)
    assert frozenset().union(*(p.rejected for p in parts)) == whole.rejected == {8, 13}
    assert [p.code for p in whole.problems] == ["bad_number", "duplicate_key"]
    assert whole.problems[1].message == "the same deal_id as row 5"


def test_a_deal_file_in_parts_gives_the_segment_of_one_pass(workspace: Workspace, tmp_path: Path,
                                                            small_parts: int) -> None:
    _seed(workspace, tmp_path)
    rows = _deals()
    report = import_file(workspace, "deals", write_csv(tmp_path / "deals.csv", rows))
    assert (report.new, report.rejected) == (17, 0)
    assert _count(workspace, deal_versions) == 17
    segment = pq.read_table(segment_path(segments_folder(workspace.root), "deals", report.import_id or 0))
    with workspace.engine.connect() as conn:
        stored = [dict(r._mapping) for r in conn.execute(select(deal_versions).order_by(deal_versions.c.id))]
    one_pass = deal_table(stored)
    assert segment.schema.remove_metadata() == one_pass.schema
    assert segment.to_pylist() == one_pass.to_pylist()
    assert segment.schema.field("amount").type == pa.decimal128(18, 4)
    assert segment.column("amount").to_pylist()[:2] == [Decimal("100.5000"), Decimal("101.5000")]
    assert segment.column("f_region").to_pylist() == [None] * 12 + [f"emea-{i}" for i in range(12, 17)]


def test_a_bad_row_in_a_late_part_leaves_the_store_as_it_was(workspace: Workspace, tmp_path: Path,
                                                             small_parts: int) -> None:
    _seed(workspace, tmp_path)
    rows = _deals()
    rows[15]["owner_id"] = "nobody"
    before = _count(workspace, imports)
    with pytest.raises(DataError) as caught:
        import_file(workspace, "deals", write_csv(tmp_path / "deals.csv", rows))
    assert [(p.row, p.column, p.code) for p in caught.value.problems] == [(17, "owner_id", "unknown_participant")]
    assert _count(workspace, deal_versions) == 0
    assert _count(workspace, imports) == before
    assert not list((segments_folder(workspace.root) / "deals").glob("*.parquet"))


def test_skipping_invalid_rows_writes_every_good_part(workspace: Workspace, tmp_path: Path, small_parts: int) -> None:
    _seed(workspace, tmp_path)
    rows = _deals()
    rows[1]["amount"] = "abc"
    rows[14]["owner_id"] = "nobody"
    report = import_file(workspace, "deals", write_csv(tmp_path / "deals.csv", rows), skip_invalid=True)
    assert (report.new, report.rejected) == (15, 2)
    assert report.reject_file is not None
    rejected = report.reject_file.read_text(encoding="utf-8").splitlines()
    assert [line.split(",")[0] for line in rejected[1:]] == ["3", "16"]
    # Importing the same file again finds every key of every part already there.
    again = import_file(workspace, "deals", write_csv(tmp_path / "deals.csv", rows), skip_invalid=True)
    assert (again.new, again.changed, again.unchanged, again.written) == (0, 0, 15, False)
    rows[16]["amount"] = "1.00"
    changed = import_file(workspace, "deals", write_csv(tmp_path / "deals.csv", rows), skip_invalid=True)
    assert (changed.new, changed.changed, changed.unchanged) == (0, 1, 14)


def test_quotas_in_parts_are_audited_once_each(workspace: Workspace, tmp_path: Path, small_parts: int) -> None:
    _seed(workspace, tmp_path)
    quotas = [{"participant_id": f"R{i % 4}", "metric": f"m{i // 4}", "period": "2026-Q1", "amount": str(1000 + i)}
              for i in range(12)]
    import_file(workspace, "quotas", write_csv(tmp_path / "quotas.csv", quotas))
    quotas[9]["amount"] = "5"
    report = import_file(workspace, "quotas", write_csv(tmp_path / "quotas.csv", quotas))
    assert (report.new, report.changed, report.unchanged) == (0, 1, 11)
    assert _count(workspace, quota_versions) == 13
    with workspace.engine.connect() as conn:
        changes = [tuple(r) for r in conn.execute(text(
            "SELECT subject, before, after FROM audit_log WHERE action = 'quota.set' ORDER BY seq"))]
        assert verify_chain(conn).ok
    assert len(changes) == 13
    subject, before, after = changes[-1]
    assert subject == "default/R1|m2|2026-Q1|"
    assert (json.loads(before)["amount"], json.loads(after)["amount"]) == ("1009", "5")


def test_unify_widens_to_the_type_of_one_table() -> None:
    small = deal_table([_version(1, "12.50")])
    wide = deal_table([_version(2, "99999999999999.1234")])  # 14 + 4 digits: still 18
    assert unify([small, wide]).schema.field("amount").type == pa.decimal128(18, 4)
    wider = deal_table([_version(3, "999999999999999.5")])  # 15 digits, then 4 places: 19
    assert unify([small, wide, wider]).schema.field("amount").type == pa.decimal128(38, 4)
    assert unify([small, wide, wider]).column("amount").to_pylist() == [
        Decimal("12.5000"), Decimal("99999999999999.1234"), Decimal("999999999999999.5000")]


def _version(n: int, amount: str) -> dict[str, Any]:
    return {"import_id": 1, "source": "default", "key": f"D{n}", "version": 1, "deal_id": f"D{n}", "owner_id": "R0",
            "amount": amount, "currency": "USD", "status": "won", "booked_on": None, "signed_on": None,
            "invoiced_on": None, "recognized_on": None, "cancelled_on": None, "delivered": "1", "fields": "{}"}


def test_a_lost_segment_is_rebuilt_in_parts_as_it_was_written(
        workspace: Workspace, tmp_path: Path, small_parts: int, monkeypatch: pytest.MonkeyPatch) -> None:
    import attain.storage.segments as segments_module

    _seed(workspace, tmp_path)
    report = import_file(workspace, "deals", write_csv(tmp_path / "deals.csv", _deals()))
    path = segment_path(segments_folder(workspace.root), "deals", report.import_id or 0)
    written = pq.read_table(path)
    path.unlink()
    monkeypatch.setattr(segments_module, "REBUILD_ROWS", 4)
    with workspace.engine.connect() as conn:
        segments, rebuilt = ensure_segments(conn, segments_folder(workspace.root), "deals", workspace.known_import())
    assert rebuilt == 1 and [s.path for s in segments] == [path]
    again = pq.read_table(path)
    assert again.schema == written.schema  # the import's stamp included
    assert again.to_pylist() == written.to_pylist()


def test_a_deal_a_segment_cannot_keep_is_refused_with_its_reason(workspace: Workspace, tmp_path: Path,
                                                                 small_parts: int) -> None:
    _seed(workspace, tmp_path)
    rows = _deals()
    rows[12]["amount"] = "0." + "1" * 40  # exact in the store; 40 places do not fit a 38-digit decimal
    report = import_file(workspace, "deals", write_csv(tmp_path / "deals.csv", rows))
    assert report.new == 17
    path = segment_path(segments_folder(workspace.root), "deals", report.import_id or 0)
    assert not path.exists()
    with workspace.engine.connect() as conn, pytest.raises(UnsupportedError, match="40 decimal places"):
        ensure_segments(conn, segments_folder(workspace.root), "deals", workspace.known_import())
