"""Table readers (CSV, Parquet, JSON): rows of text keyed by column, numbered as a person sees them.

Every reader yields `RawRow`s. A row that cannot be read (broken quoting, bytes that are not
UTF-8, a wrong number of fields, a JSON value that is not an object) comes out as a row with
a `Problem` and no values, so the rows after it are still read and every problem is reported.
Row numbers: in a CSV the header is row 1 and the first data row is row 2 (as in a
spreadsheet); in Parquet and JSON arrays the first record is row 1; in JSON lines the row is
the line number.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from attain.core.errors import DataError
from attain.core.problems import Problem

FORMATS = ("csv", "parquet", "json", "jsonl")
_SURROGATE = re.compile("[\udc80-\udcff]")
# Quoted fields may be long (notes, descriptions), but not unbounded.
csv.field_size_limit(16 * 1024 * 1024)


@dataclass(frozen=True, slots=True, kw_only=True)
class RawRow:
    """One record of a table: its number and values, or the problem that made it unreadable."""

    number: int
    values: dict[str, str | None] | None
    problem: Problem | None = None
    line: int | None = None


def detect_format(path: Path) -> str:
    """The table format named by the file's extension."""
    suffix = path.suffix.lower().lstrip(".")
    if suffix in ("ndjson", "jsonl"):
        return "jsonl"
    if suffix in ("pq", "parquet"):
        return "parquet"
    if suffix in FORMATS:
        return suffix
    raise DataError(
        f"{path.name}: cannot tell the format from the extension {path.suffix!r}",
        [Problem(code="unknown_format", file=path.name,
                 message="expected .csv, .parquet, .json or .jsonl")],
    )


def read_table(path: Path, fmt: str | None = None, name: str | None = None) -> Iterator[RawRow]:
    """Read any supported table; `name` is how the file is called in problems (default: its name)."""
    shown = name or path.name
    kind = fmt or detect_format(path)
    if kind == "csv":
        return read_csv(path, shown)
    if kind == "parquet":
        return read_parquet(path, shown)
    if kind == "json":
        return read_json(path, shown)
    if kind == "jsonl":
        return read_json_lines(path, shown)
    raise DataError(f"unknown table format {kind!r}", [])


def count_rows(path: Path, fmt: str | None = None) -> int | None:
    """A cheap estimate of how many records a file holds (for progress bars), or None."""
    kind = fmt or detect_format(path)
    if kind in ("csv", "jsonl"):
        with path.open("rb") as handle:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    if kind == "parquet":
        import pyarrow.parquet as pq

        try:
            return int(pq.ParquetFile(path).metadata.num_rows)
        except Exception:  # not Parquet: read_parquet reports it with the file's name
            return None
    return None


def read_csv(path: Path, name: str | None = None) -> Iterator[RawRow]:
    """Read a UTF-8 CSV (a byte-order mark is allowed) with a header row."""
    shown = name or path.name
    with path.open("rb") as binary:
        head = binary.read(3)
        encoding = "utf-8-sig" if head == b"\xef\xbb\xbf" else "utf-8"
        binary.seek(0)
        # surrogateescape keeps undecodable bytes as lone surrogates, so one badly encoded row
        # is reported as a problem while the reader moves on to the next one.
        text = io.TextIOWrapper(binary, encoding=encoding, errors="surrogateescape", newline="")
        yield from _read_csv_text(text, shown)


