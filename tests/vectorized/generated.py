"""Hypothesis strategies for the differential tests: generated plans and quarters of data."""

from __future__ import annotations

import re
from dataclasses import fields, is_dataclass
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import strategies as st

from attain.core.dataset import DataSet
from attain.core.expressions import parse
from attain.core.money import RoundingMode, RoundingPoint, RoundingPolicy
from attain.core.periods import PeriodKind
from attain.core.plan import (
    Accelerator,
    Aggregate,
    Assignment,
    Band,
    Basis,
    BoundaryOwner,
    CreditingRules,
    FlatRate,
    Gate,
    Limit,
    MarginalTiers,
    MetricDef,
    Milestone,
    Plan,
    Pool,
    PoolBucket,
    Rate,
    RateAbove,
    Reduction,
    RetroactiveTiers,
    Spiff,
    SplitMethod,
    Step,
    StepMode,
    Stepped,
    Tier,
)
from attain.core.records import (
    CurrencyRate,
    Deal,
    DealStatus,
    MetricObservation,
    OrgTerm,
    Participant,
    Quota,
    Split,
)

PAYEES = ("p1", "p2", "p3", "p4")
Q1_START = date(2026, 1, 1)
# Quotas with only 2s and 5s in them keep target incentive / quota a terminating decimal, where
# the reference itself is exact (see docs/scaling.md on derived rates).
QUOTAS = [Decimal(v) for v in ("400000", "500000", "1000000", "1250000", "2000000", "80000")]
GATES = [
    "csat >= 4.2",
    "csat >= 4 and bookings > 100000",
    "csat > 4.5 or attainment >= 1",
    "not (csat < 3)",
    "new_logos >= 1",
    "deal_count in [1, 2, 3]",
    "bookings / 2 > 50000",
    "min(csat, 5) >= 4",
]
REDUCTIONS = ["incidents > 0", "csat < 4", "attainment < 0.5"]

amounts = st.decimals(min_value=0, max_value=Decimal(900_000), places=2)
ratios = st.sampled_from([Decimal(v) for v in ("0.5", "0.8", "0.9", "1", "1.2", "1.5", "0.25")])
rates = st.sampled_from([Decimal(v) for v in ("0.02", "0.05", "0.08", "0.1", "0.035", "0")])


FIGURE_KINDS = ["milestone", "stepped", "flat", "above", "marginal", "retro", "accel"]
# Pool buckets: shares summing to 100%, and what each is split by (None: the pool's own metric).
BUCKET_SHARES = [(Decimal(1),), (Decimal("0.6"), Decimal("0.3"), Decimal("0.1")), (Decimal("0.5"), Decimal("0.5")),
                 (Decimal("0.34"), Decimal("0.33"), Decimal("0.33")), (Decimal("0.7"), Decimal("0.3"))]
WEIGHT_METRICS = [None, None, "csat", "incidents", "bookings", "deal_count", "new_bookings"]


@st.composite
def rate(draw: st.DrawFn, fixed: bool = False) -> Rate:
    if fixed or draw(st.booleans()):
        return Rate(fixed=draw(rates))
    return Rate(multiplier=draw(st.sampled_from([Decimal("1"), Decimal("1.5"), Decimal("0.5")])))


@st.composite
def adjustments(draw: st.DrawFn) -> dict[str, object]:
    extra: dict[str, object] = {}
    if draw(st.booleans()):
        texts = draw(st.lists(st.sampled_from(GATES), max_size=2, unique=True))
        extra["gates"] = tuple(Gate(condition=parse(t), text=t) for t in texts)
    if draw(st.booleans()):
        texts = draw(st.lists(st.sampled_from(REDUCTIONS), max_size=2, unique=True))
        extra["reductions"] = tuple(Reduction(condition=parse(t), text=t, reduce_by=draw(
            st.sampled_from([Decimal("0.5"), Decimal("1"), Decimal("0.25")]))) for t in texts)
    if draw(st.booleans()):
        extra["cap"] = draw(st.sampled_from([Limit(amount=Decimal("20000")), Limit(multiple_of_target=Decimal(2))]))
    if draw(st.integers(0, 4)) == 0:
        extra["floor"] = Limit(amount=Decimal("1000"))
    return extra


@st.composite
def tiers(draw: st.DrawFn, basis: Basis, fixed: bool = False) -> tuple[Tier, ...]:
    scale = Decimal(1) if basis is Basis.ATTAINMENT else Decimal(1_000_000)
    bounds = sorted(draw(st.sets(st.sampled_from([Decimal(v) for v in ("0.5", "0.8", "1", "1.2", "1.5")]),
                                 max_size=3)))
    lowers = [Decimal(0), *(b * scale for b in bounds)]
    uppers = [*(b * scale for b in bounds), None]
    if draw(st.booleans()) and uppers[-1] is None and len(uppers) > 1:
        uppers[-1] = lowers[-1] * 2 if lowers[-1] else scale
    return tuple(Tier(lower=lo, upper=up, rate=draw(rate(fixed))) for lo, up in zip(lowers, uppers, strict=True))


