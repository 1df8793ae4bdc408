"""The facts a calculation reads: participants, org terms, deals, splits, quotas, metrics, rates."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import Enum

from attain.core.money import ONE


@dataclass(frozen=True, slots=True, kw_only=True)
class Participant:
    """A payee: a rep, manager, CSM, SDR, partner manager or outside agency."""

    id: str
    name: str
    role: str
    team: str = ""
    manager_id: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    currency: str | None = None
    # Shares of full quota in the first months of tenure (month of start_date first); () = none.
    ramp: tuple[Decimal, ...] = ()

    def active_on(self, day: date) -> bool:
        return (self.start_date is None or self.start_date <= day) and (
            self.end_date is None or day <= self.end_date
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class OrgTerm:
    """Where a participant sat in the org over [effective_from, effective_to): team and manager."""

    participant_id: str
    role: str
    team: str
    manager_id: str | None
    effective_from: date | None = None
    effective_to: date | None = None

    def holds_on(self, day: date) -> bool:
        return (self.effective_from is None or self.effective_from <= day) and (
            self.effective_to is None or day < self.effective_to
        )


class DealStatus(Enum):
    """Where a deal stands; only won deals earn credit, cancelled ones reverse it."""

    OPEN = "open"
    WON = "won"
    CANCELLED = "cancelled"


class DateBasis(Enum):
    """Which of a deal's dates decides the period it is credited in."""

    BOOKED = "booked"
    SIGNED = "signed"
    INVOICED = "invoiced"
    RECOGNIZED = "recognized"


@dataclass(frozen=True, slots=True, kw_only=True)
class Deal:
    """One version of a deal as recorded: amounts, dates, status and custom fields."""

    id: str
    owner_id: str
    amount: Decimal
    currency: str
    status: DealStatus
    booked_on: date | None = None
    signed_on: date | None = None
    invoiced_on: date | None = None
    recognized_on: date | None = None
    cancelled_on: date | None = None
    delivered: Decimal = ONE
    fields: tuple[tuple[str, str], ...] = ()

    def date_for(self, basis: DateBasis) -> date | None:
        return {
            DateBasis.BOOKED: self.booked_on,
            DateBasis.SIGNED: self.signed_on,
            DateBasis.INVOICED: self.invoiced_on,
            DateBasis.RECOGNIZED: self.recognized_on,
        }[basis]

    def field_map(self) -> dict[str, str]:
        return dict(self.fields)


@dataclass(frozen=True, slots=True, kw_only=True)
class Split:
    """A share of a deal's credit to a participant; overlay roles get full credit beside the owner."""

    deal_id: str
    participant_id: str
    share: Decimal
    role: str = "split"


@dataclass(frozen=True, slots=True, kw_only=True)
class Quota:
    """A participant's goal on a metric for a period (already prorated or ramped when resolved)."""

    participant_id: str
    metric: str
    period: str
    amount: Decimal
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class QuotaEntry:
    """A quota as recorded: `amount` from `effective_from` (None: the whole period) and why.

    Several entries for one participant, metric and period are changes over time; they are
    resolved (with proration and ramps) into one `Quota` per period.
    """

    participant_id: str
    metric: str
    period: str
    amount: Decimal
    effective_from: date | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricObservation:
    """An observed value (CSAT, renewal rate, meetings held, dwell time...) for a period."""

    participant_id: str
    metric: str
    period: str
    value: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class CurrencyRate:
    """Units of `to_currency` per one unit of `from_currency`, from `on` until the next rate."""

    from_currency: str
    to_currency: str
    on: date
    rate: Decimal


class CreditRule(Enum):
    """Why a participant was credited with part of a deal."""

    OWNER = "owner"
    SPLIT = "split"
    OVERLAY = "overlay"
    ROLLUP = "rollup"


@dataclass(frozen=True, slots=True, kw_only=True)
class Credit:
    """The part of a deal that counts toward one participant's attainment, with its reasons."""

    deal_id: str
    participant_id: str
    amount: Decimal
    credit_date: date
    rule: CreditRule
    share: Decimal
    basis: DateBasis
    deal_amount: Decimal
    deal_currency: str
    fx_rate: Decimal = ONE
    delivered: Decimal = ONE
    via: str | None = None
    fields: tuple[tuple[str, str], ...] = field(default=())

    def describe(self) -> str:
        """One line of why: `deal D-1, split 50% of 10,000.00 EUR at 1.1, booked 2026-02-03`."""
        parts = [f"deal {self.deal_id}", f"{self.rule.value} {self.share * 100:.4g}%"]
        parts.append(f"of {self.deal_amount:,} {self.deal_currency}")
        if self.delivered != ONE:
            parts.append(f"delivered {self.delivered * 100:.4g}%")
        if self.fx_rate != ONE:
            parts.append(f"fx {self.fx_rate}")
        if self.via:
            parts.append(f"via {self.via}")
        parts.append(f"{self.basis.value} {self.credit_date.isoformat()}")
        return ", ".join(parts)


class DealValues(dict[str, object]):
    """A deal's values for a filter. A custom field the deal does not carry (a blank cell, or a
    column another source has and this one lacks) has no value, like SQL NULL: a comparison with
    it is not true. Both executors read deals this way."""

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str)

    def __missing__(self, name: str) -> object:
        return None


def deal_values(credit: Credit) -> Mapping[str, object]:
    """The names a deal filter may use for a credit: custom fields plus the standard columns."""
    values = DealValues(credit.fields)
    values.update(
        deal_id=credit.deal_id,
        amount=credit.amount,
        deal_amount=credit.deal_amount,
        currency=credit.deal_currency,
        credit_date=credit.credit_date,
        rule=credit.rule.value,
        share=credit.share,
    )
    return values


