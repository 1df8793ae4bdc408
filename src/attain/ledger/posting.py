"""Posting: a new result minus what is already posted becomes new entries in the open pay period.

Rules (docs/ledger.md):
- each target (participant, plan, component, origin period) is compared with the sum of its
  posted earned entries; the difference is posted, so a rerun on unchanged inputs posts nothing;
- a deal cancelled within the plan's clawback window is clawed back at exactly what was posted
  for it (the per-deal attribution of earlier entries), always as a clawback entry of its own,
  even when other deals' changes in the same run offset it; outside the window what was paid stays;
- every new entry that lists per-deal shares has shares summing exactly to its amount
  (`check_deal_shares`, run on every posting);
- the rest of a difference is an `earning` (or `spiff`) while its origin period is still
  running or is being paid for the first time, and a `true_up` once the origin period has ended
  and something was already posted for it in an earlier pay period (earned to date minus paid
  to date), or when the origin ended before this pay period (a late change).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from attain.core.money import ZERO, format_money
from attain.core.periods import Period
from attain.ledger.entries import (
    DealShare,
    Entry,
    EntryKind,
    SequenceCounts,
    entry_key,
    sequence_counts,
    take_sequence,
)

Target = tuple[str, str, str, str]


@dataclass(frozen=True, slots=True, kw_only=True)
class Earned:
    """What a target has earned to date according to the latest calculation."""

    participant_id: str
    plan_id: str
    component_id: str
    origin: Period
    currency: str
    amount: Decimal
    deals: tuple[DealShare, ...]
    spiff: bool
    why: str

    @property
    def target(self) -> Target:
        return (self.participant_id, self.plan_id, self.component_id, self.origin.label)


@dataclass(frozen=True, slots=True, kw_only=True)
class Cancellation:
    """A deal now cancelled, and when (None: unknown, treated as the pay period's last day)."""

    deal_id: str
    cancelled_on: date | None


def post_difference(
    *,
    pay_period: Period,
    earned: Sequence[Earned],
    scope: Collection[tuple[str, str]],
    posted: Sequence[Entry],
    cancellations: Mapping[str, Cancellation],
    clawback_days: Mapping[str, int | None],
    origins: Mapping[str, Period],
) -> tuple[Entry, ...]:
    """Entries that bring every target in `scope` ((plan, origin) pairs recalculated) to what it earned.

    `posted` is the whole ledger so far; `origins` maps origin labels met in it to their periods.
    """
    by_target: dict[Target, list[Entry]] = defaultdict(list)
    for entry in posted:
        if entry.kind.earned and (entry.plan_id, entry.origin) in scope:
            by_target[entry.target].append(entry)
    wanted = {e.target: e for e in earned}
    counts = sequence_counts(posted, pay_period.label)
    new: list[Entry] = []
    for target in sorted(set(by_target) | set(wanted)):
        now = wanted.get(target)
        before = by_target.get(target, [])
        origin = now.origin if now else origins[target[3]]
        currency = now.currency if now else before[0].currency
        new.extend(_settle(pay_period, target, origin, currency, now, before, cancellations,
                           clawback_days.get(target[1]), counts))
    check_deal_shares(new)
    return tuple(new)


class DealSharesMismatch(AssertionError):
    """An entry's per-deal shares do not add up to its amount (a defect in posting, never input)."""


def check_deal_shares(entries: Sequence[Entry]) -> None:
    """Every entry that lists per-deal shares has shares summing exactly to its amount."""
    for entry in entries:
        if entry.deals:
            total = sum((share.amount for share in entry.deals), ZERO)
            if total != entry.amount:
                raise DealSharesMismatch(
                    f"entry {entry.key}: per-deal shares sum to {total}, the entry's amount is {entry.amount}")


def _settle(
    pay_period: Period, target: Target, origin: Period, currency: str, now: Earned | None,
    before: Sequence[Entry], cancellations: Mapping[str, Cancellation], window: int | None,
    counts: SequenceCounts,
) -> list[Entry]:
    component_id, origin_label = target[2], target[3]
    posted_total = sum((e.amount for e in before), ZERO)
    posted_by_deal: dict[str, Decimal] = defaultdict(lambda: ZERO)
    credit_dates: dict[str, date] = {}
    for entry in before:
        for share in entry.deals:
            posted_by_deal[share.deal_id] += share.amount
            credit_dates[share.deal_id] = share.credit_date
    new_by_deal = {d.deal_id: d.amount for d in now.deals} if now else {}
    new_dates = {d.deal_id: d.credit_date for d in now.deals} if now else {}
    amount = now.amount if now else ZERO
    clawed: list[DealShare] = []
    kept: list[str] = []
    for deal_id in sorted(posted_by_deal):
        paid = posted_by_deal[deal_id]
        if paid == 0 or deal_id in new_by_deal or deal_id not in cancellations:
            continue
        cancelled_on = cancellations[deal_id].cancelled_on or pay_period.last_day
        if window is not None and (cancelled_on - credit_dates[deal_id]).days > window:
            # Outside the clawback window what was paid for the deal stays paid.
            amount += paid
            kept.append(deal_id)
        else:
            clawed.append(DealShare(deal_id=deal_id, credit_date=credit_dates[deal_id], amount=-paid))
    delta = amount - posted_total
    if delta == 0 and not clawed:
        return []
    entries: list[Entry] = []
    spiff = now.spiff if now else any(e.kind is EntryKind.SPIFF for e in before)
    what = f"{component_id} for {origin_label}"
    if clawed:
        claw = sum((c.amount for c in clawed), ZERO)
        names = ", ".join(c.deal_id for c in clawed)
        entries.append(make_entry(
            pay_period, target, EntryKind.CLAWBACK, currency, claw, tuple(clawed), counts,
            f"clawback of {what}: deal(s) {names} cancelled within the "
            f"{'plan' if window is None else f'{window}-day'} clawback window; "
            f"reverses {format_money(-claw, currency)} paid for them",
        ))
        delta -= claw
    if delta == 0:
        return entries
    late = origin.end <= pay_period.start
    final = origin.end <= pay_period.end
    paid_elsewhere = any(e.period != pay_period.label for e in before)
    kind = EntryKind.TRUE_UP if late or (final and paid_elsewhere) else (
        EntryKind.SPIFF if spiff else EntryKind.EARNING)
    clawed_ids = {c.deal_id for c in clawed}
    deal_deltas = []
    for deal_id in sorted(set(posted_by_deal) | set(new_by_deal)):
        if deal_id in clawed_ids or deal_id in kept:
            continue
        change = new_by_deal.get(deal_id, ZERO) - posted_by_deal.get(deal_id, ZERO)
        if change:
            deal_deltas.append(DealShare(deal_id=deal_id, credit_date=new_dates.get(deal_id)
                                         or credit_dates[deal_id], amount=change))
    if sum((d.amount for d in deal_deltas), ZERO) != delta:
        deal_deltas = []  # the line carries no exact per-deal attribution
    earned_text = format_money(amount, currency)
    paid_text = format_money(posted_total + sum((c.amount for c in clawed), ZERO), currency)
    if kind is EntryKind.TRUE_UP:
        reason = "late change to a closed origin period" if late else "period end"
        why = f"true-up of {what} ({reason}): earned to date {earned_text} minus paid to date {paid_text}"
    elif origin.end > pay_period.end:
        why = f"advance on {what} ({origin_label} to date)"
        if posted_total or clawed:
            why += f": earned to date {earned_text} minus paid to date {paid_text}"
    elif posted_total or clawed:
        why = f"correction of {what}: earned to date {earned_text} minus posted {paid_text}"
    else:
        why = f"{what}"
    if now and now.why:
        why += f"; {now.why}"
    if kept:
        why += f"; deal(s) {', '.join(kept)} cancelled after the clawback window: paid amount kept"
    entries.append(make_entry(pay_period, target, kind, currency, delta, tuple(deal_deltas), counts, why))
    return entries


def make_entry(pay_period: Period, target: Target, kind: EntryKind, currency: str, amount: Decimal,
           deals: tuple[DealShare, ...], counts: SequenceCounts, why: str) -> Entry:
    participant_id, plan_id, component_id, origin = target
    sequence = take_sequence(counts, target, kind)
    return Entry(
        key=entry_key(pay_period.label, participant_id, plan_id, component_id, origin, kind, sequence),
        period=pay_period.label, origin=origin, participant_id=participant_id, plan_id=plan_id,
        component_id=component_id, kind=kind, currency=currency, amount=amount, explanation=why,
        deals=deals, pay_item=kind.pay_item,
    )
