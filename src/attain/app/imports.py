"""The import use case: validate a file of one kind, then write it as new versions in one transaction.

By default an import is all or nothing: any rejected row means nothing is written and every
problem is reported (DataError). With `skip_invalid`, the valid rows are written and the
rejected ones go to `<file>.rejected.csv` beside the input, each with its row and problems.
Re-importing the same file changes nothing (not even the import log). A killed import leaves
the store as it was: the transaction never commits.
"""

from __future__ import annotations

import csv
import dataclasses
import getpass
import hashlib
import os
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from attain.app.collector import without_cycle_collection
from attain.app.workspace import Workspace, utc_now
from attain.core.errors import DataError, InputError
from attain.core.problems import Problem
from attain.crediting.org import loop_problems
from attain.formats.datafolder import build_org
from attain.formats.records import (
    KINDS,
    KnownIds,
    ParsedRow,
    ParsedTable,
    check_references,
    check_split_sums,
    parse_chunks,
)
from attain.formats.tables import count_rows, read_table
from attain.storage.codecs import CODECS, SplitSet
from attain.storage.schema import VERSIONED, deal_versions, participant_versions
from attain.storage.segments import SEGMENT_KINDS, SegmentWriter, segments_folder
from attain.storage.versions import (
    Counts,
    append_versions,
    begin_import,
    finish_import,
    has_rows,
    key_sources,
    keys_present,
    latest_rows,
)

IMPORT_KINDS = (*KINDS, "plans")


BULK_RESOLVED_KINDS = ("participants", "quotas", "metrics")
# Kinds imported a part of STREAMED_ROWS rows at a time (import_file); splits are written a
# deal at a time once its last row is read (SplitGrouper).
STREAMED_KINDS = ("deals", "quotas", "metrics", "splits")
STREAMED_ROWS = 10_000


class ImportProgress(Protocol):
    """Where an import reports progress (a progress bar, a log, or nothing)."""

    def start(self, phase: str, total: int | None) -> None: ...

    def advance(self, count: int) -> None: ...


