"""Pay periods on a (possibly fiscal) calendar: months, quarters, halves and years, with labels."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import Enum


class PeriodKind(Enum):
    """The length of a measurement or pay period."""

    MONTH = "month"
    QUARTER = "quarter"
    HALF = "half"
    YEAR = "year"

    @property
    def months(self) -> int:
        return _MONTHS[self]


_MONTHS = {PeriodKind.MONTH: 1, PeriodKind.QUARTER: 3, PeriodKind.HALF: 6, PeriodKind.YEAR: 12}
_LABEL_RE = re.compile(r"(FY)?([0-9]{4})(?:-(?:(Q)([1-4])|(H)([12])|(M)?([0-9]{1,2})))?")


@dataclass(frozen=True, slots=True, kw_only=True)
class FiscalCalendar:
    """When the fiscal year starts, and whether a fiscal year is named by its start or end year.

    With the default (start month 1) labels are calendar labels: `2026-Q1`, `2026-03`.
    With another start month labels carry an `FY` prefix and months are fiscal months:
    with `start_month=2, named_by="end"`, `FY2027-Q1` is February to April 2026.
    """

    start_month: int = 1
    named_by: str = "start"

    def __post_init__(self) -> None:
        if not 1 <= self.start_month <= 12:
            raise ValueError(f"fiscal year start month must be 1..12, not {self.start_month}")
        if self.named_by not in ("start", "end"):
            raise ValueError("fiscal year is named by its 'start' or 'end' year")

    @property
    def is_calendar(self) -> bool:
        return self.start_month == 1

    def year_start(self, fiscal_year: int) -> date:
        """The first day of fiscal year `fiscal_year`."""
        start_year = fiscal_year if self.named_by == "start" or self.is_calendar else fiscal_year - 1
        return date(start_year, self.start_month, 1)

    def fiscal_year_of(self, day: date) -> int:
        """The fiscal year a calendar day falls in."""
        start_year = day.year if day.month >= self.start_month else day.year - 1
        return start_year if self.named_by == "start" or self.is_calendar else start_year + 1


CALENDAR = FiscalCalendar()


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + (day.month - 1) + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True, slots=True, kw_only=True, order=True)
class Period:
    """A half-open span of days [start, end) with a kind and a stable label."""

    start: date
    end: date
    kind: PeriodKind
    label: str

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def contains(self, day: date) -> bool:
        return self.start <= day < self.end

    def covers(self, other: Period) -> bool:
        """True when `other` lies entirely inside this period."""
        return self.start <= other.start and other.end <= self.end

    def __str__(self) -> str:
        return self.label


@functools.lru_cache(maxsize=4096)
def make_period(kind: PeriodKind, fiscal_year: int, index: int, calendar: FiscalCalendar = CALENDAR) -> Period:
    """The `index`-th (1-based) period of `kind` in `fiscal_year` (periods are immutable values,
    so they are made once per label: reading 100,000 quotas names the same few periods)."""
    count = 12 // kind.months
    if not 1 <= index <= count:
        raise ValueError(f"a year has {count} {kind.value}s, not {index}")
    start = _add_months(calendar.year_start(fiscal_year), (index - 1) * kind.months)
    end = _add_months(start, kind.months)
    prefix = "" if calendar.is_calendar else "FY"
    suffix = {
        PeriodKind.MONTH: f"-{index:02d}",
        PeriodKind.QUARTER: f"-Q{index}",
        PeriodKind.HALF: f"-H{index}",
        PeriodKind.YEAR: "",
    }[kind]
    return Period(start=start, end=end, kind=kind, label=f"{prefix}{fiscal_year}{suffix}")


@functools.lru_cache(maxsize=4096)
def parse_period(label: str, calendar: FiscalCalendar = CALENDAR) -> Period:
    """Parse `2026`, `2026-H1`, `2026-Q3`, `2026-07` (or `FY2027-Q1` on a fiscal calendar)."""
    match = _LABEL_RE.fullmatch(label.strip())
    if not match:
        raise ValueError(f"not a period label: {label!r} (expected e.g. 2026-Q1, 2026-03, 2026-H2, 2026)")
    fy_prefix, year_text, q, q_index, h, h_index, _m, month = match.groups()
    if bool(fy_prefix) == calendar.is_calendar:
        expected = "with" if not calendar.is_calendar else "without"
        raise ValueError(f"period {label!r}: this calendar's labels are written {expected} 'FY'")
    year = int(year_text)
    if q:
        return make_period(PeriodKind.QUARTER, year, int(q_index), calendar)
    if h:
        return make_period(PeriodKind.HALF, year, int(h_index), calendar)
    if month:
        return make_period(PeriodKind.MONTH, year, int(month), calendar)
    return make_period(PeriodKind.YEAR, year, 1, calendar)


def period_of(day: date, kind: PeriodKind, calendar: FiscalCalendar = CALENDAR) -> Period:
    """The period of `kind` containing `day`."""
    fiscal_year = calendar.fiscal_year_of(day)
    start = calendar.year_start(fiscal_year)
    months = (day.year - start.year) * 12 + day.month - start.month
    return make_period(kind, fiscal_year, months // kind.months + 1, calendar)


def periods_within(outer: Period, kind: PeriodKind, calendar: FiscalCalendar = CALENDAR) -> tuple[Period, ...]:
    """Every period of `kind` lying entirely inside `outer`, in order (empty if `kind` is longer)."""
    if kind.months > outer.kind.months:
        return ()
    result: list[Period] = []
    cursor = outer.start
    while cursor < outer.end:
        period = period_of(cursor, kind, calendar)
        result.append(period)
        cursor = period.end
    return tuple(result)


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_date(text: str) -> date:
    """Parse an ISO date `YYYY-MM-DD` strictly."""
    stripped = text.strip()
    if not _ISO_DATE.fullmatch(stripped):
        raise ValueError(f"not an ISO date (YYYY-MM-DD): {text!r}")
    return date.fromisoformat(stripped)
