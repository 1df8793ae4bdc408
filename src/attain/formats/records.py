"""Row validation per import kind: raw table rows in, core records and row-numbered problems out.

Each kind (participants, quotas, deals, splits, metrics, rates) declares its columns and a
parser. `parse_rows` applies a column mapping, checks every row strictly (numbers without
exponents, NaN or separators; ISO dates; period labels; currency codes) and collects every
problem of the file, never stopping at the first. Checks that need other files (unknown
participant or deal ids, split shares summing to 100%) live in `check_references`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Set
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from attain.core.money import HUNDRED, ONE, ZERO, MoneyFormatError, check_currency, parse_decimal
from attain.core.periods import CALENDAR, FiscalCalendar, parse_date, parse_period
from attain.core.problems import Problem
from attain.core.records import (
    CurrencyRate,
    Deal,
    DealStatus,
    MetricObservation,
    Participant,
    QuotaEntry,
    Split,
)
from attain.crediting.credit import SHARED_ROLES
from attain.formats.tables import RawRow


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportMapping:
    """How a foreign export maps onto a kind: renamed columns, translated values, defaults.

    `columns` maps a source column to Attain's column (`"Opportunity ID" = "deal_id"`);
    `values` maps, per Attain column, source values to Attain values (`"Closed Won" = "won"`);
    `defaults` fills a column that is missing or blank; `thousands` names a thousands
    separator that numbers may carry (by default none is accepted), and then every group after
    the first must have exactly three digits; `decimal` names the decimal mark (`.` unless
    declared, never guessed: `decimal = ","` reads `1.000,50` with `thousands = "."`).
    """

    columns: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    defaults: Mapping[str, str] = field(default_factory=dict)
    thousands: str | None = None
    decimal: str = "."

    def apply(self, raw: Mapping[str, str | None]) -> Mapping[str, str | None]:
        if not (self.columns or self.defaults or self.values):
            return raw
        out: dict[str, str | None] = {}
        for column, value in raw.items():
            target = self.columns.get(column, column)
            if target in out:
                raise MappingCollision(target, column)
            out[target] = value
        for column, default in self.defaults.items():
            if out.get(column) is None:
                out[column] = default
        for column, table in self.values.items():
            value = out.get(column)
            if value is not None and value in table:
                out[column] = table[value]
        return out

    def rename(self, column: str) -> str:
        return self.columns.get(column, column)

    def source_name(self, column: str) -> str:
        """The column name as the user's file spells it (for problems)."""
        for source, target in self.columns.items():
            if target == column:
                return source
        return column


NO_MAPPING = ImportMapping()

# The range every amount, value and rate must fit, the same on every store: at most 18 digits
# before the decimal point and 12 after it (currency minor units and rates both fit).
MAX_INTEGER_DIGITS = 18
MAX_FRACTION_DIGITS = 12
# The longest id (participant, deal, metric, role, team) and name, the same on every store: a
# store's key joins up to three ids, and PostgreSQL refuses what SQLite would keep.
MAX_ID_LENGTH = 150
MAX_NAME_LENGTH = 500
_ID_COLUMNS = frozenset({"id", "participant_id", "owner_id", "manager_id", "deal_id", "metric",
                         "role", "team"})


class MappingCollision(ValueError):
    """Two columns of a file land on the same Attain column (a mapping and a raw column)."""

    def __init__(self, target: str, column: str) -> None:
        super().__init__(f"column {column!r} and another column both map to {target!r}")
        self.target = target
        self.column = column


def out_of_precision(value: Decimal) -> str | None:
    """Why `value` is outside the declared precision and range, or None when it fits."""
    _sign, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int):
        return "not a finite number"
    fraction = max(0, -exponent)
    integer = max(0, len(digits) + exponent) if any(digits) else 0
    if integer > MAX_INTEGER_DIGITS:
        return f"more than {MAX_INTEGER_DIGITS} digits before the decimal point"
    if fraction > MAX_FRACTION_DIGITS:
        return f"more than {MAX_FRACTION_DIGITS} digits after the decimal point"
    return None


def _grouping_pattern(thousands: str | None, decimal: str) -> re.Pattern[str]:
    sep = re.escape(thousands) if thousands else None
    mark = re.escape(decimal)
    whole = rf"(?:[0-9]{{1,3}}(?:{sep}[0-9]{{3}})+|[0-9]+)" if sep else r"[0-9]+"
    return re.compile(rf"[+-]?(?:{whole}(?:{mark}[0-9]*)?|{mark}[0-9]+)")


