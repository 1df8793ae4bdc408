"""Quota resolution: effective-dated changes, proration for mid-period start or leave, ramps."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from attain.core.periods import parse_period
from attain.core.records import Participant, QuotaEntry
from attain.crediting.quotas import resolve_quota, resolve_quotas

Q3 = parse_period("2026-Q3")  # July 31 + August 31 + September 30 = 92 days
Q4 = parse_period("2026-Q4")  # October 31 + November 30 + December 31 = 92 days


def entry(amount: str, period: str = "2026-Q3", effective_from: date | None = None,
          reason: str = "") -> QuotaEntry:
    return QuotaEntry(participant_id="R1", metric="bookings", period=period,
                      amount=Decimal(amount), effective_from=effective_from, reason=reason)


def rep(**kw: object) -> Participant:
    return Participant(id="R1", name="Ann", role="ae", **kw)  # type: ignore[arg-type]


def test_plain_quota_is_kept_exactly() -> None:
    quota = resolve_quota([entry("300000")], Q3, rep(start_date=date(2025, 1, 1)))
    assert (quota.amount, quota.reason) == (Decimal("300000"), "")


def test_start_on_first_august_prorates_to_61_of_92_days() -> None:
    # 300,000 x 61 / 92 = 198,913.043... -> 198,913.04
    quota = resolve_quota([entry("300000")], Q3, rep(start_date=date(2026, 8, 1)))
    assert quota.amount == Decimal("198913.04")
    assert "active 61 of 92 days" in quota.reason


def test_leave_on_fifteenth_september_prorates_to_77_days() -> None:
    # the end date is the last active day: July 31 + August 31 + 15 days of September = 77
    quota = resolve_quota([entry("92000")], Q3, rep(end_date=date(2026, 9, 15)))
    assert quota.amount == Decimal("77000.00")


def test_change_effective_first_november_blends_by_days_and_keeps_the_reason() -> None:
    # 31 days at 300,000 + 61 days at 240,000 = 23,940,000 / 92 = 260,217.391... -> 260,217.39
    quota = resolve_quota(
        [entry("300000", "2026-Q4"),
         entry("240000", "2026-Q4", date(2026, 11, 1), "territory split")],
        Q4, rep(),
    )
    assert quota.amount == Decimal("260217.39")
    assert "240000 from 2026-11-01 (territory split)" in quota.reason


def test_ramp_for_new_hire_starting_in_august() -> None:
    # August at 25% (31 days), September at 50% (30 days), July inactive:
    # 300,000 x (0.25 x 31 + 0.5 x 30) / 92 = 300,000 x 22.75 / 92 = 74,184.78
    hire = rep(start_date=date(2026, 8, 1),
               ramp=(Decimal("0.25"), Decimal("0.5"), Decimal("0.75")))
    quota = resolve_quota([entry("300000")], Q3, hire)
    assert quota.amount == Decimal("74184.78")
    assert "ramp 2026-08 at 25%, 2026-09 at 50%" in quota.reason


def test_ramp_is_over_after_its_months() -> None:
    hire = rep(start_date=date(2026, 1, 1), ramp=(Decimal("0.5"),))
    assert resolve_quota([entry("300000")], Q3, hire).amount == Decimal("300000")


def test_resolve_quotas_groups_entries_per_participant_metric_period() -> None:
    quotas = resolve_quotas([entry("100", "2026-Q3"), entry("200", "2026-Q4")], [rep()])
    assert [(q.period, q.amount) for q in quotas] == [("2026-Q3", Decimal("100")),
                                                     ("2026-Q4", Decimal("200"))]
