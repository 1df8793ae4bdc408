"""Ledger entries: the append-only facts a statement, a payroll file and an accrual are sums of."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any

from attain.core.money import ZERO, to_decimal


class EntryKind(Enum):
    """What an entry is; payments record money paid, every other kind is money earned or owed."""

    EARNING = "earning"
    TRUE_UP = "true_up"
    CLAWBACK = "clawback"
    DRAW_ADVANCE = "draw_advance"
    DRAW_RECOVERY = "draw_recovery"
    SPIFF = "spiff"
    ADJUSTMENT = "adjustment"
    PAYMENT = "payment"

    @property
    def earned(self) -> bool:
        """Kinds produced by recalculating a plan (the targets a run diffs against)."""
        return self in EARNED_KINDS

    @property
    def pay_item(self) -> str:
        """The payroll pay item the kind is paid under."""
        return _PAY_ITEMS[self]


EARNED_KINDS = frozenset({EntryKind.EARNING, EntryKind.TRUE_UP, EntryKind.CLAWBACK, EntryKind.SPIFF})
DRAW_KINDS = frozenset({EntryKind.DRAW_ADVANCE, EntryKind.DRAW_RECOVERY})
_PAY_ITEMS = {
    EntryKind.EARNING: "earnings", EntryKind.TRUE_UP: "earnings", EntryKind.CLAWBACK: "earnings",
    EntryKind.SPIFF: "spiff", EntryKind.DRAW_ADVANCE: "draw", EntryKind.DRAW_RECOVERY: "draw",
    EntryKind.ADJUSTMENT: "adjustment", EntryKind.PAYMENT: "payment",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class DealShare:
    """The part of an entry owed to one deal (from the engine's per-deal attribution)."""

    deal_id: str
    credit_date: date
    amount: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One posted amount: who, which pay period it sits in, which period it was earned in, and why.

    `period` is the pay period the entry is posted in (its statement); `origin` is the period the
    amount belongs to (a component's measurement period; earlier than `period` for late changes).
    `key` is deterministic: the same run over the same inputs and ledger yields the same keys.
    """

    key: str
    period: str
    origin: str
    participant_id: str
    plan_id: str
    component_id: str
    kind: EntryKind
    currency: str
    amount: Decimal
    explanation: str
    deals: tuple[DealShare, ...] = ()
    ref: str = ""
    pay_item: str = ""

    @property
    def target(self) -> tuple[str, str, str, str]:
        """What the entry is part of: (participant, plan, component, origin)."""
        return (self.participant_id, self.plan_id, self.component_id, self.origin)


def entry_key(period: str, participant_id: str, plan_id: str, component_id: str, origin: str,
              kind: EntryKind, sequence: int) -> str:
    """A readable, deterministic key: the n-th posting of a kind for a target in a pay period."""
    return "/".join((period, participant_id, plan_id or "-", component_id, origin, kind.value, str(sequence)))


SequenceCounts = dict[tuple[tuple[str, str, str, str], EntryKind], int]


def sequence_counts(posted: Iterable[Entry], period: str) -> SequenceCounts:
    """How many entries of each kind each target already has in pay period `period`."""
    counts: SequenceCounts = {}
    for entry in posted:
        if entry.period == period:
            counts[(entry.target, entry.kind)] = counts.get((entry.target, entry.kind), 0) + 1
    return counts


def take_sequence(counts: SequenceCounts, target: tuple[str, str, str, str], kind: EntryKind) -> int:
    """The next sequence number for a kind of entry on a target, counted as taken."""
    counts[(target, kind)] = counts.get((target, kind), 0) + 1
    return counts[(target, kind)]


def entry_record(entry: Entry) -> dict[str, Any]:
    """An entry as plain, canonically ordered JSON-ready data (decimals and dates as text)."""
    return {
        "key": entry.key, "period": entry.period, "origin": entry.origin,
        "participant_id": entry.participant_id, "plan_id": entry.plan_id,
        "component_id": entry.component_id, "kind": entry.kind.value, "currency": entry.currency,
        "amount": format(entry.amount, "f"), "explanation": entry.explanation,
        "deals": [[d.deal_id, d.credit_date.isoformat(), format(d.amount, "f")] for d in entry.deals],
        "ref": entry.ref, "pay_item": entry.pay_item,
    }


def entry_from_record(record: Mapping[str, Any]) -> Entry:
    """The inverse of `entry_record`."""
    return Entry(
        key=record["key"], period=record["period"], origin=record["origin"],
        participant_id=record["participant_id"], plan_id=record["plan_id"],
        component_id=record["component_id"], kind=EntryKind(record["kind"]), currency=record["currency"],
        amount=to_decimal(record["amount"]), explanation=record["explanation"],
        deals=tuple(DealShare(deal_id=d, credit_date=date.fromisoformat(c), amount=to_decimal(a))
                    for d, c, a in record["deals"]),
        ref=record.get("ref", ""), pay_item=record.get("pay_item", ""),
    )


def canonical_json(value: Any) -> bytes:
    """Canonical bytes for hashing and byte-identity: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def entries_digest(entries: Iterable[Entry]) -> str:
    """The SHA-256 of a sequence of entries in the order given."""
    return hashlib.sha256(canonical_json([entry_record(e) for e in entries])).hexdigest()


def total(entries: Iterable[Entry]) -> Decimal:
    return sum((e.amount for e in entries), ZERO)


def differing_field(old: Entry, new: Entry) -> str | None:
    """The first field where two entries with one key differ (None when identical)."""
    a, b = entry_record(old), entry_record(new)
    for name in a:
        if a[name] != b[name]:
            return name
    return None
