"""The plan file's schema (pydantic, unknown keys rejected), validated once at the edge."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from attain.core.money import MoneyFormatError, parse_decimal, parse_ratio


def _number(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError("expected a number, not true/false")
    if isinstance(value, float):
        raise ValueError("floats are not accepted; write the number plainly")
    if isinstance(value, Decimal | int):
        return Decimal(value)
    if isinstance(value, str):
        try:
            return parse_decimal(value)
        except MoneyFormatError as exc:
            raise ValueError(f"{exc}; write plain digits like 1800000 or 4.2") from None
    raise ValueError(f"expected a number, got {type(value).__name__}")


def _ratio(value: Any) -> Decimal:
    if isinstance(value, str):
        try:
            return parse_ratio(value)
        except MoneyFormatError:
            raise ValueError(f"expected a ratio like 70% or 0.7, got {value!r}") from None
    return _number(value)


Amount = Annotated[Decimal, BeforeValidator(_number)]
Ratio = Annotated[Decimal, BeforeValidator(_ratio)]
Identifier = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_.-]*$", max_length=80)]
PeriodName = Literal["month", "quarter", "half", "year"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class LimitModel(Strict):
    amount: Amount | None = None
    multiple_of_target: Ratio | None = None

    @model_validator(mode="after")
    def _one_of(self) -> LimitModel:
        if (self.amount is None) == (self.multiple_of_target is None):
            raise ValueError("give exactly one of amount or multiple_of_target")
        given = self.amount if self.amount is not None else self.multiple_of_target
        if given is not None and given < 0:
            raise ValueError(f"a cap or floor cannot be negative (got {given}): it would pay everyone below zero")
        return self

    def resolved(self, target: Decimal | None) -> Decimal | None:
        """The limit as an amount (a multiple of the target needs the target), None if unknown."""
        if self.amount is not None:
            return self.amount
        if target is None or self.multiple_of_target is None:
            return None
        return self.multiple_of_target * target


def check_cap_above_floor(cap: LimitModel | None, floor: LimitModel | None, target: Decimal | None) -> None:
    """A cap below its floor pays nonsense (the floor lifts what the cap cut): refuse it."""
    if cap is None or floor is None:
        return
    if cap.multiple_of_target is not None and floor.multiple_of_target is not None:
        low, high = floor.multiple_of_target, cap.multiple_of_target
    else:
        low, high = floor.resolved(target), cap.resolved(target)  # type: ignore[assignment]
    if low is not None and high is not None and high < low:
        raise ValueError(f"the cap ({high}) is below the floor ({low})")


class GateModel(Strict):
    when: str
    label: str = ""


class ReductionModel(Strict):
    when: str
    reduce_by: Ratio | None = None
    eliminate: bool = False
    label: str = ""

    @model_validator(mode="after")
    def _one_of(self) -> ReductionModel:
        if (self.reduce_by is None) == (not self.eliminate):
            raise ValueError("give exactly one of reduce_by (e.g. 50%) or eliminate: true")
        return self


class RateModel(Strict):
    derived: bool = False
    rate: Ratio | None = None
    multiplier: Ratio = Decimal(1)


RateSpec = Ratio | Literal["derived"] | RateModel


class ComponentModel(Strict):
    id: Identifier
    label: str = ""
    metric: Identifier
    period: PeriodName = "quarter"
    target_incentive: Amount | None = None
    quota: Amount | None = None
    quota_metric: Identifier | None = None
    gates: list[str | GateModel] = []
    reductions: list[ReductionModel] = []
    cap: LimitModel | None = None
    floor: LimitModel | None = None
    description: str = ""

    @model_validator(mode="after")
    def _limits(self) -> ComponentModel:
        check_cap_above_floor(self.cap, self.floor, self.target_incentive)
        return self


class MilestoneModel(ComponentModel):
    kind: Literal["milestone"]
    threshold: Ratio = Decimal(1)
    basis: Literal["attainment", "amount"] = "attainment"
    amount: Amount | None = None
    pays: Ratio | None = None
    inclusive: bool = True

    @model_validator(mode="after")
    def _payout(self) -> MilestoneModel:
        if (self.amount is None) == (self.pays is None):
            raise ValueError("a milestone needs exactly one of amount (e.g. 50000) or pays (share of target: 100%)")
        return self


class StepModel(Strict):
    at: Ratio
    pays: Ratio | None = None
    amount: Amount | None = None

    @model_validator(mode="after")
    def _payout(self) -> StepModel:
        if (self.amount is None) == (self.pays is None):
            raise ValueError("a step needs exactly one of pays (share of target) or amount")
        return self


class SteppedModel(ComponentModel):
    kind: Literal["stepped"]
    steps: list[StepModel] = Field(min_length=1)
    mode: Literal["highest", "additive"] = "highest"
    basis: Literal["attainment", "amount"] = "attainment"
    inclusive: bool = True


class FlatRateModel(ComponentModel):
    kind: Literal["flat_rate"]
    rate: RateSpec


class RateAboveModel(ComponentModel):
    kind: Literal["rate_above"]
    threshold: Ratio = Decimal(1)
    basis: Literal["attainment", "amount"] = "attainment"
    rate: RateSpec


class TierModel(Strict):
    lower: Ratio = Field(alias="from")
    upper: Ratio | None = Field(default=None, alias="to")
    rate: RateSpec | None = None
    multiplier: Ratio | None = None
    label: str = ""

    @model_validator(mode="after")
    def _rate(self) -> TierModel:
        if (self.rate is None) == (self.multiplier is None):
            raise ValueError("a tier needs exactly one of rate (e.g. 5%) or multiplier (x TI/quota)")
        return self


class TieredModel(ComponentModel):
    kind: Literal["tiered"]
    method: Literal["marginal", "retroactive"]
    basis: Literal["attainment", "amount"] = "attainment"
    boundary: Literal["lower", "upper"] = "upper"
    decelerating: bool = False
    tiers: list[TierModel] = Field(min_length=1)


class BandModel(Strict):
    above: Ratio | None = None
    below: Ratio | None = None
    multiplier: Ratio

    @model_validator(mode="after")
    def _side(self) -> BandModel:
        if (self.above is None) == (self.below is None):
            raise ValueError("a band needs exactly one of above or below")
        return self


class AcceleratorModel(ComponentModel):
    kind: Literal["accelerator"]
    rate: RateSpec = "derived"
    bands: list[BandModel] = Field(min_length=1)
    base_multiplier: Ratio = Decimal(1)


class BucketModel(Strict):
    id: Identifier
    share: Ratio
    split: Literal["equal", "share", "contribution"] = "equal"
    metric: Identifier | None = None
    label: str = ""


class PoolModel(ComponentModel):
    kind: Literal["pool"]
    team: str | None = None
    funding: dict[str, Any]
    buckets: list[BucketModel] = Field(min_length=1)


class WindowModel(Strict):
    start: date | None = Field(default=None, alias="from")
    end: date | None = Field(default=None, alias="to")


class SpiffModel(ComponentModel):
    kind: Literal["spiff"]
    metric: Identifier = "deals"
    period: PeriodName = "month"
    window: WindowModel = WindowModel()
    qualifies: str | None = None
    amount_per_deal: Amount | None = None
    rate: Ratio | None = None

    @model_validator(mode="after")
    def _payout(self) -> SpiffModel:
        if (self.amount_per_deal is None) == (self.rate is None):
            raise ValueError("a SPIFF needs exactly one of amount_per_deal or rate")
        return self


AnyComponent = Annotated[
    MilestoneModel | SteppedModel | FlatRateModel | RateAboveModel | TieredModel | AcceleratorModel
    | PoolModel | SpiffModel,
    Field(discriminator="kind"),
]


class MetricModel(Strict):
    sum: str | None = None
    count: Literal["deals"] | None = None
    average: Identifier | None = None
    latest: Identifier | None = None
    total: Identifier | None = None
    ratio: tuple[Identifier, Identifier] | None = None
    filter: str | None = None
    label: str = ""

    @model_validator(mode="after")
    def _one_of(self) -> MetricModel:
        given = [k for k in ("sum", "count", "average", "latest", "total", "ratio") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("a metric needs exactly one of sum, count, average, latest, total or ratio")
        if self.filter and given[0] not in ("sum", "count"):
            raise ValueError("only sum and count metrics filter deals")
        return self


class CreditingModel(Strict):
    date_basis: Literal["booked", "signed", "invoiced", "recognized"] = "booked"
    overlay_roles: list[str] = []
    rollup: bool = False
    partial_delivery: Literal["pro_rata", "full"] = "pro_rata"
    clawback_days: int | None = Field(default=None, ge=0)


class AssignModel(Strict):
    roles: list[str] = []
    teams: list[str] = []
    participants: list[str] = []


class RoundingModel(Strict):
    mode: Literal["half_up", "half_even", "half_down", "up", "down", "ceiling", "floor"] = "half_up"
    point: Literal["line", "deal"] = "line"


class PaymentModel(Strict):
    timing: Literal["monthly", "period_end", "campaign_end", "after_reconciliation"] = "period_end"


class DrawModel(Strict):
    amount: Amount
    months: int = Field(ge=1, le=36)
    recoverable: bool
    recovery_share: Ratio = Decimal(1)


class EffectiveModel(Strict):
    start: date | None = Field(default=None, alias="from")
    end: date | None = Field(default=None, alias="to")

    @model_validator(mode="after")
    def _ordered(self) -> EffectiveModel:
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError(f"effective.to ({self.end}) is before effective.from ({self.start})")
        return self


class ExampleDealModel(Strict):
    model_config = ConfigDict(extra="allow", frozen=True)
    id: str | None = None
    amount: Amount
    on: date


class ExampleModel(Strict):
    name: str
    period: str | None = None
    quota: dict[Identifier, Amount] = {}
    values: dict[Identifier, Amount] = {}
    deals: list[ExampleDealModel] = []
    expect: dict[Identifier, Amount] = Field(min_length=1)


class PlanModel(Strict):
    plan: Identifier
    name: str
    version: str = "1"
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "USD"
    description: str = ""
    effective: EffectiveModel = EffectiveModel()
    assign: AssignModel = AssignModel()
    crediting: CreditingModel = CreditingModel()
    rounding: RoundingModel = RoundingModel()
    payment: PaymentModel = PaymentModel()
    cap: LimitModel | None = None
    floor: LimitModel | None = None
    draw: DrawModel | None = None
    metrics: dict[Identifier, MetricModel] = Field(min_length=1)
    components: list[AnyComponent] = Field(min_length=1)
    clauses: dict[Identifier, str] = {}
    examples: list[ExampleModel] = []

    @model_validator(mode="after")
    def _plan_rules(self) -> PlanModel:
        target = sum((c.target_incentive or Decimal(0) for c in self.components), Decimal(0)) or None
        check_cap_above_floor(self.cap, self.floor, target)
        cycle = ratio_cycle({name: m.ratio for name, m in self.metrics.items() if m.ratio is not None})
        if cycle:
            raise ValueError("ratio metrics refer to each other in a circle: " + " -> ".join(cycle))
        return self


def ratio_cycle(ratios: dict[str, tuple[str, str]]) -> list[str]:
    """The first circle among ratio metrics (a metric whose numerator or denominator leads back to
    itself), as the names along it; empty when there is none."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(name: str) -> list[str]:
        state[name] = 1
        path.append(name)
        for part in ratios.get(name, ()):
            if state.get(part) == 1:
                return [*path[path.index(part):], part]
            if part in ratios and part not in state:
                found = visit(part)
                if found:
                    return found
        state[name] = 2
        path.pop()
        return []

    for name in sorted(ratios):
        if name not in state:
            found = visit(name)
            if found:
                return found
    return []