def read_number(text: str, thousands: str | None, decimal: str = ".") -> Decimal:
    """A number as an export writes it: grouping (when declared) validated, never guessed."""
    stripped = text.strip()
    if thousands is None and decimal == ".":
        return parse_decimal(stripped)
    if not _grouping_pattern(thousands, decimal).fullmatch(stripped):
        raise MoneyFormatError(f"not a number with the declared separators: {text!r}")
    body = stripped.replace(thousands, "") if thousands else stripped
    return parse_decimal(body.replace(decimal, ".") if decimal != "." else body)


@dataclass(frozen=True, slots=True, kw_only=True)
class ParticipantRow:
    """A participant as imported, with the date its role, team and manager take effect."""

    participant: Participant
    effective_from: date | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedRow:
    """One accepted row: its number in the file, its key and the record."""

    number: int
    key: tuple[str, ...]
    record: Any


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedTable:
    """What a file of one kind yielded: accepted rows and every problem (rejected row numbers)."""

    kind: str
    file: str
    rows: tuple[ParsedRow, ...]
    problems: tuple[Problem, ...]
    rejected: frozenset[int]
    rejected_subjects: frozenset[str] = frozenset()

    def records(self) -> list[Any]:
        return [row.record for row in self.rows]


class _Cells:
    """Typed access to one row's cells; every failure becomes a problem on that row."""

    def __init__(self, values: Mapping[str, str | None], file: str, number: int,
                 mapping: ImportMapping, calendar: FiscalCalendar) -> None:
        self.values = values
        self.file = file
        self.row = number
        self.mapping = mapping
        self.calendar = calendar
        self.problems: list[Problem] = []

    def problem(self, code: str, column: str | None, message: str, value: str | None = None) -> None:
        shown = self.mapping.source_name(column) if column else None
        if any(p.code == code and p.column == shown for p in self.problems):
            return
        self.problems.append(Problem(code=code, file=self.file, row=self.row, column=shown,
                                     value=value, message=message))

    def text(self, column: str, required: bool = True) -> str | None:
        value = self.values.get(column)
        if value is None and required:
            self.problem("missing_value", column, "a value is required")
        limit = MAX_ID_LENGTH if column in _ID_COLUMNS else MAX_NAME_LENGTH
        if value is not None and len(value) > limit:
            self.problem("too_long", column, f"longer than {limit} characters "
                         f"({len(value)})", value[:40] + "...")
            return None
        return value

    def number(self, column: str, required: bool = True) -> Decimal | None:
        value = self.text(column, required)
        if value is None:
            return None
        try:
            number = read_number(value, self.mapping.thousands, self.mapping.decimal)
        except MoneyFormatError:
            if self.mapping.thousands or self.mapping.decimal != ".":
                message = (f"not a number written with the declared separators (thousands "
                           f"{self.mapping.thousands or 'none'!r}, groups of three digits; "
                           f"decimal mark {self.mapping.decimal!r})")
            else:
                message = ("not a plain decimal number (no exponent, NaN, Infinity or "
                           "thousands separator)")
            self.problem("bad_number", column, message, value)
            return None
        return self.in_range(column, number, value)

    def in_range(self, column: str, number: Decimal, value: str) -> Decimal | None:
        reason = out_of_precision(number)
        if reason is not None:
            self.problem("out_of_range", column, f"{reason} (the limit of every amount, value "
                         "and rate)", value[:60])
            return None
        return number

    def percent(self, column: str, required: bool = True) -> Decimal | None:
        """A percentage written `60` or `60%`, returned as the ratio 0.6."""
        value = self.text(column, required)
        if value is None:
            return None
        body = value[:-1].rstrip() if value.endswith("%") else value
        try:
            number = parse_decimal(body)
        except MoneyFormatError:
            self.problem("bad_number", column, "not a percentage like 60 or 60%", value)
            return None
        checked = self.in_range(column, number, value)
        return None if checked is None else checked / HUNDRED

    def day(self, column: str, required: bool = False) -> date | None:
        value = self.text(column, required)
        if value is None:
            return None
        try:
            return parse_date(value)
        except ValueError:
            self.problem("bad_date", column, "not a valid ISO date (YYYY-MM-DD)", value)
            return None

    def period(self, column: str) -> str | None:
        value = self.text(column)
        if value is None:
            return None
        try:
            return parse_period(value, self.calendar).label
        except ValueError as exc:
            self.problem("bad_period", column, str(exc), value)
            return None

    def currency(self, column: str, required: bool = True) -> str | None:
        value = self.text(column, required)
        if value is None:
            return None
        try:
            return check_currency(value)
        except MoneyFormatError:
            self.problem("bad_currency", column, "not a three-letter upper-case currency code", value)
            return None

    def choice(self, column: str, options: Iterable[str], default: str | None = None) -> str | None:
        value = self.text(column, required=default is None)
        if value is None:
            return default
        allowed = options if isinstance(options, tuple) else tuple(options)
        lowered = value.lower()
        if lowered not in allowed:
            self.problem("bad_choice", column, f"expected one of {', '.join(allowed)}", value)
            return None
        return lowered


