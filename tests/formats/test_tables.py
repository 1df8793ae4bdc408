"""Table readers: CSV, JSON and Parquet rows numbered as a person sees them, problems per row."""

from __future__ import annotations

from pathlib import Path

import pytest

from attain.core.errors import DataError
from attain.formats.tables import read_table


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_csv_rows_are_numbered_from_two_after_the_header(tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", b"a,b\n1,2\n\n3, \n")
    rows = list(read_table(path))
    assert [(r.number, r.values) for r in rows] == [
        (2, {"a": "1", "b": "2"}),
        (4, {"a": "3", "b": None}),
    ]


def test_csv_with_byte_order_mark_is_read(tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", b"\xef\xbb\xbfid,name\nR1,Ann\n")
    assert [r.values for r in read_table(path)] == [{"id": "R1", "name": "Ann"}]


def test_csv_broken_quoting_is_a_problem_of_that_row_only(tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", b'a,b\n1,"x"y\n2,3\n')
    rows = list(read_table(path))
    assert rows[0].number == 2 and rows[0].problem is not None
    assert rows[0].problem.code == "broken_quoting"
    assert rows[1].number == 3 and rows[1].values == {"a": "2", "b": "3"}


def test_csv_latin1_bytes_are_an_encoding_problem_naming_the_column(tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", "id,name\nR1,Jos\u00e9\nR2,Ann\n".encode("latin-1"))
    rows = list(read_table(path))
    assert rows[0].problem is not None
    assert (rows[0].problem.code, rows[0].problem.row, rows[0].problem.column) == (
        "encoding", 2, "name")
    assert rows[1].values == {"id": "R2", "name": "Ann"}


def test_csv_quoted_newline_keeps_row_numbers_as_records(tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", b'a,b\n1,"two\nlines"\n3,4\n')
    rows = list(read_table(path))
    assert [(r.number, r.line) for r in rows] == [(2, 2), (3, 4)]
    assert rows[0].values == {"a": "1", "b": "two\nlines"}


def test_csv_wrong_field_count_is_a_problem(tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", b"a,b\n1,2,3\n")
    (row,) = read_table(path)
    assert row.problem is not None and row.problem.code == "field_count"


def test_csv_duplicate_header_column_refuses_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", b"a,a\n1,2\n")
    with pytest.raises(DataError) as caught:
        list(read_table(path))
    assert caught.value.problems[0].code == "duplicate_column"


def test_json_array_keeps_numbers_as_written(tmp_path: Path) -> None:
    path = write(tmp_path, "t.json", b'[{"amount": 1e3, "x": NaN, "n": 12.50, "ok": true}]')
    (row,) = read_table(path)
    assert row.number == 1
    assert row.values == {"amount": "1e3", "x": "NaN", "n": "12.50", "ok": "true"}


def test_json_lines_broken_line_is_a_problem_of_that_line(tmp_path: Path) -> None:
    path = write(tmp_path, "t.jsonl", b'{"a": "1"}\n{"a": \n[1]\n{"a": null}\n')
    rows = list(read_table(path))
    assert [(r.number, r.problem.code if r.problem else None) for r in rows] == [
        (1, None), (2, "json_syntax"), (3, "json_shape"), (4, None),
    ]
    assert rows[3].values == {"a": None}


def test_parquet_typed_values_become_text(tmp_path: Path) -> None:
    import datetime
    from decimal import Decimal

    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({
        "deal_id": ["D1", "D2"],
        "amount": pa.array([Decimal("10.50"), None], type=pa.decimal128(12, 2)),
        "booked_on": [datetime.date(2026, 3, 1), datetime.date(2026, 3, 2)],
        "seats": [3, 4],
    })
    path = tmp_path / "t.parquet"
    pq.write_table(table, path)
    rows = list(read_table(path))
    assert [(r.number, r.values) for r in rows] == [
        (1, {"deal_id": "D1", "amount": "10.50", "booked_on": "2026-03-01", "seats": "3"}),
        (2, {"deal_id": "D2", "amount": None, "booked_on": "2026-03-02", "seats": "4"}),
    ]
