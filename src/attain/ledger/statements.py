"""Statements: a payee's entries in one pay period with their explanations; the total is their sum."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from attain.core.money import ZERO
from attain.ledger.entries import Entry, EntryKind


@dataclass(frozen=True, slots=True, kw_only=True)
class Statement:
    """What a payee earned (and was paid) in a pay period, entry by entry."""

    participant_id: str
    period: str
    state: str
    lines: tuple[Entry, ...]
    payments: tuple[Entry, ...]

    @property
    def total(self) -> Decimal:
        return sum((e.amount for e in self.lines), ZERO)

    @property
    def paid(self) -> Decimal:
        return sum((e.amount for e in self.payments), ZERO)

    @property
    def currencies(self) -> tuple[str, ...]:
        return tuple(sorted({e.currency for e in (*self.lines, *self.payments)}))

    @property
    def earlier_periods(self) -> tuple[str, ...]:
        """Origin periods other than this one that lines refer back to (late true-ups, clawbacks)."""
        return tuple(sorted({e.origin for e in self.lines if e.origin != self.period}))


def build_statement(entries: Sequence[Entry], participant_id: str, period: str, state: str) -> Statement:
    """The statement of `participant_id` for pay period `period`, in posting order."""
    mine = [e for e in entries if e.participant_id == participant_id and e.period == period]
    return Statement(
        participant_id=participant_id, period=period, state=state,
        lines=tuple(e for e in mine if e.kind is not EntryKind.PAYMENT),
        payments=tuple(e for e in mine if e.kind is EntryKind.PAYMENT),
    )
