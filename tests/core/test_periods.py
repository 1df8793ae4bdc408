"""Periods on calendar and fiscal years."""

from datetime import date

import pytest

from attain.core.periods import FiscalCalendar, PeriodKind, parse_period, period_of, periods_within


def test_calendar_quarter():
    q = parse_period("2026-Q1")
    assert (q.start, q.end, q.days) == (date(2026, 1, 1), date(2026, 4, 1), 90)
    assert [p.label for p in periods_within(q, PeriodKind.MONTH)] == ["2026-01", "2026-02", "2026-03"]


def test_fiscal_year_starting_in_february_named_by_its_end():
    calendar = FiscalCalendar(start_month=2, named_by="end")
    q = parse_period("FY2027-Q1", calendar)
    assert (q.start, q.end) == (date(2026, 2, 1), date(2026, 5, 1))
    assert period_of(date(2026, 1, 31), PeriodKind.YEAR, calendar).label == "FY2026"


@pytest.mark.parametrize("label", ["2026-Q5", "2026-13", "26-Q1", "2026-H3", "Q1-2026", "FY2026-Q1"])
def test_bad_labels_are_refused(label):
    with pytest.raises(ValueError):
        parse_period(label)
