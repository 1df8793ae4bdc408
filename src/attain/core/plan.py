"""Plan definitions: metrics, components (one dataclass per mechanic), gates, caps, pools, SPIFFs.

These are data only. A plan file is validated once at the edge (formats.plan_file) and
turned into these frozen dataclasses; the engine dispatches on the component's type
through one table (engine.mechanics.MECHANICS).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import Enum

from attain.core.expressions import Expr
from attain.core.money import DEFAULT_ROUNDING, ONE, RoundingPolicy
from attain.core.periods import PeriodKind
from attain.core.records import DateBasis


class Basis(Enum):
    """Whether thresholds and tier bounds are attainment ratios (1.0 = 100%) or metric amounts."""

    ATTAINMENT = "attainment"
    AMOUNT = "amount"


class BoundaryOwner(Enum):
    """Which tier owns a value exactly on a shared boundary: the tier below or the tier above."""

    LOWER = "lower"
    UPPER = "upper"


class StepMode(Enum):
    """A stepped bonus pays the highest step reached, or the sum of every step reached."""

    HIGHEST = "highest"
    ADDITIVE = "additive"


class Aggregate(Enum):
    """How a metric is computed for a payee and period."""

    SUM = "sum"
    COUNT = "count"
    AVERAGE = "average"
    LATEST = "latest"
    TOTAL = "total"
    RATIO = "ratio"


class SplitMethod(Enum):
    """How a pool bucket is divided among team members."""

    EQUAL = "equal"
    SHARE = "share"
    CONTRIBUTION = "contribution"


class PaymentTiming(Enum):
    """When earned pay is paid out."""

    MONTHLY = "monthly"
    PERIOD_END = "period_end"
    CAMPAIGN_END = "campaign_end"
    AFTER_RECONCILIATION = "after_reconciliation"


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricDef:
    """A named metric: a sum or count over credited deals, an observed value, or a ratio."""

    name: str
    aggregate: Aggregate
    field: str = "amount"
    observed: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    filter: Expr | None = None
    label: str = ""

    @property
    def uses_credits(self) -> bool:
        return self.aggregate in (Aggregate.SUM, Aggregate.COUNT)


@dataclass(frozen=True, slots=True, kw_only=True)
class Rate:
    """A per-unit rate: a fixed rate, or `multiplier` x the base rate derived as TI / quota."""

    fixed: Decimal | None = None
    multiplier: Decimal = ONE

    @property
    def derived(self) -> bool:
        return self.fixed is None

    def resolve(self, base_rate: Decimal | None) -> Decimal:
        """The effective rate; derived rates need the payee's base rate (TI / quota)."""
        if self.fixed is not None:
            return self.fixed * self.multiplier
        if base_rate is None:
            raise ValueError("a derived rate needs a target incentive and a quota")
        return base_rate * self.multiplier

    def describe(self) -> str:
        if self.fixed is not None:
            text = f"{self.fixed * 100:f}".rstrip("0").rstrip(".") + "%"
            return text if self.multiplier == ONE else f"{text} x {self.multiplier}"
        return "TI/quota" if self.multiplier == ONE else f"{self.multiplier}x TI/quota"


@dataclass(frozen=True, slots=True, kw_only=True)
class Tier:
    """One tier: [lower, upper) on the plan's basis (upper None = unbounded), paid at `rate`."""

    lower: Decimal
    upper: Decimal | None
    rate: Rate
    label: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """A stepped-bonus threshold and what reaching it pays (share of target or an amount)."""

    at: Decimal
    share_of_target: Decimal | None = None
    amount: Decimal | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Band:
    """An accelerator (above a threshold) or decelerator (below one): a rate multiplier."""

    threshold: Decimal
    above: bool
    multiplier: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class Gate:
    """A qualifier: the component pays only if the condition over metrics holds."""

    condition: Expr
    text: str
    label: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Reduction:
    """A reduction or elimination term: when the condition holds, cut the payout by a share."""

    condition: Expr
    text: str
    reduce_by: Decimal
    label: str = ""

    @property
    def eliminates(self) -> bool:
        return self.reduce_by >= ONE


@dataclass(frozen=True, slots=True, kw_only=True)
class Limit:
    """A cap or floor: an absolute amount or a multiple of the target incentive."""

    amount: Decimal | None = None
    multiple_of_target: Decimal | None = None

    def resolve(self, target_incentive: Decimal | None) -> Decimal:
        if self.amount is not None:
            return self.amount
        if self.multiple_of_target is None or target_incentive is None:
            raise ValueError("a limit as a multiple of target needs a target incentive")
        return self.multiple_of_target * target_incentive

    def describe(self) -> str:
        if self.amount is not None:
            return f"{self.amount:,}"
        return f"{self.multiple_of_target}x target incentive"


@dataclass(frozen=True, slots=True, kw_only=True)
class ComponentBase:
    """What every component has: its metric and period, target, quota source, gates and limits."""

    id: str
    label: str
    metric: str
    period: PeriodKind
    target_incentive: Decimal | None = None
    quota: Decimal | None = None
    quota_metric: str | None = None
    gates: tuple[Gate, ...] = ()
    reductions: tuple[Reduction, ...] = ()
    cap: Limit | None = None
    floor: Limit | None = None
    description: str = ""

    @property
    def quota_key(self) -> str:
        return self.quota_metric or self.metric