Parser = Callable[[_Cells], tuple[tuple[str, ...], Any] | None]


@dataclass(frozen=True, slots=True, kw_only=True)
class KindSpec:
    """An import kind: its columns (required, optional), its key, and its row parser."""

    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    key: tuple[str, ...]
    parser: Parser
    open_columns: bool = False

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


def _parse_participant(c: _Cells) -> tuple[tuple[str, ...], ParticipantRow] | None:
    pid, name, role = c.text("id"), c.text("name"), c.text("role")
    start, end = c.day("start_date"), c.day("end_date")
    currency = c.currency("currency", required=False)
    effective_from = c.day("effective_from")
    ramp = _ramp(c)
    if start and end and end < start:
        c.problem("out_of_range", "end_date", "ends before it starts", c.text("end_date"))
    if pid is not None and pid == c.text("manager_id", required=False):
        c.problem("self_manager", "manager_id", "a participant cannot manage themselves", pid)
    if c.problems or pid is None or name is None or role is None:
        return None
    participant = Participant(
        id=pid, name=name, role=role, team=c.text("team", required=False) or "",
        manager_id=c.text("manager_id", required=False), start_date=start, end_date=end,
        currency=currency, ramp=ramp,
    )
    key = (pid, effective_from.isoformat() if effective_from else "")
    return key, ParticipantRow(participant=participant, effective_from=effective_from)


def _ramp(c: _Cells) -> tuple[Decimal, ...]:
    """`25%;50%;75%`: shares of full quota in the first months of tenure."""
    value = c.text("ramp", required=False)
    if value is None:
        return ()
    shares: list[Decimal] = []
    for part in value.split(";"):
        body = part.strip().removesuffix("%")
        try:
            share = parse_decimal(body) / HUNDRED
        except MoneyFormatError:
            c.problem("bad_number", "ramp", "a ramp is percentages separated by ';' (25%;50%;75%)",
                      value)
            return ()
        if not ZERO <= share <= ONE:
            c.problem("out_of_range", "ramp", "ramp shares are between 0% and 100%", value)
            return ()
        shares.append(share)
    return tuple(shares)


def _parse_quota(c: _Cells) -> tuple[tuple[str, ...], QuotaEntry] | None:
    pid, metric, period = c.text("participant_id"), c.text("metric"), c.period("period")
    amount = c.number("amount")
    effective_from = c.day("effective_from")
    reason = c.text("reason", required=False) or ""
    if amount is not None and amount < 0:
        c.problem("out_of_range", "amount", "a quota cannot be negative", c.text("amount"))
    if effective_from is not None and not reason:
        c.problem("missing_value", "reason", "a quota change with an effective date needs a reason")
    if c.problems or pid is None or metric is None or period is None or amount is None:
        return None
    entry = QuotaEntry(participant_id=pid, metric=metric, period=period, amount=amount,
                       effective_from=effective_from, reason=reason)
    return (pid, metric, period, effective_from.isoformat() if effective_from else ""), entry


_STATUSES = tuple(s.value for s in DealStatus)
_STATUS = {s.value: s for s in DealStatus}
DEAL_COLUMNS = ("deal_id", "owner_id", "amount", "currency", "status")
DEAL_OPTIONAL = ("booked_on", "signed_on", "invoiced_on", "recognized_on", "cancelled_on",
                 "delivered_pct")