class _Silent:
    def start(self, phase: str, total: int | None) -> None:
        pass

    def advance(self, count: int) -> None:
        pass


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportReport:
    """What one import did: rows new, changed, unchanged and rejected, and where rejects went."""

    kind: str
    file: str
    source: str
    new: int
    changed: int
    unchanged: int
    rejected: int
    import_id: int | None = None
    recorded_at: datetime | None = None
    reject_file: Path | None = None
    problems: tuple[Problem, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def written(self) -> bool:
        return self.import_id is not None


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def import_file(
    workspace: Workspace,
    kind: str,
    path: Path,
    *,
    source: str = "default",
    skip_invalid: bool = False,
    progress: ImportProgress | None = None,
    clock: Callable[[], datetime] = utc_now,
    actor: str | None = None,
) -> ImportReport:
    """Import `path` as `kind` into the workspace's store (see module doc)."""
    if kind == "plans":
        from attain.app.plan_versions import import_plans

        return import_plans(workspace, path, clock=clock)
    if kind not in KINDS:
        raise InputError(f"unknown import kind {kind!r}; expected one of {', '.join(IMPORT_KINDS)}")
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    if not source or len(source) > 200:
        raise InputError("a source name is 1 to 200 characters")
    bar = progress or _Silent()
    started_at = clock()
    bar.start("importing", count_rows(path))
    # Kinds whose rows stand alone are read, checked and written a part at a time, so a file of
    # millions of deals never sits whole in memory; a deal's splits are one record, written once
    # its last row is read (SplitGrouper); participants (a manager may be defined further down
    # the file) are read whole.
    size = STREAMED_ROWS if kind in STREAMED_KINDS else None
    mapping = workspace.settings.mapping(kind)
    grouper = SplitGrouper.of_file(path, mapping) if kind == "splits" else None
    raw_rows = read_table(path) if grouper is None else grouper.watch(read_table(path), mapping)
    chunks = parse_chunks(kind, raw_rows, path.name, mapping, workspace.settings.calendar,
                          on_row=lambda _n: bar.advance(1), size=size)
    codec = CODECS[kind]
    audited = AUDITED_KINDS.get(kind)
    problems: list[Problem] = []
    rejected: set[int] = set()
    subjects: set[str] = set()
    counts = Counts()
    with workspace.engine.connect() as conn, without_cycle_collection():
        transaction = conn.begin()
        try:
            sha256 = file_sha256(path)
            import_id = begin_import(conn, kind=kind, source=source, file_name=path.name,
                                     file_sha256=sha256, started_at=started_at)
            # Deals and splits also go to a columnar segment for bulk runs (storage/segments.py).
            segment = SegmentWriter(segments_folder(workspace.root), kind) if kind in SEGMENT_KINDS else None
            empty = not has_rows(conn, VERSIONED[kind], source)
            before: dict[str, dict[str, Any]] = {}
            written: list[tuple[str, dict[str, Any]]] = []

            def write(records: list[Any]) -> Counts:
                rows = [codec.row(r) for r in records]
                if audited:
                    before.update(latest_rows(conn, VERSIONED[kind], source, [k for k, _, _ in rows]))
                return append_versions(
                    conn, VERSIONED[kind], source, import_id, rows, empty=empty, scan=size is None,
                    on_version=(lambda key, cols: written.append((key, cols))) if audited else None,
                    on_written=segment.add if segment is not None else None)

            for chunk in chunks:
                chunk = check_references(chunk, _known_ids(conn, kind, chunk), split_sums=grouper is None)
                chunk = _check_sources(conn, kind, source, chunk)
                problems.extend(chunk.problems)
                if kind == "participants":  # read whole: the file's own org has no loop of managers
                    problems.extend(loop_problems(build_org(chunk.records())[1], file=path.name))
                rejected |= chunk.rejected
                subjects |= chunk.rejected_subjects
                records = chunk.records() if grouper is None else grouper.complete(chunk, problems, rejected)
                if problems and not skip_invalid:
                    continue  # nothing will be written: the rest of the file is only checked
                counts = counts + write(records)
            if grouper is not None:
                records = grouper.rest(problems, rejected)
                problems.sort(key=lambda p: p.row or 0)  # a deal's sum is checked once its last row is read
                if not (problems and not skip_invalid):
                    counts = counts + write(records)
            table = ParsedTable(kind=kind, file=path.name, rows=(), problems=tuple(problems),
                                rejected=frozenset(rejected), rejected_subjects=frozenset(subjects))
            if problems and not skip_invalid:
                transaction.rollback()
                raise DataError(
                    f"{path.name}: {len(rejected)} row(s) rejected ({len(problems)} problem(s)); nothing was "
                    "imported (use --skip-invalid to import the valid rows)", table.problems)
            reject_file = write_rejects(path, table) if rejected else None
            if counts.written == 0:
                # Nothing new: leave no trace, so importing the same file twice changes nothing.
                transaction.rollback()
                return _report(kind, path, source, counts, table, reject_file)
            recorded_at = finish_import(conn, import_id, counts, len(rejected), clock())
            if segment is not None:
                # Renamed into place before the commit; ignored unless this import commits.
                segment.write(import_id, sha256, started_at)
            if audited:
                audit_written(conn, audited, source, written, before, recorded_at, actor or default_actor())
            transaction.commit()
        except BaseException:
            if transaction.is_active:
                transaction.rollback()
            raise
    report = _report(kind, path, source, counts, table, reject_file, import_id, recorded_at)
    if kind in BULK_RESOLVED_KINDS:
        # Bulk runs read participants, quotas and metrics resolved (org terms, quota changes,
        # proration, ramps): resolve them once now rather than in the next bulk run.
        from attain.app.bulk import prepare_bulk_reads

        bar.start("preparing bulk reads", None)
        try:
            prepare_bulk_reads(workspace)
        except Exception as exc:
            # The records are in the store; the next bulk run resolves them itself (and says why
            # it cannot, if it cannot), so the import reports this rather than failing.
            return dataclasses.replace(report, warnings=(
                f"the import is recorded, but its records could not be prepared for bulk runs "
                f"({type(exc).__name__}: {exc}); the next 'attain bulk' prepares them itself",))
    return report


def _report(kind: str, path: Path, source: str, counts: Counts, table: ParsedTable,
            reject_file: Path | None, import_id: int | None = None,
            recorded_at: datetime | None = None) -> ImportReport:
    return ImportReport(kind=kind, file=path.name, source=source, new=counts.new,
                        changed=counts.changed, unchanged=counts.unchanged,
                        rejected=len(table.rejected), import_id=import_id,
                        recorded_at=recorded_at, reject_file=reject_file,
                        problems=table.problems)


def _deal_of(raw: Any, mapping: Any) -> str | None:
    """A split row's deal id as the parser reads it (None for a row that cannot be read)."""
    return None if raw.values is None else mapping.apply(raw.values).get("deal_id")


class SplitGrouper:
    """A deal's splits are one record (SplitSet): read a part of the file at a time, each deal's
    rows are gathered until its last row is read, then written. A first pass counts the rows of
    each deal, so a file grouped by deal (as exports are) is held about a deal at a time; one
    whose deals are scattered holds the deals not yet complete."""

    def __init__(self, file: str, rows_per_deal: dict[str | None, int]) -> None:
        self.file = file
        self.remaining = rows_per_deal
        self.done: list[str | None] = []  # deals whose last row was read since the last part
        self.pending: dict[str, list[ParsedRow]] = {}
        self.broken: set[str] = set()  # deals with a rejected row

    @classmethod
    def of_file(cls, path: Path, mapping: Any) -> SplitGrouper:
        return cls(path.name, dict(Counter(_deal_of(raw, mapping) for raw in read_table(path))))

    def watch(self, rows: Iterable[Any], mapping: Any) -> Iterator[Any]:
        """The rows, noting each deal whose last row goes by."""
        for raw in rows:
            deal = _deal_of(raw, mapping)
            left = self.remaining.pop(deal, 1) - 1
            if left > 0:
                self.remaining[deal] = left
            else:
                self.done.append(deal)
            yield raw

    def complete(self, chunk: ParsedTable, problems: list[Problem], rejected: set[int]) -> list[SplitSet]:
        """The split sets of the deals whose every row has now been read, checked together
        (check_split_sums: their problems and rejected rows are added to the import's)."""
        self.broken |= chunk.rejected_subjects
        for row in chunk.rows:
            self.pending.setdefault(row.record.deal_id, []).append(row)
        done, self.done = self.done, []
        return self._sets([deal for deal in done if deal is not None and deal in self.pending], problems, rejected)

    def rest(self, problems: list[Problem], rejected: set[int]) -> list[SplitSet]:
        """Whatever is still gathered once the file is read (nothing, if the first pass's counts held)."""
        return self._sets(list(self.pending), problems, rejected)

    def _sets(self, deals: list[str], problems: list[Problem], rejected: set[int]) -> list[SplitSet]:
        rows = [row for deal in deals for row in self.pending.pop(deal)]
        kept = check_split_sums(self.file, rows, self.broken, problems, rejected)
        by_deal: dict[str, list[Any]] = defaultdict(list)
        for row in kept:
            by_deal[row.record.deal_id].append(row.record)
        return [SplitSet(deal_id=deal, splits=tuple(splits)) for deal, splits in by_deal.items()]


def _referenced(kind: str, table: ParsedTable) -> tuple[set[str], set[str]]:
    people: set[str] = set()
    deals: set[str] = set()
    for row in table.rows:
        r = row.record
        if kind == "participants" and r.participant.manager_id:
            people.add(r.participant.manager_id)
        elif kind == "deals":
            people.add(r.owner_id)
        elif kind == "splits":
            people.add(r.participant_id)
            deals.add(r.deal_id)
        elif kind in ("quotas", "metrics"):
            people.add(r.participant_id)
    return people, deals


def _known_ids(conn: Any, kind: str, table: ParsedTable) -> KnownIds:
    """Referenced ids that exist: in the store (any source, any version) or in this file."""
    people, deals = _referenced(kind, table)
    known_people = keys_present(conn, participant_versions, people, column="participant_id")
    if kind == "participants":
        known_people |= {row.record.participant.id for row in table.rows}
        known_people |= table.rejected_subjects
    # A deal version's key is its deal id: looked up on the key's index.
    known_deals = keys_present(conn, deal_versions, deals, column="key")
    return KnownIds(participants=frozenset(known_people), deals=frozenset(known_deals))


# A record of these kinds belongs to the source that first imported it: the same key from another
# source would be a second, competing version of it (a deal credited twice, two quotas for one
# payee and period of which only one could count), so it is a problem naming the owning source.
# The problem's column, and how the record is named in it.
OWNED_KINDS = {"deals": ("deal_id", "deal id"), "quotas": ("participant_id", "quota (participant, metric, period "
                                                                             "and effective date)"),
               "participants": ("id", "participant (id and effective date)"),
               # A second split set for a deal from another source would make it sum to 200%.
               "splits": ("deal_id", "deal's split set")}


def _check_sources(conn: Any, kind: str, source: str, table: ParsedTable) -> ParsedTable:
    """A record's key belongs to one source (OWNED_KINDS): the same key from another is a problem."""
    if kind not in OWNED_KINDS or not table.rows:
        return table
    key = CODECS[kind].key
    keys = {row.number: key(row.record) for row in table.rows}
    owners = key_sources(conn, VERSIONED[kind], set(keys.values()), exclude_source=source)
    if not owners:
        return table
    column, noun = OWNED_KINDS[kind]
    problems = list(table.problems)
    kept = []
    rejected = set(table.rejected)
    for row in table.rows:
        owner = owners.get(keys[row.number])
        if owner is not None:
            problems.append(Problem(code=f"{kind.rstrip('s')}_other_source", file=table.file, row=row.number,
                                    column=column, value=keys[row.number],
                                    message=f"this {noun} was imported from source {owner!r}; a record "
                                            f"belongs to one source (this import is from source {source!r})"))
            rejected.add(row.number)
        else:
            kept.append(row)
    problems.sort(key=lambda p: p.row or 0)
    return ParsedTable(kind=table.kind, file=table.file, rows=tuple(kept),
                       problems=tuple(problems), rejected=frozenset(rejected),
                       rejected_subjects=table.rejected_subjects)


# Changes to these kinds are written to the hash-chained audit log with before and after:
# quotas decide pay, and participants' terms decide who manages and who is assigned what.
AUDITED_KINDS = {"quotas": "quota", "participants": "participant"}


def default_actor() -> str:
    """Who is acting when no one is named: $ATTAIN_USER, else the operating-system user."""
    return os.environ.get("ATTAIN_USER") or getpass.getuser()


def audit_written(conn: Any, noun: str, source: str, written: list[tuple[str, dict[str, Any]]],
                  before: dict[str, dict[str, Any]], at: datetime, actor: str) -> None:
    """One audit link per written version, with the stored columns before and after (long texts
    such as a plan's YAML appear as their SHA-256)."""
    from attain.app.audit import record_change

    skip = {"id", "import_id", "source", "key", "version", "content_hash"}

    def shown(columns: dict[str, Any] | None) -> dict[str, str | None] | None:
        if columns is None:
            return None
        return {k: None if v is None else _audit_text(v) for k, v in sorted(columns.items()) if k not in skip}

    for key, columns in written:
        record_change(conn, at=at, actor=actor, action=f"{noun}.set", subject=f"{source}/{key}",
                      before=shown(before.get(key)), after=shown(columns))


def _audit_text(value: Any) -> str:
    text = str(value)
    if len(text) > 200:
        return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
    return text


def reject_path(path: Path) -> Path:
    return path.with_name(f"{path.stem}.rejected.csv")


def write_rejects(path: Path, table: ParsedTable) -> Path:
    """Write the rejected rows (as read) with their row number and problems beside the input."""
    by_row: dict[int, list[str]] = defaultdict(list)
    for problem in table.problems:
        if problem.row is not None:
            where = f"{problem.column}: " if problem.column else ""
            value = f" ({problem.value!r})" if problem.value is not None else ""
            by_row[problem.row].append(f"{where}{problem.message}{value}")
    target = reject_path(path)
    rows = list(_rejected_rows(path, table.rejected))
    columns: list[str] = []
    for _number, values in rows:
        for column in values or {}:
            if column not in columns:
                columns.append(column)
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["row", "problems", *columns])
        for number, values in rows:
            writer.writerow([number, "; ".join(by_row.get(number, [])),
                             *[(values or {}).get(c) or "" for c in columns]])
    return target


def _rejected_rows(path: Path, rejected: Iterable[int]) -> Iterator[tuple[int, dict[str, Any] | None]]:
    wanted = set(rejected)
    for raw in read_table(path):
        if raw.number in wanted:
            yield raw.number, raw.values