def _base(draw: st.DrawFn, index: int, period: PeriodKind) -> dict[str, object]:
    return {"id": f"c{index}", "label": f"Component {index}", "metric": draw(st.sampled_from(
        ["bookings", "bookings", "new_bookings", "deal_count"])), "period": period,
        "target_incentive": draw(st.sampled_from([Decimal("10000"), Decimal("50000"), Decimal("7500")])),
        "quota": draw(st.sampled_from([None, None, None, Decimal("250000")])), **draw(adjustments())}


@st.composite
def component(draw: st.DrawFn, index: int, fixed: bool = False, kinds: tuple[str, ...] | None = None,
              period: PeriodKind | None = None) -> object:
    """A component of any kind; `fixed`: every rate fixed (none derived from target / quota)."""
    kind = draw(st.sampled_from(list(kinds or (*FIGURE_KINDS, "spiff", "pool"))))
    if period is None:
        period = draw(st.sampled_from([PeriodKind.QUARTER, PeriodKind.QUARTER, PeriodKind.MONTH]))
    base = _base(draw, index, period)
    if kind == "pool":
        return draw(pool(base))
    basis = draw(st.sampled_from([Basis.ATTAINMENT, Basis.AMOUNT]))
    if kind == "milestone":
        threshold = draw(ratios) if basis is Basis.ATTAINMENT else draw(ratios) * 500_000
        return Milestone(**base, threshold=threshold, basis=basis, inclusive=draw(st.booleans()),
                         amount=draw(st.sampled_from([None, Decimal("5000")])), share_of_target=Decimal("1"))
    if kind == "stepped":
        ats = sorted(draw(st.sets(ratios, min_size=1, max_size=3)))
        steps = tuple(Step(at=a if basis is Basis.ATTAINMENT else a * 500_000,
                           share_of_target=draw(st.sampled_from([Decimal("0.5"), Decimal("1"), Decimal("1.5")])))
                      for a in ats)
        return Stepped(**base, steps=steps, basis=basis, inclusive=draw(st.booleans()),
                       mode=draw(st.sampled_from(list(StepMode))))
    if kind == "flat":
        return FlatRate(**base, rate=Rate(fixed=draw(rates)))
    if kind == "above":
        threshold = draw(ratios) if basis is Basis.ATTAINMENT else draw(ratios) * 500_000
        r = draw(rate(fixed)) if basis is Basis.ATTAINMENT else Rate(fixed=draw(rates))
        return RateAbove(**base, threshold=threshold, basis=basis, rate=r)
    if kind == "marginal":
        ladder = draw(tiers(basis, fixed))
        if basis is Basis.AMOUNT:
            ladder = tuple(Tier(lower=t.lower, upper=t.upper, rate=Rate(fixed=draw(rates))) for t in ladder)
        return MarginalTiers(**base, tiers=ladder, basis=basis, boundary=draw(st.sampled_from(list(BoundaryOwner))))
    if kind == "retro":
        ladder = draw(tiers(basis, fixed))
        if basis is Basis.AMOUNT:
            ladder = tuple(Tier(lower=t.lower, upper=t.upper, rate=Rate(fixed=draw(rates))) for t in ladder)
        return RetroactiveTiers(**base, tiers=ladder, basis=basis,
                                boundary=draw(st.sampled_from(list(BoundaryOwner))))
    if kind == "accel":
        bands = tuple(Band(threshold=t, above=t >= 1, multiplier=draw(st.sampled_from(
            [Decimal("1.5"), Decimal("2"), Decimal("0.5")]))) for t in sorted(draw(st.sets(ratios, max_size=2))))
        return Accelerator(**base, rate=draw(rate(fixed)), bands=bands,
                           base_multiplier=draw(st.sampled_from([Decimal(1), Decimal(0)])))
    window_start = Q1_START + timedelta(days=draw(st.integers(0, 60)))
    return Spiff(**base, window_start=window_start, window_end=window_start + timedelta(days=draw(st.integers(0, 40))),
                 qualifies=draw(st.sampled_from([None, parse("deal_type == 'new_logo'"), parse("amount > 100000")])),
                 amount_per_deal=draw(st.sampled_from([Decimal("500"), None])), rate=Decimal("0.01"))