def _parse_deal(c: _Cells) -> tuple[tuple[str, ...], Deal] | None:
    deal_id, owner = c.text("deal_id"), c.text("owner_id")
    amount, currency = c.number("amount"), c.currency("currency")
    status = c.choice("status", _STATUSES)
    dates = {column: c.day(column) for column in DEAL_OPTIONAL[:5]}
    delivered = c.percent("delivered_pct", required=False)
    if delivered is not None and not ZERO <= delivered <= ONE:
        c.problem("out_of_range", "delivered_pct", "delivered share is between 0 and 100",
                  c.text("delivered_pct"))
    dated = any(c.values.get(column) for column in DEAL_OPTIONAL[:4])
    if status == "won" and not dated:
        c.problem("missing_value", "booked_on", "a won deal needs at least one of booked_on, "
                  "signed_on, invoiced_on, recognized_on")
    if c.problems or deal_id is None or owner is None or amount is None or currency is None:
        return None
    if status is None:
        return None
    extra = tuple(sorted(
        (column, value) for column, value in c.values.items()
        if column not in DEAL_COLUMNS and column not in DEAL_OPTIONAL and value is not None
    ))
    deal = Deal(
        id=deal_id, owner_id=owner, amount=amount, currency=currency, status=_STATUS[status],
        booked_on=dates["booked_on"], signed_on=dates["signed_on"],
        invoiced_on=dates["invoiced_on"], recognized_on=dates["recognized_on"],
        cancelled_on=dates["cancelled_on"],
        delivered=ONE if delivered is None else delivered, fields=extra,
    )
    return (deal_id,), deal


def _parse_split(c: _Cells) -> tuple[tuple[str, ...], Split] | None:
    deal_id, pid = c.text("deal_id"), c.text("participant_id")
    role = (c.text("role", required=False) or "split").lower()
    overlay = role not in SHARED_ROLES
    share = c.percent("share", required=not overlay)
    if share is None and overlay and not c.problems:
        share = ONE
    if share is not None and not ZERO < share <= ONE:
        c.problem("out_of_range", "share", "a share is more than 0% and at most 100%",
                  c.text("share"))
    if c.problems or deal_id is None or pid is None or share is None:
        return None
    return (deal_id, pid, role), Split(deal_id=deal_id, participant_id=pid, share=share, role=role)


def _parse_metric(c: _Cells) -> tuple[tuple[str, ...], MetricObservation] | None:
    pid, metric, period = c.text("participant_id"), c.text("metric"), c.period("period")
    value = c.number("value")
    if c.problems or pid is None or metric is None or period is None or value is None:
        return None
    record = MetricObservation(participant_id=pid, metric=metric, period=period, value=value)
    return (pid, metric, period), record


def _parse_rate(c: _Cells) -> tuple[tuple[str, ...], CurrencyRate] | None:
    source, target = c.currency("from_currency"), c.currency("to_currency")
    on, rate = c.day("date", required=True), c.number("rate")
    if rate is not None and rate <= 0:
        c.problem("out_of_range", "rate", "a rate is positive", c.text("rate"))
    if source is not None and source == target:
        c.problem("out_of_range", "to_currency", "a rate converts between two currencies", target)
    if c.problems or source is None or target is None or on is None or rate is None:
        return None
    record = CurrencyRate(from_currency=source, to_currency=target, on=on, rate=rate)
    return (source, target, on.isoformat()), record


KINDS: dict[str, KindSpec] = {
    spec.name: spec for spec in (
        KindSpec(name="participants", required=("id", "name", "role"),
                 optional=("team", "manager_id", "start_date", "end_date", "currency",
                           "effective_from", "ramp"),
                 key=("id", "effective_from"), parser=_parse_participant),
        KindSpec(name="quotas", required=("participant_id", "metric", "period", "amount"),
                 optional=("reason", "effective_from"),
                 key=("participant_id", "metric", "period", "effective_from"),
                 parser=_parse_quota),
        KindSpec(name="deals", required=DEAL_COLUMNS, optional=DEAL_OPTIONAL,
                 key=("deal_id",), parser=_parse_deal, open_columns=True),
        KindSpec(name="splits", required=("deal_id", "participant_id"), optional=("share", "role"),
                 key=("deal_id", "participant_id", "role"), parser=_parse_split),
        KindSpec(name="metrics", required=("participant_id", "metric", "period", "value"),
                 optional=(), key=("participant_id", "metric", "period"), parser=_parse_metric),
        KindSpec(name="rates", required=("from_currency", "to_currency", "date", "rate"),
                 optional=(), key=("from_currency", "to_currency", "date"), parser=_parse_rate),
    )
}


