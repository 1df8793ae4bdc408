"""Draws: a guaranteed minimum for the first months, advanced when earnings fall short, and, when
recoverable, carried forward as a balance and recovered from later earnings.

The declared rule (docs/ledger.md): in each pay period the draw guarantees `amount` per month of
the draw window; when the period's net earnings from the plan are below that, the shortfall is a
`draw_advance`. A recoverable draw's advances form a balance carried forward; in any period whose
earnings exceed the guarantee (zero after the window) `recovery_share` of the excess repays the
balance as a `draw_recovery`, never more than the balance. A non-recoverable draw is never repaid.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from attain.core.money import ZERO, RoundingMode, round_money
from attain.core.periods import Period
from attain.core.plan import DrawTerms
from attain.ledger.entries import DRAW_KINDS, Entry, EntryKind, sequence_counts
from attain.ledger.posting import make_entry

DRAW_COMPONENT = "draw"


def months_in_window(period: Period, start: date, months: int) -> int:
    """How many months of `period` fall inside the draw window of `months` months from `start`."""
    first = start.year * 12 + start.month - 1
    last = first + months - 1
    count = 0
    cursor = period.start.year * 12 + period.start.month - 1
    end = period.end.year * 12 + period.end.month - 1
    while cursor < end:
        count += first <= cursor <= last
        cursor += 1
    return count


def post_draw(
    *,
    pay_period: Period,
    participant_id: str,
    plan_id: str,
    currency: str,
    terms: DrawTerms,
    start: date,
    posted: Sequence[Entry],
    rounding: RoundingMode = RoundingMode.HALF_UP,
) -> tuple[Entry, ...]:
    """The draw advance or recovery entries that bring this pay period to the declared rule.

    `posted` is the whole ledger including this run's earned entries.
    """
    mine = [e for e in posted if e.participant_id == participant_id and e.plan_id == plan_id]
    here = [e for e in mine if e.period == pay_period.label]
    earned = sum((e.amount for e in here if e.kind.earned), ZERO)
    months = months_in_window(pay_period, start, terms.months)
    guarantee = terms.amount * months
    advance = max(guarantee - earned, ZERO) if months else ZERO
    recovery = ZERO
    if terms.recoverable:
        balance = sum((e.amount for e in mine if e.kind in DRAW_KINDS and e.period != pay_period.label), ZERO)
        excess = max(earned - guarantee, ZERO)
        recovery = min(max(balance, ZERO), round_money(excess * terms.recovery_share, currency, rounding))
    counts = sequence_counts(posted, pay_period.label)
    target = (participant_id, plan_id, DRAW_COMPONENT, pay_period.label)
    entries = []
    posted_advance = sum((e.amount for e in here if e.kind is EntryKind.DRAW_ADVANCE), ZERO)
    if advance != posted_advance:
        kind_text = "recoverable" if terms.recoverable else "non-recoverable"
        entries.append(make_entry(
            pay_period, target, EntryKind.DRAW_ADVANCE, currency, advance - posted_advance, (), counts,
            f"{kind_text} draw: guarantee {guarantee} {currency} for {months} month(s) of the "
            f"{terms.months}-month draw from {start.isoformat()}, earnings this period {earned} {currency}"
            + ("" if not posted_advance else f", already advanced {posted_advance} {currency}"),
        ))
    posted_recovery = sum((e.amount for e in here if e.kind is EntryKind.DRAW_RECOVERY), ZERO)
    if -recovery != posted_recovery:
        entries.append(make_entry(
            pay_period, target, EntryKind.DRAW_RECOVERY, currency, -recovery - posted_recovery, (), counts,
            f"draw recovery: {terms.recovery_share * 100:g}% of earnings above the guarantee "
            f"({earned} - {guarantee} {currency}), at most the outstanding draw balance",
        ))
    return tuple(entries)


def draw_balance(entries: Sequence[Entry], participant_id: str, plan_id: str) -> Decimal:
    """What a payee still owes on a recoverable draw (advances minus recoveries)."""
    return sum((e.amount for e in entries if e.participant_id == participant_id and e.plan_id == plan_id
                and e.kind in DRAW_KINDS), ZERO)