@dataclass(frozen=True, slots=True, kw_only=True)
class Milestone(ComponentBase):
    """Zero below the threshold, the whole amount at or above it; over-attainment changes nothing."""

    threshold: Decimal = ONE
    basis: Basis = Basis.ATTAINMENT
    amount: Decimal | None = None
    share_of_target: Decimal | None = None
    inclusive: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class Stepped(ComponentBase):
    """Several thresholds, each paying a share of target (highest step only, or additive)."""

    steps: tuple[Step, ...] = ()
    mode: StepMode = StepMode.HIGHEST
    basis: Basis = Basis.ATTAINMENT
    inclusive: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class FlatRate(ComponentBase):
    """One rate on all credited value."""

    rate: Rate = Rate()


@dataclass(frozen=True, slots=True, kw_only=True)
class RateAbove(ComponentBase):
    """A rate on the value above the threshold only."""

    threshold: Decimal = ONE
    basis: Basis = Basis.ATTAINMENT
    rate: Rate = Rate()


@dataclass(frozen=True, slots=True, kw_only=True)
class MarginalTiers(ComponentBase):
    """Graduated: each slice of the metric paid at its own tier's rate."""

    tiers: tuple[Tier, ...] = ()
    basis: Basis = Basis.ATTAINMENT
    boundary: BoundaryOwner = BoundaryOwner.UPPER


@dataclass(frozen=True, slots=True, kw_only=True)
class RetroactiveTiers(ComponentBase):
    """Volume: the whole metric paid at the rate of the tier reached."""

    tiers: tuple[Tier, ...] = ()
    basis: Basis = Basis.ATTAINMENT
    boundary: BoundaryOwner = BoundaryOwner.UPPER
    decelerating: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Accelerator(ComponentBase):
    """A base rate whose multiplier rises above (or falls below) attainment thresholds, marginally.

    `base_multiplier` applies where no band does; 0 makes an add-on that pays only in its bands
    (e.g. beside a milestone bonus, 1.5x the TI/quota rate on everything above 100%).
    """

    rate: Rate = Rate()
    bands: tuple[Band, ...] = ()
    base_multiplier: Decimal = ONE


@dataclass(frozen=True, slots=True, kw_only=True)
class PoolBucket:
    """A share of a pool, split among members equally, by a share metric, or by contribution."""

    id: str
    share: Decimal
    split: SplitMethod
    weight_metric: str | None = None
    label: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Pool(ComponentBase):
    """A team pool funded by the team's attainment and allocated to members through buckets.

    `metric` is summed over the team's members; the team quota is `quota` or the sum of the
    members' quotas. `funding` is any payout mechanic evaluated on the team's figures.
    """

    funding: ComponentBase | None = None
    buckets: tuple[PoolBucket, ...] = ()
    team: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Spiff(ComponentBase):
    """A one-off incentive per qualifying deal credited within a date window."""

    window_start: date | None = None
    window_end: date | None = None
    qualifies: Expr | None = None
    qualifies_text: str = ""
    amount_per_deal: Decimal | None = None
    rate: Decimal | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CreditingRules:
    """What counts toward attainment: date basis, overlays, roll-ups, delivery, clawback window."""

    date_basis: DateBasis = DateBasis.BOOKED
    overlay_roles: tuple[str, ...] = ()
    rollup: bool = False
    pro_rata_delivery: bool = True
    clawback_days: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Assignment:
    """Who the plan applies to in a stateless calculation: roles, teams or named participants."""

    roles: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    participants: tuple[str, ...] = ()

    def covers(self, participant_id: str, role: str, team: str) -> bool:
        if not (self.roles or self.teams or self.participants):
            return True
        return role in self.roles or team in self.teams or participant_id in self.participants


@dataclass(frozen=True, slots=True, kw_only=True)
class DrawTerms:
    """An advance against earnings: recoverable (paid back from later earnings) or not."""

    amount: Decimal
    months: int
    recoverable: bool
    recovery_share: Decimal = ONE


@dataclass(frozen=True, slots=True, kw_only=True)
class ExampleDeal:
    """A deal inside a worked example, credited wholly to the example's payee."""

    id: str
    amount: Decimal
    on: date
    fields: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Example:
    """A worked example carried by the plan: inputs and the payout expected per component."""

    name: str
    period: str | None
    quotas: tuple[tuple[str, Decimal], ...]
    values: tuple[tuple[str, Decimal], ...]
    deals: tuple[ExampleDeal, ...]
    expect: tuple[tuple[str, Decimal], ...]
    line: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """A compensation plan as code: metrics, components and the rules around them."""

    id: str
    name: str
    version: str
    currency: str
    metrics: tuple[MetricDef, ...]
    components: tuple[ComponentBase, ...]
    crediting: CreditingRules = CreditingRules()
    assignment: Assignment = Assignment()
    rounding: RoundingPolicy = DEFAULT_ROUNDING
    cap: Limit | None = None
    floor: Limit | None = None
    payment: PaymentTiming = PaymentTiming.PERIOD_END
    draw: DrawTerms | None = None
    effective_from: date | None = None
    effective_to: date | None = None
    description: str = ""
    clauses: tuple[tuple[str, str], ...] = ()
    examples: tuple[Example, ...] = ()
    source: str = ""
    content_hash: str = ""

    def metric(self, name: str) -> MetricDef | None:
        for metric in self.metrics:
            if metric.name == name:
                return metric
        return None

    def component(self, component_id: str) -> ComponentBase | None:
        for component in self.components:
            if component.id == component_id:
                return component
        return None
