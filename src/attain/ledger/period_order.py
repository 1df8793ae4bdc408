"""The order of a workspace's pay periods, and what runs and adjustments may do in it.

Pay periods are ordered by their first day (then their last). The ledger's **frontier** is the
latest pay period holding entries posted by a run. The rules, which together keep every open
period publishable and closable by ordinary commands:

- A run of period P is refused while a period later than P holds run entries (P is *behind the
  frontier*): a run recalculates everything up to P's last day, so it would undo what the later
  period posted. The refusal names the command to run instead: the latest open period.
- Before P is run, the periods before it are brought up to date in the same transaction: the
  latest period that was run, when it is still open and its inputs changed since its last run,
  and every skipped period of P's kind between it and P (never run, not published or closed).
- A period behind the frontier cannot be run again, so `publish` does not ask it to be: changes
  to it since its last run are posted by the next run of a later period (true-ups pointing back
  to it), and the later runs' problems are the ones that count.
- An adjustment goes into an open period of the ledger, or a new period that is neither behind
  the frontier nor further ahead than the period after the current one (the later of today and
  the ledger's latest period): a typo such as 2099-Q2 is refused, and an adjustment's entry does
  not move the frontier, so no single adjustment can block the runs of the current periods.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from attain.core.errors import ConflictError, InputError
from attain.core.periods import FiscalCalendar, Period, period_of
from attain.ledger.cycle import PeriodState

# More skipped periods than this before a run is refused rather than filled in one go.
MAX_SKIPPED = 36


@dataclass(frozen=True, slots=True, kw_only=True)
class LedgerPeriod:
    """A pay period as the ledger knows it: its state, whether it was run, whether a run posted in it."""

    period: Period
    state: PeriodState
    was_run: bool
    has_run_entries: bool


def _order(period: Period) -> tuple[date, date]:
    return (period.start, period.end)


def frontier(periods: Sequence[LedgerPeriod]) -> LedgerPeriod | None:
    """The latest pay period holding entries posted by a run."""
    posted = [p for p in periods if p.has_run_entries]
    return max(posted, key=lambda p: _order(p.period)) if posted else None


def later_with_run_entries(target: Period, periods: Sequence[LedgerPeriod]) -> list[LedgerPeriod]:
    return sorted((p for p in periods if p.has_run_entries and p.period.start > target.start),
                  key=lambda p: _order(p.period))


def is_behind(target: Period, periods: Sequence[LedgerPeriod]) -> bool:
    """True when a later period holds run entries, so `target` can no longer be run."""
    return bool(later_with_run_entries(target, periods))


def where_to_post(periods: Sequence[LedgerPeriod], kind_of: Period, calendar: FiscalCalendar) -> Period:
    """The period a change goes into now: the latest open period at or after the frontier, else the
    period (of `kind_of`'s kind) after the frontier."""
    front = frontier(periods)
    assert front is not None
    candidates = [p for p in periods if p.state is PeriodState.OPEN and p.period.start >= front.period.start]
    if candidates:
        return max(candidates, key=lambda p: _order(p.period)).period
    return period_of(front.period.end, kind_of.kind, calendar)


def refuse_if_behind(target: Period, periods: Sequence[LedgerPeriod], calendar: FiscalCalendar) -> None:
    """ConflictError naming the later period and the exact command to run instead."""
    later = later_with_run_entries(target, periods)
    if not later:
        return
    instead = where_to_post(periods, target, calendar)
    raise ConflictError(
        f"period {target.label} is behind {later[-1].period.label}, which already has entries from a run; "
        f"runs move forward, and changes to {target.label} are posted by the next run as true-ups pointing "
        f"back to it: run `attain run --period {instead.label}`; nothing was run or posted")


def runs_first(target: Period, periods: Sequence[LedgerPeriod], calendar: FiscalCalendar,
               changed_since_run: Callable[[Period], bool]) -> list[Period]:
    """The periods to run, in order, before `target`: the latest period run before it (if open and
    `changed_since_run`), then every skipped period of target's kind between it and the target."""
    earlier = [p for p in periods if p.was_run and p.period.start < target.start]
    if not earlier:
        return []
    base = max(earlier, key=lambda p: _order(p.period))
    first: list[Period] = []
    if (base.state is PeriodState.OPEN and not is_behind(base.period, periods)
            and changed_since_run(base.period)):
        first.append(base.period)
    known = {p.period.label: p for p in periods}
    cursor = period_of(base.period.end, target.kind, calendar)
    skipped: list[Period] = []
    while cursor.start < target.start:
        row = known.get(cursor.label)
        if cursor.start >= base.period.end and (row is None or (row.state is PeriodState.OPEN and not row.was_run)):
            skipped.append(cursor)
        cursor = period_of(cursor.end, target.kind, calendar)
        if len(skipped) > MAX_SKIPPED:
            raise InputError(f"period {target.label} is more than {MAX_SKIPPED} periods after the last one run "
                             f"({base.period.label}); run the periods in between first, starting with "
                             f"`attain run --period {skipped[0].label}`")
    return first + skipped


def check_adjustment_period(target: Period, periods: Sequence[LedgerPeriod], today: date,
                            calendar: FiscalCalendar) -> None:
    """Refuse an adjustment into a period the ledger does not have yet that is behind the frontier
    or further ahead than the period after the current one (nothing is written)."""
    if any(p.period.label == target.label for p in periods):
        return
    if is_behind(target, periods):
        instead = where_to_post(periods, target, calendar)
        raise ConflictError(f"period {target.label} is behind a period that already has entries from a run; "
                            f"adjust in the latest open period instead: --period {instead.label}")
    latest = max([today, *(p.period.last_day for p in periods)])
    current = period_of(latest, target.kind, calendar)
    following = period_of(current.end, target.kind, calendar)
    if target.start > following.start:
        raise InputError(f"--period {target.label} is too far ahead: an adjustment goes into an open period of the "
                         f"ledger or a new one up to {following.label} (the period after {current.label})")
