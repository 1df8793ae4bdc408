"""Input that used to be misread or to crash: grouping, decimal marks, repeated keys, limits,
deep JSON, fake Parquet, and plans with aliases, tags and merge keys."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from attain.core.errors import DataError, PlanError
from attain.formats.plan_file import parse_plan
from attain.formats.records import ImportMapping, parse_rows, read_number
from attain.formats.tables import read_json, read_json_lines, read_parquet

DEAL = {"deal_id": "d1", "owner_id": "ae-01", "currency": "USD", "status": "won",
        "booked_on": "2026-01-05"}


def _amount(text: str, mapping: ImportMapping):
    from attain.formats.tables import RawRow

    table = parse_rows("deals", [RawRow(number=2, values={**DEAL, "amount": text})], "deals.csv",
                       mapping)
    return table


@pytest.mark.parametrize("text", ["1,00", ",100", "1,0,0,0", "1000,000", "1,000,00", "1.000,50"])
def test_malformed_grouping_is_refused_naming_file_row_and_field(text):
    table = _amount(text, ImportMapping(thousands=","))
    assert not table.rows
    [problem] = table.problems
    assert (problem.code, problem.file, problem.row, problem.column) == ("bad_number", "deals.csv",
                                                                         2, "amount")


@pytest.mark.parametrize(("text", "expected"), [
    ("1,000", "1000"), ("1,000.50", "1000.50"), ("-12,345,678.9", "-12345678.9"), ("100", "100"),
    ("999", "999"), (".5", ".5"),
])
def test_valid_grouping_is_read_exactly(text, expected):
    assert read_number(text, ",") == Decimal(expected)


def test_decimal_comma_is_read_only_when_declared():
    assert read_number("1.000,50", ".", ",") == Decimal("1000.50")
    assert read_number("12,5", None, ",") == Decimal("12.5")
    # Not declared: a decimal comma is never guessed.
    assert _amount("1.000,50", ImportMapping()).problems[0].code == "bad_number"
    assert _amount("12,5", ImportMapping(thousands=".")).problems[0].code == "bad_number"


@pytest.mark.parametrize("text", ["1" * 28, "1" * 19, "0." + "1" * 13])
def test_amounts_beyond_the_declared_precision_are_refused_at_import(text):
    [problem] = _amount(text, ImportMapping()).problems
    assert (problem.code, problem.row, problem.column) == ("out_of_range", 2, "amount")


def test_the_largest_allowed_amount_is_accepted():
    table = _amount("9" * 18 + "." + "9" * 12, ImportMapping())
    assert table.rows[0].record.amount == Decimal("9" * 18 + "." + "9" * 12)


def test_a_mapped_column_colliding_with_a_raw_one_is_a_problem():
    from attain.formats.tables import RawRow

    mapping = ImportMapping(columns={"Amount": "amount"})
    table = parse_rows("deals", [RawRow(number=2, values={**DEAL, "amount": "1", "Amount": "9"})],
                       "deals.csv", mapping)
    assert not table.rows
    [problem] = table.problems
    assert (problem.code, problem.file, problem.row) == ("column_collision", "deals.csv", 2)
    assert "amount" in problem.message


@pytest.mark.parametrize("body", [
    '{"deal_id": "d1", "amount": "50000", "amount": "9999999"}',
    '{"deal_id": "d1", "amount": "50000", " amount ": "9999999"}',
])
def test_a_repeated_json_key_names_file_row_and_key(tmp_path, body):
    path = tmp_path / "deals.json"
    path.write_text(f"[{body}]")
    [row] = list(read_json(path))
    assert row.values is None
    assert (row.problem.code, row.problem.file, row.problem.row, row.problem.column) == (
        "duplicate_key", "deals.json", 1, "amount")
    lines = tmp_path / "deals.jsonl"
    lines.write_text('{"deal_id": "d0"}\n' + body + "\n")
    rows = list(read_json_lines(lines))
    assert rows[0].values == {"deal_id": "d0"}
    assert (rows[1].problem.code, rows[1].problem.row) == ("duplicate_key", 2)


def test_json_nested_100000_deep_is_a_problem_not_a_traceback(tmp_path):
    path = tmp_path / "deals.json"
    path.write_text("[" + "[" * 100_000 + "]" * 100_001)
    with pytest.raises(DataError) as caught:
        list(read_json(path))
    assert caught.value.problems[0].file == "deals.json"
    lines = tmp_path / "deals.jsonl"
    lines.write_text('{"a": ' * 100_000 + "1" + "}" * 100_000 + "\n")
    [row] = list(read_json_lines(lines))
    assert (row.problem.code, row.problem.row) == ("json_shape", 1)


@pytest.mark.parametrize("content", [b"", b"PAR1", b"PAR1garbagegarbagePAR1", b"not parquet"])
def test_a_fake_parquet_file_is_a_problem_naming_the_file(tmp_path, content):
    path = tmp_path / "deals.parquet"
    path.write_bytes(content)
    with pytest.raises(DataError) as caught:
        list(read_parquet(path))
    assert caught.value.problems[0].file == "deals.parquet"


def test_a_corrupt_parquet_page_is_a_problem_naming_the_file(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "deals.parquet"
    pq.write_table(pa.table({"deal_id": [f"d{i}" for i in range(2000)]}), path,
                   compression="snappy")
    data = bytearray(path.read_bytes())
    for index in range(200, 1200):
        data[index] = 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(DataError) as caught:
        list(read_parquet(path))
    assert caught.value.problems[0].file == "deals.parquet"


def _laughs(levels: int) -> str:
    text = 'l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
    for level in range(1, levels + 1):
        refs = ", ".join([f"*l{level - 1}"] * 9)
        text += f"l{level}: &l{level} [{refs}]\n"
    return text


def test_a_yaml_alias_bomb_is_refused_fast():
    started = time.perf_counter()
    with pytest.raises(PlanError) as caught:
        parse_plan(_laughs(10), "bomb.yaml")
    elapsed = time.perf_counter() - started
    assert caught.value.problems[0].code == "yaml_alias"
    assert caught.value.problems[0].file == "bomb.yaml"
    assert elapsed < 1.0  # a bound on a hang (18 s at 7 levels before), not a speed goal


@pytest.mark.parametrize(("text", "code", "line"), [
    ("plan: p\nname: !!python/object/apply:os.system ['true']\n", "yaml_tag", 2),
    ("plan: !!python/name:os.system\n", "yaml_tag", 1),
    ("base: &b {sum: amount}\nmetrics:\n  m:\n    <<: *b\n", "yaml_merge", 4),
    ("plan: p\nmetrics:\n  m:\n    <<: {sum: amount}\n", "yaml_merge", 4),
])
def test_python_tags_and_merge_keys_are_problems_on_their_line(text, code, line):
    with pytest.raises(PlanError) as caught:
        parse_plan(text, "plan.yaml")
    [problem] = caught.value.problems
    assert (problem.code, problem.file, problem.line) == (code, "plan.yaml", line)


def test_aliases_to_plain_values_still_load():
    with pytest.raises(PlanError) as caught:
        parse_plan("plan: &id p\nname: *id\n", "plan.yaml")
    # Refused for what the plan lacks, not for the scalar alias.
    assert all(p.code not in ("yaml_alias", "yaml_tag") for p in caught.value.problems)


def test_an_id_over_the_declared_length_is_refused_at_import_with_its_row():
    from attain.formats.records import MAX_ID_LENGTH

    table = _amount("100", ImportMapping())
    assert table.rows
    from attain.formats.tables import RawRow

    long_id = "d" * 501
    table = parse_rows("deals", [RawRow(number=7, values={**DEAL, "deal_id": long_id,
                                                          "amount": "1"})], "deals.csv")
    [problem] = table.problems
    assert (problem.code, problem.row, problem.column) == ("too_long", 7, "deal_id")
    assert str(MAX_ID_LENGTH) in problem.message
    fits = parse_rows("deals", [RawRow(number=7, values={**DEAL, "deal_id": "d" * MAX_ID_LENGTH,
                                                         "amount": "1"})], "deals.csv")
    assert fits.rows


@pytest.mark.parametrize("number", ["1e999999", "1" * 28, "0.0000000000001"])
def test_a_plan_number_out_of_range_is_a_problem_on_its_line(number):
    text = f"plan: p\nname: P\ncomponents:\n  - id: c\n    rate: {number}\n"
    with pytest.raises(PlanError) as caught:
        parse_plan(text, "plan.yaml")
    [problem] = caught.value.problems
    assert (problem.code, problem.file, problem.line) == ("plan_out_of_range", "plan.yaml", 5)


def test_deeply_nested_flow_yaml_is_refused_fast():
    # Found by the fuzz suite: 2,000 unclosed brackets took the YAML parser 13 s.
    started = time.perf_counter()
    with pytest.raises(PlanError) as caught:
        parse_plan("plan: p\nx: " + "[" * 2000 + "\n", "plan.yaml")
    assert time.perf_counter() - started < 1.0  # a bound on a hang, not a speed goal
    assert (caught.value.problems[0].file, caught.value.problems[0].line) == ("plan.yaml", 2)