def kind_spec(kind: str) -> KindSpec:
    spec = KINDS.get(kind)
    if spec is None:
        raise KeyError(f"unknown import kind {kind!r}; expected one of {', '.join(KINDS)}")
    return spec


def parse_rows(
    kind: str,
    rows: Iterable[RawRow],
    file: str,
    mapping: ImportMapping = NO_MAPPING,
    calendar: FiscalCalendar = CALENDAR,
    on_row: Callable[[int], None] | None = None,
) -> ParsedTable:
    """Validate every row of one file of `kind`; duplicates of a key are problems on each later row."""
    return next(parse_chunks(kind, rows, file, mapping, calendar, on_row))


def parse_chunks(
    kind: str,
    rows: Iterable[RawRow],
    file: str,
    mapping: ImportMapping = NO_MAPPING,
    calendar: FiscalCalendar = CALENDAR,
    on_row: Callable[[int], None] | None = None,
    size: int | None = None,
) -> Iterator[ParsedTable]:
    """parse_rows, a chunk of `size` rows of the file at a time (all of it when `size` is None),
    so a file of millions of rows is never held whole. Duplicates are found across chunks; the
    last chunk may be empty. A header problem is the only chunk."""
    spec = kind_spec(kind)
    accepted: list[ParsedRow] = []
    problems: list[Problem] = []
    rejected: set[int] = set()
    # Kept for every row of the file: a one-column key is kept as its text (a tuple would add
    # 56 bytes a row: 560 MB for 10M deals).
    first_row: dict[str | tuple[str, ...], int] = {}
    single = len(spec.key) == 1
    subjects: set[str] = set()
    header_checked = False
    for raw in rows:
        if on_row is not None:
            on_row(raw.number)
        if raw.problem is not None or raw.values is None:
            if raw.problem is not None:
                problems.append(raw.problem)
            rejected.add(raw.number)
            continue
        try:
            values = mapping.apply(raw.values)
        except MappingCollision as exc:
            problems.append(Problem(
                code="column_collision", file=file, row=raw.number, column=exc.column,
                message=f"two columns map to {exc.target!r} (a mapped column and a raw one); "
                        "rename or drop one"))
            rejected.add(raw.number)
            if not header_checked:
                yield ParsedTable(kind=kind, file=file, rows=(), problems=tuple(problems),
                                  rejected=frozenset())
                return
            continue
        if not header_checked:
            header_checked = True
            missing = [c for c in spec.required if c not in values and c not in mapping.defaults]
            unknown = [] if spec.open_columns else [c for c in values if c not in spec.columns]
            if missing or unknown:
                problems.extend(
                    Problem(code="missing_column", file=file, row=1, column=column,
                            message=f"{kind} need a {column!r} column")
                    for column in missing
                )
                problems.extend(
                    Problem(code="unknown_column", file=file, row=1,
                            column=mapping.source_name(column),
                            message=f"not a {kind} column (expected {', '.join(spec.columns)})")
                    for column in unknown
                )
                yield ParsedTable(kind=kind, file=file, rows=(), problems=tuple(problems),
                                  rejected=frozenset())
                return
        # Duplicates are found on the key as written, so a repeat of a rejected row is still
        # reported; the key's first column names the subject (e.g. the deal of a split row).
        text_key = tuple((values.get(column) or "").strip() for column in spec.key)
        cells = _Cells(values, file, raw.number, mapping, calendar)
        seen = text_key[0] if single else text_key
        if seen in first_row:
            cells.problem("duplicate_key", spec.key[0],
                          f"the same {'/'.join(spec.key)} as row {first_row[seen]}",
                          "/".join(k for k in text_key if k))
        else:
            first_row[seen] = raw.number
        parsed = spec.parser(cells)
        if parsed is None or cells.problems:
            problems.extend(cells.problems)
            rejected.add(raw.number)
            if text_key[0]:
                subjects.add(text_key[0])
            continue
        key, record = parsed
        accepted.append(ParsedRow(number=raw.number, key=key, record=record))
        if size is not None and len(accepted) + len(rejected) >= size:
            yield ParsedTable(kind=kind, file=file, rows=tuple(accepted), problems=tuple(problems),
                              rejected=frozenset(rejected), rejected_subjects=frozenset(subjects))
            accepted, problems, rejected, subjects = [], [], set(), set()
    yield ParsedTable(kind=kind, file=file, rows=tuple(accepted), problems=tuple(problems),
                      rejected=frozenset(rejected), rejected_subjects=frozenset(subjects))