def _read_csv_text(text: io.TextIOBase, shown: str) -> Iterator[RawRow]:
    reader = csv.reader(text, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise DataError(f"{shown}: the file is empty", [
            Problem(code="empty_file", file=shown, row=1, message="the file has no header row"),
        ]) from None
    except csv.Error as exc:
        raise DataError(f"{shown}: the header row cannot be read", [
            Problem(code="broken_quoting", file=shown, row=1, line=1, message=str(exc)),
        ]) from None
    columns = [c.strip() for c in header]
    _check_header(columns, shown)
    number = 1
    previous_line = reader.line_num
    while True:
        start_line = previous_line + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            number += 1
            previous_line = reader.line_num
            yield RawRow(number=number, values=None, line=start_line, problem=Problem(
                code="broken_quoting", file=shown, row=number, line=start_line,
                message=f"the row cannot be read as CSV: {exc}",
            ))
            continue
        number += 1
        previous_line = reader.line_num
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue
        if _SURROGATE.search("".join(fields)):
            bad = next((c for c, v in zip(columns, fields, strict=False) if _SURROGATE.search(v)),
                       None)
            raw = next(v for v in fields if _SURROGATE.search(v))
            yield RawRow(number=number, values=None, line=start_line, problem=Problem(
                code="encoding", file=shown, row=number, line=start_line, column=bad,
                value=raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace"),
                message="the row is not valid UTF-8 (save the file as UTF-8)",
            ))
            continue
        if len(fields) != len(columns):
            yield RawRow(number=number, values=None, line=start_line, problem=Problem(
                code="field_count", file=shown, row=number, line=start_line,
                message=f"the row has {len(fields)} fields but the header has {len(columns)}",
            ))
            continue
        values: dict[str, str | None] = {}
        for column, value in zip(columns, fields, strict=True):
            stripped = value.strip()
            values[column] = stripped if stripped else None
        yield RawRow(number=number, values=values, line=start_line)


def _check_header(columns: list[str], shown: str) -> None:
    problems: list[Problem] = []
    seen: set[str] = set()
    for index, column in enumerate(columns, start=1):
        if _SURROGATE.search(column):
            problems.append(Problem(code="encoding", file=shown, row=1,
                                    message=f"header field {index} is not valid UTF-8"))
        elif not column:
            problems.append(Problem(code="empty_header", file=shown, row=1,
                                    message=f"header field {index} has no name"))
        elif column in seen:
            problems.append(Problem(code="duplicate_column", file=shown, row=1, column=column,
                                    message="the column appears twice in the header"))
        seen.add(column)
    if problems:
        raise DataError(f"{shown}: the header row is not usable", problems)


def read_parquet(path: Path, name: str | None = None) -> Iterator[RawRow]:
    """Read a Parquet file in batches; typed values are turned into the text a CSV would hold."""
    import pyarrow.parquet as pq

    shown = name or path.name
    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a file that is not Parquet
        raise DataError(f"{shown}: not a readable Parquet file", [
            Problem(code="unreadable", file=shown, message=str(exc)),
        ]) from None
    columns = parquet.schema_arrow.names
    _check_header(list(columns), shown)
    number = 0
    batches = parquet.iter_batches(batch_size=65536)
    while True:
        try:
            batch = next(batches, None)
            if batch is None:
                return
            data = batch.to_pydict()
        except Exception as exc:  # a corrupt page: pyarrow raises OSError, ArrowInvalid...
            raise DataError(f"{shown}: not a readable Parquet file", [
                Problem(code="unreadable", file=shown, row=number + 1,
                        message=f"the rows after row {number} cannot be read: {exc}"),
            ]) from None
        for index in range(batch.num_rows):
            number += 1
            yield RawRow(number=number, values={c: _text(data[c][index]) for c in columns})


def read_json(path: Path, name: str | None = None) -> Iterator[RawRow]:
    """Read a JSON array of objects (or JSON lines, when the file does not start with `[`)."""
    shown = name or path.name
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{shown}: not UTF-8", [
            Problem(code="encoding", file=shown, message=f"the file is not valid UTF-8: {exc}"),
        ]) from None
    if not text.lstrip().startswith("["):
        yield from _json_lines(text.splitlines(), shown)
        return
    try:
        items = _loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{shown}: not valid JSON", [
            Problem(code="json_syntax", file=shown, line=exc.lineno, message=exc.msg),
        ]) from None
    except RecursionError:
        raise DataError(f"{shown}: not valid JSON", [
            Problem(code="json_shape", file=shown, message="values are nested too deeply"),
        ]) from None
    for number, item in enumerate(items, start=1):
        yield _json_row(item, number, shown, None)


def read_json_lines(path: Path, name: str | None = None) -> Iterator[RawRow]:
    """Read JSON lines: one object per line; a broken line is a problem of that row only."""
    shown = name or path.name
    with path.open("rb") as handle:
        yield from _json_lines(
            (line.decode("utf-8", "surrogateescape") for line in handle), shown
        )


def _json_lines(lines: Iterator[str] | list[str], shown: str) -> Iterator[RawRow]:
    for number, line in enumerate(lines, start=1):
        if number == 1:
            line = line.removeprefix("\ufeff")
        if not line.strip():
            continue
        if _SURROGATE.search(line):
            yield RawRow(number=number, values=None, line=number, problem=Problem(
                code="encoding", file=shown, row=number, line=number,
                message="the line is not valid UTF-8",
            ))
            continue
        try:
            item = _loads(line)
        except json.JSONDecodeError as exc:
            yield RawRow(number=number, values=None, line=number, problem=Problem(
                code="json_syntax", file=shown, row=number, line=number,
                message=f"not a JSON object: {exc.msg}",
            ))
            continue
        except RecursionError:
            yield RawRow(number=number, values=None, line=number, problem=Problem(
                code="json_shape", file=shown, row=number, line=number,
                message="values are nested too deeply",
            ))
            continue
        yield _json_row(item, number, shown, number)


class _Pairs(list):  # type: ignore[type-arg]
    """A JSON object's key/value pairs in file order, so a repeated key is seen, not lost."""


def _loads(text: str) -> object:
    return json.loads(text, parse_float=str, parse_int=str, parse_constant=str,
                      object_pairs_hook=_Pairs)


def _json_row(item: object, number: int, shown: str, line: int | None) -> RawRow:
    if not isinstance(item, _Pairs):
        found = "object" if isinstance(item, dict) else type(item).__name__
        found = "array" if isinstance(item, list) else found
        return RawRow(number=number, values=None, line=line, problem=Problem(
            code="json_shape", file=shown, row=number, line=line,
            message=f"expected an object, found {found}",
        ))
    values: dict[str, str | None] = {}
    for key, value in item:
        name = str(key).strip()
        if name in values:
            return RawRow(number=number, values=None, line=line, problem=Problem(
                code="duplicate_key", file=shown, row=number, line=line, column=name,
                message="the key appears twice in the object (keys are compared without "
                        "surrounding spaces)",
            ))
        if isinstance(value, list):
            return RawRow(number=number, values=None, line=line, problem=Problem(
                code="json_shape", file=shown, row=number, line=line, column=str(key),
                message="nested values are not supported; flatten the field",
            ))
        values[name] = _text(value)
    return RawRow(number=number, values=values, line=line)


def _text(value: object) -> str | None:
    """The text a typed value stands for; None and blank strings are missing values."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        stripped = value.strip()
        return stripped or None
    if isinstance(value, datetime):
        midnight = value.hour == value.minute == value.second == value.microsecond == 0
        return value.date().isoformat() if midnight else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # A float column is shown as its shortest repr (what the exporting tool would print);
        # the strict number grammar then accepts or rejects it like any text.
        return repr(value)
    return str(value)
