"""Read the store "as known at" an import: the latest version of every record, as a core DataSet."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import Connection, and_, or_

from attain.core.dataset import DataSet
from attain.core.periods import CALENDAR, FiscalCalendar, Period, PeriodKind, parse_period, period_of
from attain.formats.datafolder import assemble_dataset
from attain.storage.codecs import CODECS
from attain.storage.schema import VERSIONED
from attain.storage.versions import latest_versions

DEAL_DATES = ("booked_on", "signed_on", "invoiced_on", "recognized_on", "cancelled_on")


def widen_to_years(period: Period, calendar: FiscalCalendar = CALENDAR) -> tuple[date, date]:
    """The fiscal years spanned by `period`: year-to-date and annual components need them."""
    first = period_of(period.start, PeriodKind.YEAR, calendar)
    last = period_of(period.last_day, PeriodKind.YEAR, calendar)
    return first.start, last.end


def read_dataset(conn: Connection, upto_import: int, period: Period | None = None,
                 calendar: FiscalCalendar = CALENDAR) -> DataSet:
    """Everything known by import `upto_import`; with a period, deals, quotas and metrics of
    the fiscal year(s) around it (participants, splits of those deals and rates in full)."""
    window = widen_to_years(period, calendar) if period is not None else None

    def rows(kind: str, where: Any = None) -> list[Any]:
        codec = CODECS[kind]
        return [codec.decode(r) for r in latest_versions(conn, VERSIONED[kind], upto_import, where)]

    deal_filter = None
    if window is not None:
        start, end = window

        def deal_filter(c: Any) -> Any:
            return or_(*(and_(c[name] >= start, c[name] < end) for name in DEAL_DATES))

    deals = rows("deals", deal_filter)
    deal_ids = {d.id for d in deals}
    return assemble_dataset(
        participants=rows("participants"),
        deals=deals,
        splits=[s for split_set in rows("splits") if split_set.deal_id in deal_ids
                for s in split_set.splits],
        quotas=[q for q in rows("quotas") if _overlaps(q.period, window, calendar)],
        observations=[m for m in rows("metrics") if _overlaps(m.period, window, calendar)],
        rates=rows("rates"),
        calendar=calendar,
    )


def _overlaps(label: str, window: tuple[date, date] | None, calendar: FiscalCalendar) -> bool:
    if window is None:
        return True
    period = parse_period(label, calendar)
    return period.start < window[1] and window[0] < period.end


def participant_ids(conn: Connection, upto_import: int) -> set[str]:
    return {r["participant_id"] for r in latest_versions(conn, VERSIONED["participants"],
                                                         upto_import)}


def ids_of(records: Iterable[Any], attribute: str) -> set[str]:
    return {getattr(r, attribute) for r in records}
