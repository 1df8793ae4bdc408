"""Payment timing and payments: what is payable when a pay period closes, and the accruals report.

Declared timing (the plan's `payment.timing`), for earned kinds; draws and adjustments are paid in
the pay period they are posted in:
- monthly: paid in the pay period the entry is posted in;
- period_end: paid once the entry's origin period has ended (advances wait for their quarter);
- campaign_end: paid once the plan's effective period (the campaign) has ended;
- after_reconciliation: paid one pay period after the origin period ended, once it was reconciled.
A payee whose payable balance is negative (clawbacks beyond earnings) is paid nothing and the
balance is carried forward to be deducted from later pay.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from attain.core.money import ZERO
from attain.core.periods import Period
from attain.core.plan import PaymentTiming
from attain.ledger.entries import Entry, EntryKind, entry_key, sequence_counts, take_sequence


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanTiming:
    """A plan's declared payment timing and, for campaigns, when the campaign ends."""

    timing: PaymentTiming
    campaign_end: date | None = None


def is_payable(entry: Entry, pay_period: Period, timing: PlanTiming | None,
               period_of_label: Callable[[str], Period]) -> bool:
    """Whether an entry is payable by the close of `pay_period` under its plan's timing."""
    if period_of_label(entry.period).start > pay_period.start:
        return False
    if not entry.kind.earned or timing is None:
        return True
    origin = period_of_label(entry.origin)
    if timing.timing is PaymentTiming.MONTHLY:
        return True
    if timing.timing is PaymentTiming.PERIOD_END:
        return origin.end <= pay_period.end
    if timing.timing is PaymentTiming.CAMPAIGN_END:
        ends = timing.campaign_end or origin.last_day
        return ends <= pay_period.last_day
    return origin.end <= pay_period.start  # after reconciliation: one pay period later


def post_payments(
    *,
    pay_period: Period,
    posted: Sequence[Entry],
    timings: Mapping[str, PlanTiming],
    period_of_label: Callable[[str], Period],
) -> tuple[Entry, ...]:
    """Payment entries for `pay_period`: per payee and pay item, payable to date minus paid to date."""
    due: dict[tuple[str, str, str, str], Decimal] = defaultdict(lambda: ZERO)
    for entry in posted:
        key = (entry.participant_id, entry.plan_id, entry.pay_item or entry.kind.pay_item, entry.currency)
        if entry.kind is EntryKind.PAYMENT:
            due[key] -= entry.amount
        elif is_payable(entry, pay_period, timings.get(entry.plan_id), period_of_label):
            due[key] += entry.amount
    by_payee: dict[str, list[tuple[tuple[str, str, str, str], Decimal]]] = defaultdict(list)
    for key, amount in sorted(due.items()):
        if amount:
            by_payee[key[0]].append((key, amount))
    counts = sequence_counts(posted, pay_period.label)
    entries = []
    for participant_id, items in sorted(by_payee.items()):
        per_currency: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for (_p, _plan, _item, currency), amount in items:
            per_currency[currency] += amount
        for (_p, plan_id, item, currency), amount in items:
            if per_currency[currency] < 0:
                continue  # a negative balance is carried forward, deducted from later pay
            target = (participant_id, plan_id, item, pay_period.label)
            sequence = take_sequence(counts, target, EntryKind.PAYMENT)
            entries.append(Entry(
                key=entry_key(pay_period.label, participant_id, plan_id, item, pay_period.label,
                              EntryKind.PAYMENT, sequence),
                period=pay_period.label, origin=pay_period.label, participant_id=participant_id,
                plan_id=plan_id, component_id=item, kind=EntryKind.PAYMENT, currency=currency,
                amount=amount, explanation=f"paid with payroll for {pay_period.label}: {item}, "
                                           f"payable to date minus paid to date", pay_item=item,
            ))
    return tuple(entries)


@dataclass(frozen=True, slots=True, kw_only=True)
class AccrualRow:
    """Per pay period and currency: earned in it, paid in it, and what is owed at its end."""

    period: str
    currency: str
    earned: Decimal
    paid: Decimal
    accrued: Decimal


def accruals(entries: Sequence[Entry], periods: Sequence[Period]) -> tuple[AccrualRow, ...]:
    """Earned, paid and accrued (earned to date minus paid to date) at the end of each pay period."""
    rows = []
    currencies = sorted({e.currency for e in entries})
    for currency in currencies:
        running = ZERO
        for period in sorted(periods, key=lambda p: (p.start, p.end)):
            here = [e for e in entries if e.period == period.label and e.currency == currency]
            earned = sum((e.amount for e in here if e.kind is not EntryKind.PAYMENT), ZERO)
            paid = sum((e.amount for e in here if e.kind is EntryKind.PAYMENT), ZERO)
            running += earned - paid
            rows.append(AccrualRow(period=period.label, currency=currency, earned=earned, paid=paid,
                                   accrued=running))
    return tuple(rows)
