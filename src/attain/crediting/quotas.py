"""Resolve recorded quota entries into one quota per payee, metric and period.

Three rules, applied day by day over the period and summed (each day weighs 1 / days):
- a change with an effective date applies from that day on (before it, the earlier entry,
  or the first entry when none is earlier);
- proration: days before the participant's start date or after their end date count zero;
- ramp: in the n-th month of tenure (the start date's month is month 1) the quota is the
  ramp's n-th share; after the ramp, 100%.
A quota that needed none of these keeps its recorded amount exactly; otherwise the result is
rounded half-up to 0.01 and its reason says what was applied.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from attain.core.money import CALC_CONTEXT, ONE, ZERO
from attain.core.periods import CALENDAR, FiscalCalendar, Period, parse_period
from attain.core.records import Participant, Quota, QuotaEntry

QUOTA_QUANTUM = Decimal("0.01")


def resolve_quotas(
    entries: Iterable[QuotaEntry],
    participants: Sequence[Participant],
    calendar: FiscalCalendar = CALENDAR,
) -> tuple[Quota, ...]:
    """One `Quota` per (participant, metric, period), in that order."""
    by_id = {p.id: p for p in participants}
    grouped: dict[tuple[str, str, str], list[QuotaEntry]] = defaultdict(list)
    for entry in entries:
        grouped[(entry.participant_id, entry.metric, entry.period)].append(entry)
    return tuple(
        resolve_quota(grouped[key], parse_period(key[2], calendar), by_id.get(key[0]))
        for key in sorted(grouped)
    )


def resolve_quota(entries: Sequence[QuotaEntry], period: Period,
                  participant: Participant | None) -> Quota:
    """The quota for one participant, metric and period from its entries (see module doc)."""
    ordered = sorted(entries, key=lambda e: e.effective_from or date.min)
    first = ordered[0]
    if _whole(ordered, period, participant):
        return Quota(participant_id=first.participant_id, metric=first.metric,
                     period=first.period, amount=first.amount, reason=first.reason)
    cuts = {period.start, period.end}
    cuts.update(e.effective_from for e in ordered
                if e.effective_from and period.start < e.effective_from < period.end)
    if participant is not None:
        for day in (participant.start_date,
                    participant.end_date + timedelta(days=1) if participant.end_date else None):
            if day is not None and period.start < day < period.end:
                cuts.add(day)
        if participant.ramp and participant.start_date:
            cursor = date(period.start.year, period.start.month, 1)
            while cursor < period.end:
                if cursor > period.start:
                    cuts.add(cursor)
                cursor = date(cursor.year + cursor.month // 12, cursor.month % 12 + 1, 1)
    bounds = sorted(cuts)
    total = ZERO
    inactive_days = 0
    ramped: list[str] = []
    for start, end in itertools.pairwise(bounds):
        days = (end - start).days
        amount = _amount_on(ordered, start)
        if participant is not None and not participant.active_on(start):
            inactive_days += days
            continue
        factor = _ramp_factor(participant, start)
        if factor != ONE:
            ramped.append(f"{start:%Y-%m} at {format((factor * 100).normalize(), 'f')}%")
        total += CALC_CONTEXT.multiply(CALC_CONTEXT.multiply(amount, factor), Decimal(days))
    changed = len(ordered) > 1 or (first.effective_from is not None
                                   and first.effective_from > period.start)
    if not (changed or inactive_days or ramped):
        return Quota(participant_id=first.participant_id, metric=first.metric,
                     period=first.period, amount=first.amount, reason=first.reason)
    amount = CALC_CONTEXT.divide(total, Decimal(period.days)).quantize(
        QUOTA_QUANTUM, rounding=ROUND_HALF_UP)
    reasons = [
        f"{e.amount} from {e.effective_from}" + (f" ({e.reason})" if e.reason else "")
        if e.effective_from else f"{e.amount}" + (f" ({e.reason})" if e.reason else "")
        for e in ordered
    ]
    if inactive_days:
        reasons.append(f"prorated: active {period.days - inactive_days} of {period.days} days")
    if ramped:
        reasons.append("ramp " + ", ".join(dict.fromkeys(ramped)))
    return Quota(participant_id=first.participant_id, metric=first.metric, period=first.period,
                 amount=amount, reason="; ".join(reasons))


def _whole(ordered: Sequence[QuotaEntry], period: Period, participant: Participant | None) -> bool:
    """True when one entry holds for the whole period and the payee is active and unramped
    throughout: the quota is that entry as it stands (the common case, decided without
    walking the period)."""
    first = ordered[0]
    if len(ordered) > 1 or (first.effective_from is not None and first.effective_from > period.start):
        return False
    if participant is None:
        return True
    if participant.ramp and participant.start_date:
        return False
    ends = participant.end_date + timedelta(days=1) if participant.end_date else None
    inside = any(day is not None and period.start < day < period.end for day in (participant.start_date, ends))
    return not inside and participant.active_on(period.start)


def _amount_on(ordered: Sequence[QuotaEntry], day: date) -> Decimal:
    found = ordered[0].amount
    for entry in ordered:
        if entry.effective_from is None or entry.effective_from <= day:
            found = entry.amount
    return found


def _ramp_factor(participant: Participant | None, day: date) -> Decimal:
    if participant is None or not participant.ramp or participant.start_date is None:
        return ONE
    start = participant.start_date
    month = (day.year - start.year) * 12 + day.month - start.month
    if 0 <= month < len(participant.ramp):
        return participant.ramp[month]
    return ONE