@dataclass(frozen=True, slots=True, kw_only=True)
class KnownIds:
    """Ids a reference may point at: from the files being loaded and, for imports, the store."""

    participants: frozenset[str] | None = frozenset()
    deals: frozenset[str] | None = frozenset()
    # None: the ids cannot be known (their file is missing), so references are not checked.


def check_references(table: ParsedTable, known: KnownIds, split_sums: bool = True) -> ParsedTable:
    """Reject rows that name unknown participants or deals, and splits not summing to 100%.

    Rejections cascade within the table: when one split row of a deal is bad, the deal's
    shares no longer sum to 100%, so every split of that deal is rejected with a problem
    naming the deal. With `split_sums` off (a part of a file, whose deals may go on in the next
    part), the sums are left to the caller (check_split_sums), and the deals of the rows
    rejected here are added to the table's rejected subjects.
    """
    problems = list(table.problems)
    rejected = set(table.rejected)
    kept: list[ParsedRow] = []
    checks = _REFERENCE_COLUMNS.get(table.kind, ())
    for row in table.rows:
        bad = False
        for column, attribute, pool in checks:
            value = attribute(row.record)
            if value is None:
                continue
            ids = known.participants if pool == "participant" else known.deals
            if ids is not None and value not in ids:
                problems.append(Problem(
                    code=f"unknown_{pool}", file=table.file, row=row.number, column=column,
                    value=value, message=f"no {pool} with this id",
                ))
                bad = True
        if bad:
            rejected.add(row.number)
        else:
            kept.append(row)
    subjects = table.rejected_subjects
    if table.kind == "splits":
        broken = set(subjects) | {row.record.deal_id for row in table.rows if row.number in rejected}
        if split_sums:
            kept = check_split_sums(table.file, kept, broken, problems, rejected)
        else:
            subjects = frozenset(broken)
    problems.sort(key=lambda p: p.row or 0)
    return ParsedTable(kind=table.kind, file=table.file, rows=tuple(kept),
                       problems=tuple(problems), rejected=frozenset(rejected),
                       rejected_subjects=subjects)


_REFERENCE_COLUMNS: dict[str, tuple[tuple[str, Callable[[Any], str | None], str], ...]] = {
    "participants": (("manager_id", lambda r: r.participant.manager_id, "participant"),),
    "quotas": (("participant_id", lambda r: r.participant_id, "participant"),),
    "deals": (("owner_id", lambda r: r.owner_id, "participant"),),
    "splits": (("deal_id", lambda r: r.deal_id, "deal"),
               ("participant_id", lambda r: r.participant_id, "participant")),
    "metrics": (("participant_id", lambda r: r.participant_id, "participant"),),
}


def check_split_sums(file: str, kept: Iterable[ParsedRow], broken_deals: Set[str], problems: list[Problem],
                     rejected: set[int]) -> list[ParsedRow]:
    """The split rows of deals whose shared splits sum to 100%; the other deals' rows are
    rejected, each with a problem naming the deal, as is every row of a deal in `broken_deals`
    (one of its split rows was rejected, so its shares cannot be trusted to sum to 100%)."""
    by_deal: dict[str, list[ParsedRow]] = defaultdict(list)
    for row in kept:
        by_deal[row.record.deal_id].append(row)
    result: list[ParsedRow] = []
    for deal_id, rows in by_deal.items():
        shared = [r for r in rows if r.record.role in SHARED_ROLES]
        total = sum((r.record.share for r in shared), ZERO)
        if deal_id in broken_deals or (shared and total != ONE):
            reason = ("another split row of this deal was rejected" if deal_id in broken_deals
                      else f"splits of deal {deal_id} sum to {_percent(total)}, not 100%")
            for r in rows:
                problems.append(Problem(
                    code="split_sum", file=file, row=r.number, column="share",
                    value=_percent(r.record.share), subject=f"deal {deal_id}", message=reason,
                ))
                rejected.add(r.number)
            continue
        result.extend(rows)
    return sorted(result, key=lambda r: r.number)


def _percent(ratio: Decimal) -> str:
    text = format(ratio * HUNDRED, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text + "%"