@st.composite
def pool(draw: st.DrawFn, base: dict[str, object]) -> Pool:
    """A team pool: the team's total funds a figure mechanic; buckets split it equally, by a share
    metric or by contribution, among the team's members (the payee's own team, or a named one)."""
    base = {**base, "metric": draw(st.sampled_from(["bookings", "bookings", "new_bookings", "deal_count",
                                                    "incidents"]))}
    funding = draw(component(0, kinds=tuple(FIGURE_KINDS), period=base["period"]))  # type: ignore[arg-type]
    buckets = []
    for k, share in enumerate(draw(st.sampled_from(BUCKET_SHARES))):
        split = draw(st.sampled_from(list(SplitMethod)))
        weight = None if split is SplitMethod.EQUAL else draw(st.sampled_from(WEIGHT_METRICS))
        buckets.append(PoolBucket(id=f"b{k}", share=share, split=split, weight_metric=weight, label=f"Bucket {k}"))
    quota = draw(st.sampled_from([None, None, Decimal("1000000"), Decimal("250000")]))
    team = draw(st.sampled_from([None, None, None, "east", "north"]))
    return Pool(**{**base, "quota": quota, "quota_metric": draw(st.sampled_from([None, "bookings"]))},
                funding=funding, buckets=tuple(buckets), team=team)


@st.composite
def plans(draw: st.DrawFn, pools: bool = False) -> Plan:
    """A plan of one to three components; `pools`: the first is a team pool."""
    count = draw(st.integers(1, 3))
    point = draw(st.sampled_from([RoundingPoint.LINE, RoundingPoint.LINE, RoundingPoint.DEAL]))
    # Per deal, the vectorized executor refuses rates derived as target incentive / quota.
    fixed = point is RoundingPoint.DEAL
    components = tuple(draw(component(i, fixed, kinds=("pool",) if pools and i == 0 else None))
                       for i in range(count))
    return Plan(
        id="gen", name="Generated", version="1", currency="USD",
        metrics=(
            MetricDef(name="bookings", aggregate=Aggregate.SUM),
            MetricDef(name="new_bookings", aggregate=Aggregate.SUM, filter=parse("deal_type == 'new_logo'")),
            MetricDef(name="deal_count", aggregate=Aggregate.COUNT),
            MetricDef(name="new_logos", aggregate=Aggregate.COUNT, filter=parse("deal_type == 'new_logo'")),
            MetricDef(name="csat", aggregate=Aggregate.AVERAGE),
            MetricDef(name="incidents", aggregate=Aggregate.TOTAL),
        ),
        components=components,
        crediting=CreditingRules(overlay_roles=("se",), rollup=draw(st.booleans()),
                                 pro_rata_delivery=draw(st.booleans())),
        assignment=draw(st.sampled_from([Assignment(), Assignment(roles=("ae",)), Assignment(teams=("east",))])),
        rounding=RoundingPolicy(mode=draw(st.sampled_from(list(RoundingMode))), point=point),
    )


