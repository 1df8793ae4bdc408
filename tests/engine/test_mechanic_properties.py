"""Invariants of the mechanics, checked by Hypothesis over generated tiers, deals and pools."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from attain.core.dataset import DataSet
from attain.core.money import allocate
from attain.core.periods import PeriodKind, parse_period
from attain.core.plan import (
    Aggregate,
    Basis,
    BoundaryOwner,
    FlatRate,
    Limit,
    MarginalTiers,
    MetricDef,
    Plan,
    Pool,
    PoolBucket,
    Rate,
    RetroactiveTiers,
    SplitMethod,
    Step,
    Stepped,
    Tier,
)
from attain.core.records import Deal, DealStatus, Participant, Quota
from attain.engine.mechanics import marginal_tiers, retroactive_tiers
from attain.engine.reference import calculate
from attain.engine.results import Figures

rates = st.decimals(min_value=0, max_value=Decimal("0.3"), places=3)
amounts = st.decimals(min_value=0, max_value=Decimal(5_000_000), places=2)
QUOTA = Decimal(1_000_000)


@st.composite
def tier_ladders(draw, rising: bool = False) -> tuple[Tier, ...]:
    bounds = sorted(draw(st.sets(st.decimals(min_value=Decimal("0.05"), max_value=3, places=2), max_size=4)))
    tier_rates = draw(st.lists(rates, min_size=len(bounds) + 1, max_size=len(bounds) + 1))
    if rising:
        tier_rates = sorted(tier_rates)
    lowers = [Decimal(0), *bounds]
    uppers = [*bounds, None]
    ladder = zip(lowers, uppers, tier_rates, strict=True)
    return tuple(Tier(lower=lo, upper=up, rate=Rate(fixed=r)) for lo, up, r in ladder)


def marginal(tiers: tuple[Tier, ...]) -> MarginalTiers:
    return MarginalTiers(id="m", label="m", metric="bookings", period=PeriodKind.QUARTER, tiers=tiers)


def pay_marginal(component: MarginalTiers, value: Decimal) -> Decimal:
    return marginal_tiers.pay(component, Figures(value=value, quota=QUOTA, target_incentive=None)).amount


@given(tier_ladders(), st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(10), places=4))
def test_marginal_tiers_are_continuous_at_their_bounds(tiers, epsilon):
    component = marginal(tiers)
    top_rate = max(t.rate.fixed for t in tiers)
    for tier in tiers[1:]:
        at = tier.lower * QUOTA
        jump = pay_marginal(component, at) - pay_marginal(component, at - epsilon)
        assert 0 <= jump <= top_rate * epsilon


@given(tier_ladders(rising=True), amounts, amounts, st.sampled_from(list(BoundaryOwner)))
def test_retroactive_tiers_never_pay_less_at_higher_attainment(tiers, a, b, boundary):
    component = RetroactiveTiers(id="r", label="r", metric="bookings", period=PeriodKind.QUARTER, tiers=tiers,
                                 boundary=boundary)
    low, high = sorted((a, b))
    pay = [retroactive_tiers.pay(component, Figures(value=v, quota=QUOTA, target_incentive=None)).amount
           for v in (low, high)]
    assert pay[0] <= pay[1]


@given(st.decimals(min_value=-1000, max_value=10**9, places=2),
       st.lists(st.decimals(min_value=0, max_value=10**6, places=3), min_size=1, max_size=30)
       .filter(lambda ws: sum(ws) > 0))
def test_allocation_sums_exactly_to_the_whole(total, weights):
    shares = allocate(total, weights, Decimal("0.01"))
    assert sum(shares) == total
    assert all(abs(s - total * w / sum(weights)) < Decimal("0.01") for s, w in zip(shares, weights, strict=True))


BOOKINGS = MetricDef(name="bookings", aggregate=Aggregate.SUM)


def plan_of(*components, cap: Limit | None = None) -> Plan:
    return Plan(id="p", name="p", version="1", currency="USD", metrics=(BOOKINGS,), components=components, cap=cap)


@st.composite
def deal_books(draw, owners=("a",)) -> tuple[Deal, ...]:
    count = draw(st.integers(min_value=1, max_value=12))
    deals = []
    for i in range(count):
        on = date(2026, 1, 1) + timedelta(days=draw(st.integers(min_value=0, max_value=89)))
        deals.append(Deal(id=f"D{i:02d}", owner_id=draw(st.sampled_from(owners)),
                          amount=draw(st.decimals(min_value=1, max_value=900_000, places=2)), currency="USD",
                          status=DealStatus.WON, booked_on=on))
    return tuple(deals)


def data_for(deals, owners=("a",)) -> DataSet:
    return DataSet(participants=tuple(Participant(id=o, name=o, role="ae", team="t") for o in owners), deals=deals,
                   quotas=tuple(Quota(participant_id=o, metric="bookings", period="2026-Q1", amount=QUOTA)
                                for o in owners))


@settings(max_examples=60)
@given(tier_ladders(), deal_books(), st.sampled_from([None, Decimal(5000), Decimal(50000)]))
def test_per_deal_attribution_sums_to_the_component_and_no_cap_is_exceeded(tiers, deals, cap_amount):
    cap = None if cap_amount is None else Limit(amount=cap_amount)
    component = MarginalTiers(id="m", label="m", metric="bookings", period=PeriodKind.QUARTER, tiers=tiers, cap=cap)
    (line,) = calculate(plan_of(component), data_for(deals), parse_period("2026-Q1")).lines
    # Every line paid on deals says which deals: attribution exists whenever something is paid.
    assert line.deals or line.amount == 0
    assert sum((d.amount for d in line.deals), Decimal(0)) == line.amount
    if cap_amount is not None:
        assert line.amount <= cap_amount


@settings(max_examples=40)
@given(deal_books(owners=("a", "b", "c")), st.decimals(min_value=1, max_value=100_000, places=2),
       st.lists(st.integers(min_value=1, max_value=10), min_size=3, max_size=3))
def test_pool_allocations_sum_exactly_to_the_pool(deals, target, bucket_weights):
    shares = [Decimal(w) / sum(bucket_weights) for w in bucket_weights]
    shares[-1] = 1 - sum(shares[:-1])
    funding = Stepped(id="f", label="f", metric="bookings", period=PeriodKind.QUARTER, target_incentive=target,
                      steps=(Step(at=Decimal(0), share_of_target=Decimal(1)),), basis=Basis.AMOUNT)
    pool = Pool(id="pool", label="pool", metric="bookings", period=PeriodKind.QUARTER, quota=QUOTA,
                target_incentive=target, funding=funding, buckets=(
                    PoolBucket(id="v", share=shares[0], split=SplitMethod.CONTRIBUTION),
                    PoolBucket(id="q", share=shares[1], split=SplitMethod.EQUAL),
                    PoolBucket(id="e", share=shares[2], split=SplitMethod.EQUAL)))
    result = calculate(plan_of(pool), data_for(deals, ("a", "b", "c")), parse_period("2026-Q1"))
    assert sum(line.amount for line in result.lines) == target


@settings(max_examples=40)
@given(deal_books(owners=("a", "b")), st.decimals(min_value=100, max_value=20_000, places=2))
def test_plan_cap_is_never_exceeded_and_lines_still_add_up(deals, cap):
    components = (
        FlatRate(id="x", label="x", metric="bookings", period=PeriodKind.QUARTER, rate=Rate(fixed=Decimal("0.07"))),
        FlatRate(id="y", label="y", metric="bookings", period=PeriodKind.MONTH, rate=Rate(fixed=Decimal("0.013"))),
    )
    plan = plan_of(*components, cap=Limit(amount=cap))
    result = calculate(plan, data_for(deals, ("a", "b")), parse_period("2026-Q1"))
    for payee in result.payees:
        assert payee.total <= cap
        for line in payee.lines:
            assert line.deals or line.amount == 0
            assert sum((d.amount for d in line.deals), Decimal(0)) == line.amount
