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
from attain.core.errors import DataError
from attain.formats.records import KnownIds, check_references, parse_chunks, parse_rows
from attain.formats.tables import read_table
from attain.storage.codecs import CODECS, SplitSet
from attain.storage.schema import deal_versions, imports, quota_versions, split_versions
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


def test_a_deal_a_segment_cannot_keep_is_refused_at_import_with_its_row(workspace: Workspace, tmp_path: Path,
                                                                        small_parts: int) -> None:
    """40 places would not fit a segment's 38-digit decimal: the import's declared limit (12 places)
    refuses the row before anything is written, naming its line and field."""
    from attain.core.errors import DataError

    _seed(workspace, tmp_path)
    rows = _deals()
    rows[12]["amount"] = "0." + "1" * 40
    before = workspace.known_import()
    with pytest.raises(DataError) as raised:
        import_file(workspace, "deals", write_csv(tmp_path / "deals.csv", rows))
    (problem,) = raised.value.problems
    assert problem.code == "out_of_range" and "deals.csv row 14 column amount" in str(problem)
    assert workspace.known_import() == before


def _split_rows() -> list[dict[str, Any]]:
    """Splits of 17 deals, grouped by deal but for D002, whose rows are scattered over three parts
    of 5 (rows 4, 10 and 17 of the file); D005 has an owner row and an overlay beside its splits."""
    rows: list[dict[str, Any]] = []
    for i in range(17):
        if i == 2:
            continue
        rows.append({"deal_id": f"D{i:03d}", "participant_id": f"R{i % 4}", "share": "60", "role": "split"})
        rows.append({"deal_id": f"D{i:03d}", "participant_id": f"R{(i + 1) % 4}", "share": "40", "role": "split"})
    rows[9]["role"] = "owner"
    rows.insert(10, {"deal_id": "D005", "participant_id": "R3", "share": "", "role": "overlay"})
    for at, who, share in ((2, "R0", "50"), (8, "R1", "25"), (15, "R3", "25")):
        rows.insert(at, {"deal_id": "D002", "participant_id": who, "share": share, "role": "split"})
    return rows


def _stored_splits(ws: Workspace) -> list[tuple[str, str]]:
    with ws.engine.connect() as conn:
        return sorted((r.key, r.shares) for r in conn.execute(select(split_versions)))


def _split_segment(ws: Workspace, import_id: int) -> list[dict[str, Any]]:
    table = pq.read_table(segment_path(segments_folder(ws.root), "splits", import_id))
    return sorted(table.to_pylist(), key=lambda r: (r["deal_id"], r["participant_id"], r["role"]))


def _one_pass(path: Path) -> tuple[Any, list[tuple[str, str]]]:
    """The file checked in one pass (parse_rows, check_references with the sums), and the shares
    its split sets would be stored with."""
    known = KnownIds(participants=frozenset(p["id"] for p in PEOPLE), deals=frozenset(d["deal_id"] for d in _deals()))
    table = check_references(parse_rows("splits", read_table(path), path.name), known)
    by_deal: dict[str, list[Any]] = {}
    for split in table.records():
        by_deal.setdefault(split.deal_id, []).append(split)
    rows = (CODECS["splits"].row(SplitSet(deal_id=deal, splits=tuple(splits))) for deal, splits in by_deal.items())
    return table, sorted((key, columns["shares"]) for key, _, columns in rows)


@pytest.mark.parametrize("part", [1, 5, 100])
def test_splits_in_parts_are_the_sets_of_one_pass(workspace: Workspace, tmp_path: Path, part: int,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # Each deal's rows become one record, whichever parts they fall in.
    _seed(workspace, tmp_path)
    import_file(workspace, "deals", write_csv(tmp_path / "deals.csv", _deals()))
    path = write_csv(tmp_path / "splits.csv", _split_rows())
    monkeypatch.setattr(imports_module, "STREAMED_ROWS", part)
    report = import_file(workspace, "splits", path)
    assert (report.new, report.rejected) == (17, 0)
    stored = _stored_splits(workspace)
    assert stored == _one_pass(path)[1]
    assert json.loads(dict(stored)["D002"]) == [["R0", "0.5", "split"], ["R1", "0.25", "split"],
                                                ["R3", "0.25", "split"]]
    assert json.loads(dict(stored)["D005"]) == [["R1", "0.6", "split"], ["R2", "0.4", "owner"],
                                                ["R3", "1", "overlay"]]
    segment = _split_segment(workspace, report.import_id or 0)
    assert len(segment) == 36
    assert [(r["participant_id"], r["share"]) for r in segment if r["deal_id"] == "D002"] == [
        ("R0", Decimal("0.5")), ("R1", Decimal("0.25")), ("R3", Decimal("0.25"))]
    again = import_file(workspace, "splits", path)
    assert (again.new, again.changed, again.unchanged) == (0, 0, 17)


def test_a_rejected_split_row_rejects_its_deal_across_parts(workspace: Workspace, tmp_path: Path,
                                                             small_parts: int) -> None:
    # A deal with a bad row is rejected whole, also when its other rows came parts earlier (D002)
    # or come in the next part (D014); the problems are those of one pass, in row order.
    _seed(workspace, tmp_path)
    import_file(workspace, "deals", write_csv(tmp_path / "deals.csv", _deals()))
    rows = _split_rows()
    rows[8]["share"] = "abc"  # D002's second row (file row 10), in the second part
    rows[30]["participant_id"] = "nobody"  # D014's first row (file row 32), its second in the next part
    path = write_csv(tmp_path / "splits.csv", rows)
    with pytest.raises(DataError) as caught:
        import_file(workspace, "splits", path)
    assert _count(workspace, split_versions) == 0
    whole, expected = _one_pass(path)
    assert [(p.row, p.column, p.code) for p in caught.value.problems] == [
        (p.row, p.column, p.code) for p in whole.problems] == [
        (4, "share", "split_sum"), (10, "share", "bad_number"), (17, "share", "split_sum"),
        (32, "participant_id", "unknown_participant"), (33, "share", "split_sum")]
    report = import_file(workspace, "splits", path, skip_invalid=True)
    assert (report.new, report.rejected) == (15, 5)
    stored = _stored_splits(workspace)
    assert stored == expected
    assert {key for key, _ in stored} == {f"D{i:03d}" for i in range(17)} - {"D002", "D014"}


def test_a_file_grouped_by_deal_is_held_a_deal_at_a_time(tmp_path: Path) -> None:
    from attain.app.imports import SplitGrouper
    from attain.formats.records import NO_MAPPING

    rows = [{"deal_id": f"D{i // 3}", "participant_id": f"R{i % 3}", "share": "1", "role": "overlay"}
            for i in range(30)]
    path = write_csv(tmp_path / "splits.csv", rows)
    grouper = SplitGrouper.of_file(path, NO_MAPPING)
    held = []
    problems: list[Any] = []
    for chunk in parse_chunks("splits", grouper.watch(read_table(path), NO_MAPPING), path.name, size=4):
        sets = grouper.complete(chunk, problems, set())
        held.append(len(grouper.pending))
        assert all(len(s.splits) == 3 for s in sets)
    assert max(held) <= 1 and grouper.rest(problems, set()) == [] and not grouper.remaining and not problems