@st.composite
def datasets(draw: st.DrawFn) -> DataSet:
    people = [Participant(id="m1", name="Manager", role="manager", team="east")]
    for pid in PAYEES:
        start = draw(st.sampled_from([None, None, date(2026, 2, 10)]))
        people.append(Participant(id=pid, name=pid.upper(), role="ae", team=draw(st.sampled_from(["east", "west"])),
                                  manager_id="m1", start_date=start))
    people.append(Participant(id="se1", name="SE", role="se", team="east"))
    deals, splits = [], []
    for n in range(draw(st.integers(0, 10))):
        deal_id = f"d{n:02d}"
        owner = draw(st.sampled_from(PAYEES))
        booked = Q1_START + timedelta(days=draw(st.integers(-10, 95)))
        currency = draw(st.sampled_from(["USD", "USD", "EUR"]))
        deals.append(Deal(
            id=deal_id, owner_id=owner, amount=draw(amounts), currency=currency,
            status=draw(st.sampled_from([DealStatus.WON, DealStatus.WON, DealStatus.CANCELLED, DealStatus.OPEN])),
            booked_on=booked, delivered=draw(st.sampled_from([Decimal(1), Decimal(1), Decimal("0.5")])),
            fields=(("deal_type", draw(st.sampled_from(["new_logo", "renewal", ""]))),),
        ))
        shape = draw(st.integers(0, 4))
        if shape == 1:
            other = draw(st.sampled_from(PAYEES))
            share = draw(st.sampled_from([Decimal("0.5"), Decimal("0.6"), Decimal("0.25")]))
            splits += [Split(deal_id=deal_id, participant_id=owner, share=share),
                       Split(deal_id=deal_id, participant_id=other, share=1 - share)]
        elif shape == 2:
            splits.append(Split(deal_id=deal_id, participant_id="se1", share=Decimal(1), role="se"))
        elif shape == 3:
            splits += [Split(deal_id=deal_id, participant_id=owner, share=Decimal("0.6")),
                       Split(deal_id=deal_id, participant_id="p2", share=Decimal("0.3"))]
    quotas, observations = [], []
    for pid in PAYEES:
        how = draw(st.integers(0, 3))
        amount = draw(st.sampled_from(QUOTAS))
        if how in (0, 1):
            quotas.append(Quota(participant_id=pid, metric="bookings", period="2026-Q1", amount=amount))
        elif how == 2:
            quotas += [Quota(participant_id=pid, metric="bookings", period=f"2026-0{m}", amount=amount)
                       for m in (1, 2, 3)]
        for month in (1, 2, 3):
            if draw(st.booleans()):
                observations.append(MetricObservation(participant_id=pid, metric="csat", period=f"2026-0{month}",
                                                      value=draw(st.sampled_from([Decimal(v) for v in
                                                                                  ("3.5", "4.2", "4.8", "5")]))))
        if draw(st.booleans()):
            observations.append(MetricObservation(participant_id=pid, metric="incidents", period="2026-Q1",
                                                  value=draw(st.sampled_from([Decimal(0), Decimal(2)]))))
    for pid in PAYEES:
        quotas.append(Quota(participant_id=pid, metric="new_bookings", period="2026", amount=Decimal("4000000")))
        quotas.append(Quota(participant_id=pid, metric="deal_count", period="2026-Q1", amount=Decimal("4")))
        # A month's own count quota: a third of the quarter's would not terminate (the reference
        # engine rounds 1/3 to 38 digits, and a count x a derived rate lands on whole cents).
        quotas += [Quota(participant_id=pid, metric="deal_count", period=f"2026-0{m}", amount=Decimal("2"))
                   for m in (1, 2, 3)]
    rates = [CurrencyRate(from_currency="EUR", to_currency="USD", on=date(2026, 1, 1), rate=Decimal("1.1")),
             CurrencyRate(from_currency="USD", to_currency="EUR", on=date(2026, 2, 15), rate=Decimal("0.8"))]
    terms = [OrgTerm(participant_id=p.id, role=p.role, team=p.team, manager_id=p.manager_id) for p in people]
    if draw(st.booleans()):
        # One payee changes team mid-quarter (a monthly pool counts them in each month's team).
        index = draw(st.integers(1, len(PAYEES)))
        mover, moved_on = people[index], Q1_START + timedelta(days=draw(st.sampled_from([20, 45, 75])))
        other = "west" if mover.team == "east" else "east"
        terms[index] = OrgTerm(participant_id=mover.id, role=mover.role, team=mover.team,
                               manager_id=mover.manager_id, effective_to=moved_on)
        terms.append(OrgTerm(participant_id=mover.id, role=mover.role, team=other, manager_id=mover.manager_id,
                             effective_from=moved_on))
    return DataSet(participants=tuple(people), org_terms=tuple(terms), deals=tuple(deals), splits=tuple(splits),
                   quotas=tuple(quotas), observations=tuple(observations), rates=tuple(rates))


_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


def _canonical_text(text: str) -> str:
    """Numbers in words compared by value (a database decimal carries more trailing zeros)."""
    return _NUMBER.sub(lambda m: str(Decimal(m.group().replace(",", "")).normalize()), text)


def differences(ref: object, vec: object, path: str = "") -> list[str]:
    """Where two results differ: amounts exactly, unrounded figures to 1e-18, words by their numbers."""
    if is_dataclass(ref) and is_dataclass(vec):
        found = []
        for f in fields(ref):  # type: ignore[arg-type]
            found += differences(getattr(ref, f.name), getattr(vec, f.name), f"{path}.{f.name}")
        return found
    if isinstance(ref, tuple) and isinstance(vec, tuple):
        if len(ref) != len(vec):
            return [f"{path}: {len(ref)} items vs {len(vec)}"]
        found = []
        for i, (a, b) in enumerate(zip(ref, vec, strict=True)):
            found += differences(a, b, f"{path}[{i}]")
        return found
    if isinstance(ref, Decimal) and isinstance(vec, Decimal):
        exact = any(path.endswith(s) for s in (".amount", ".limit"))
        if (ref != vec) if exact else abs(ref - vec) > Decimal("1e-18") * max(1, abs(ref)):
            return [f"{path}: {ref} vs {vec}"]
        return []
    if isinstance(ref, str) and isinstance(vec, str):
        return [] if _canonical_text(ref) == _canonical_text(vec) else [f"{path}: {ref!r} vs {vec!r}"]
    return [] if ref == vec else [f"{path}: {ref!r} vs {vec!r}"]
