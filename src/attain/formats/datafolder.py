"""A data folder (participants, quotas, deals, splits, metrics, rates files) read into one DataSet.

Used by stateless calculations (`attain calc PLAN DATA`): every file is validated, every
problem across all files is collected, and if there is any, `DataError` lists them all and
nothing is calculated. Each kind may be a `.csv`, `.parquet`, `.json` or `.jsonl` file.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path

from attain.core.dataset import DataSet
from attain.core.errors import DataError
from attain.core.periods import CALENDAR, FiscalCalendar
from attain.core.problems import Problem
from attain.core.records import (
    CurrencyRate,
    Deal,
    MetricObservation,
    OrgTerm,
    Participant,
    QuotaEntry,
    Split,
)
from attain.crediting.org import loop_problems
from attain.crediting.quotas import resolve_quotas
from attain.formats.records import (
    NO_MAPPING,
    ImportMapping,
    KnownIds,
    ParsedTable,
    ParticipantRow,
    check_references,
    parse_rows,
)
from attain.formats.tables import read_table

REQUIRED_KINDS = ("participants", "deals")
OPTIONAL_KINDS = ("quotas", "splits", "metrics", "rates")
_EXTENSIONS = (".csv", ".parquet", ".json", ".jsonl")


def find_file(folder: Path, kind: str) -> Path | None:
    """The file holding `kind` in `folder` (`deals.csv`, `deals.parquet`...), or None."""
    found = [folder / f"{kind}{ext}" for ext in _EXTENSIONS if (folder / f"{kind}{ext}").is_file()]
    if len(found) > 1:
        names = ", ".join(p.name for p in found)
        raise DataError(f"{folder.name}: {kind} given twice ({names})", [
            Problem(code="ambiguous_file", file=found[0].name,
                    message=f"keep one of {names}"),
        ])
    return found[0] if found else None


def read_kind(path: Path, kind: str, mapping: ImportMapping = NO_MAPPING,
              calendar: FiscalCalendar = CALENDAR) -> ParsedTable:
    """Parse one file of `kind`; a file-level failure (unreadable header) becomes its problems."""
    try:
        return parse_rows(kind, read_table(path), path.name, mapping, calendar)
    except DataError as exc:
        problems = exc.problems or (Problem(code="unreadable", file=path.name, message=str(exc)),)
        return ParsedTable(kind=kind, file=path.name, rows=(), problems=tuple(problems),
                           rejected=frozenset())


def load_folder(path: Path, calendar: FiscalCalendar = CALENDAR,
                mappings: dict[str, ImportMapping] | None = None) -> DataSet:
    """Read every data file in `path` into a DataSet, or raise DataError with every problem."""
    if not path.is_dir():
        raise DataError(f"{path.name}: not a data folder", [
            Problem(code="not_a_folder", file=str(path.name), message="expected a folder of data files"),
        ])
    problems: list[Problem] = []
    tables: dict[str, ParsedTable] = {}
    for kind in (*REQUIRED_KINDS, *OPTIONAL_KINDS):
        try:
            file = find_file(path, kind)
        except DataError as exc:
            problems.extend(exc.problems)
            continue
        if file is None:
            if kind in REQUIRED_KINDS:
                problems.append(Problem(code="missing_file", file=f"{kind}.csv",
                                        message=f"a data folder needs a {kind} file"))
            continue
        mapping = (mappings or {}).get(kind, NO_MAPPING)
        tables[kind] = read_kind(file, kind, mapping, calendar)

    known = KnownIds(
        participants=_ids(tables.get("participants"), lambda r: r.participant.id),
        deals=_ids(tables.get("deals"), lambda r: r.id),
    )
    for kind in (*REQUIRED_KINDS, *OPTIONAL_KINDS):
        if kind in tables:
            tables[kind] = check_references(tables[kind], known)
            problems.extend(tables[kind].problems)
    if "participants" in tables and not problems:
        problems.extend(loop_problems(build_org(tables["participants"].records())[1],
                                      file=tables["participants"].file))
    if problems:
        raise DataError(
            f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in data folder "
            f"{path.name}; nothing was calculated", problems,
        )

    def records(kind: str) -> list:  # type: ignore[type-arg]
        table = tables.get(kind)
        return table.records() if table else []

    return assemble_dataset(
        participants=records("participants"), deals=records("deals"), splits=records("splits"),
        quotas=records("quotas"), observations=records("metrics"), rates=records("rates"),
        calendar=calendar,
    )


def assemble_dataset(
    *,
    participants: Iterable[ParticipantRow],
    deals: Iterable[Deal],
    splits: Iterable[Split],
    quotas: Iterable[QuotaEntry],
    observations: Iterable[MetricObservation],
    rates: Iterable[CurrencyRate],
    calendar: FiscalCalendar = CALENDAR,
) -> DataSet:
    """A DataSet in canonical order (by key), so the same facts always give an equal DataSet."""
    people, terms = build_org(participants)
    return DataSet(
        participants=people,
        org_terms=terms,
        deals=tuple(sorted(deals, key=lambda d: d.id)),
        splits=tuple(sorted(splits, key=lambda s: (s.deal_id, s.participant_id, s.role))),
        quotas=resolve_quotas(quotas, people, calendar),
        observations=tuple(sorted(observations,
                                  key=lambda m: (m.participant_id, m.metric, m.period))),
        rates=tuple(sorted(rates, key=lambda r: (r.from_currency, r.to_currency, r.on))),
    )


def _ids(table: ParsedTable | None, get: object) -> frozenset[str] | None:
    if table is None:
        return None
    # Ids of rejected rows still count as known, so one bad participant row is reported once
    # rather than again on every deal that names them.
    return frozenset(get(row.record) for row in table.rows) | table.rejected_subjects  # type: ignore[operator]


def build_org(rows: Iterable[ParticipantRow]) -> tuple[tuple[Participant, ...], tuple[OrgTerm, ...]]:
    """Participants (their latest row) and their effective-dated org terms.

    Rows of one participant with different `effective_from` dates are successive terms:
    each holds until the next one starts (a rep moving team on 1 August has two rows).
    """
    by_id: dict[str, list[ParticipantRow]] = defaultdict(list)
    for row in rows:
        by_id[row.participant.id].append(row)
    participants: list[Participant] = []
    terms: list[OrgTerm] = []
    for pid in sorted(by_id):
        history = sorted(by_id[pid], key=lambda r: r.effective_from or date.min)
        participants.append(history[-1].participant)
        terms.extend(_terms(history))
    return tuple(participants), tuple(terms)


def _terms(history: Sequence[ParticipantRow]) -> list[OrgTerm]:
    result = []
    for index, row in enumerate(history):
        following = history[index + 1].effective_from if index + 1 < len(history) else None
        p = row.participant
        result.append(OrgTerm(participant_id=p.id, role=p.role, team=p.team,
                              manager_id=p.manager_id, effective_from=row.effective_from,
                              effective_to=following))
    return result
