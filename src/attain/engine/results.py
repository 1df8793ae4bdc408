"""Payout lines and their reasons: what the engine returns and every renderer only reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from attain.core.expressions import Clause
from attain.core.money import ZERO
from attain.core.problems import Problem
from attain.engine.exact import shown


@dataclass(frozen=True, slots=True, kw_only=True)
class Slice:
    """One piece of a payout: a tier slice, a step reached, a band, or a milestone hit.

    `lower`/`upper` are on the mechanic's basis (attainment ratio or metric amount); `base` is the
    metric amount the rate applied to (None for fixed payouts); `amount` is unrounded.
    """

    label: str
    lower: Decimal | None
    upper: Decimal | None
    base: Decimal | None
    rate: Decimal | None
    amount: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """What a mechanic pays on given figures, before gates, reductions, limits and rounding."""

    amount: Decimal
    slices: tuple[Slice, ...] = ()
    note: str = ""
    # The exact amount when `amount` (shown to 38 digits) is a fraction's approximation.
    exact: Fraction | None = None

    @property
    def exact_amount(self) -> Fraction:
        return self.exact if self.exact is not None else Fraction(self.amount)


@dataclass(frozen=True, slots=True, kw_only=True)
class Figures:
    """The numbers a mechanic pays on: the metric value, the quota and the target incentive."""

    value: Decimal
    quota: Decimal | None
    target_incentive: Decimal | None

    @property
    def attainment(self) -> Decimal | None:
        """Value / quota as shown (38 digits); mechanics compare `exact_attainment`."""
        exact = self.exact_attainment
        return None if exact is None else shown(exact)

    @property
    def base_rate(self) -> Decimal | None:
        """The OTE-derived rate as shown: target incentive / quota."""
        exact = self.exact_base_rate
        return None if exact is None else shown(exact)

    @property
    def exact_attainment(self) -> Fraction | None:
        if self.quota is None or self.quota == 0:
            return None
        return Fraction(self.value) / Fraction(self.quota)

    @property
    def exact_base_rate(self) -> Fraction | None:
        """The OTE-derived rate, exactly: target incentive / quota."""
        if self.quota is None or self.quota == 0 or self.target_incentive is None:
            return None
        return Fraction(self.target_incentive) / Fraction(self.quota)



@dataclass(frozen=True, slots=True, kw_only=True)
class MetricReading:
    """The metric a line was measured on, its quota and the attainment."""

    name: str
    value: Decimal | None
    quota: Decimal | None
    attainment: Decimal | None
    quota_note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class GateResult:
    """A gate and each of its clauses with the values they compared."""

    text: str
    label: str
    passed: bool
    clauses: tuple[Clause, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ReductionResult:
    """A reduction or elimination term: whether it applied and what it took."""

    text: str
    label: str
    applied: bool
    reduce_by: Decimal
    before: Decimal
    after: Decimal
    clauses: tuple[Clause, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class LimitResult:
    """A cap or floor, component- or plan-level, and whether it bound."""

    kind: str
    scope: str
    limit: Decimal
    description: str
    before: Decimal
    after: Decimal

    @property
    def applied(self) -> bool:
        return self.before != self.after


@dataclass(frozen=True, slots=True, kw_only=True)
class DealAttribution:
    """The part of a line owed to one deal (delta method), with the credit behind it."""

    deal_id: str
    credit_date: date
    credit: Decimal
    amount: Decimal
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PoolShare:
    """How a pool line was reached: the team's pool and the payee's share of each bucket."""

    team: str
    members: tuple[str, ...]
    team_value: Decimal
    team_quota: Decimal | None
    pool_amount: Decimal
    buckets: tuple[tuple[str, str, Decimal, Decimal, Decimal], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class PayoutLine:
    """One component's payout for one payee and period, rounded, with every reason behind it."""

    participant_id: str
    plan_id: str
    plan_version: str
    component_id: str
    component_label: str
    kind: str
    period: str
    currency: str
    amount: Decimal
    gross: Decimal
    metric: MetricReading
    target_incentive: Decimal | None = None
    base_rate: Decimal | None = None
    slices: tuple[Slice, ...] = ()
    gates: tuple[GateResult, ...] = ()
    reductions: tuple[ReductionResult, ...] = ()
    limits: tuple[LimitResult, ...] = ()
    deals: tuple[DealAttribution, ...] = ()
    pool: PoolShare | None = None
    notes: tuple[str, ...] = ()

    @property
    def gated_out(self) -> bool:
        return any(not g.passed for g in self.gates)


@dataclass(frozen=True, slots=True, kw_only=True)
class PayeeResult:
    """One payee's lines for a calculation period; the total is the sum of the rounded lines."""

    participant_id: str
    name: str
    role: str
    team: str
    plan_id: str
    plan_name: str
    plan_version: str
    period: str
    currency: str
    lines: tuple[PayoutLine, ...]

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), ZERO)


@dataclass(frozen=True, slots=True, kw_only=True)
class CalcResult:
    """Every payee's result for one period, and the problems met (never silently dropped)."""

    period: str
    payees: tuple[PayeeResult, ...]
    problems: tuple[Problem, ...] = ()

    def payee(self, participant_id: str) -> PayeeResult | None:
        for payee in self.payees:
            if payee.participant_id == participant_id:
                return payee
        return None

    @property
    def lines(self) -> tuple[PayoutLine, ...]:
        return tuple(line for payee in self.payees for line in payee.lines)
