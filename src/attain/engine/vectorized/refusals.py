"""What the vectorized executor refuses, decided from the plan alone (before anything runs).

Kept apart from the compiler, which imports Ibis: a bulk run whose compiled query is kept on
disk checks the plan without importing Ibis at all.
"""

from __future__ import annotations

from attain.core.errors import UnsupportedError
from attain.core.money import ZERO, RoundingPoint
from attain.core.plan import Aggregate, Basis, ComponentBase, Plan, Pool, Spiff
from attain.engine.mechanics import mechanic_for


def refuse_unsupported(plan: Plan) -> None:
    """Raise UnsupportedError for anything this executor cannot compute exactly."""
    for component in plan.components:
        if isinstance(component, Spiff):
            continue
        if isinstance(component, Pool):
            _refuse_pool(plan, component)
            continue
        mechanic = mechanic_for(component)
        if mechanic.vectorize is None:
            raise UnsupportedError(f"component {component.id!r}: the {mechanic.kind} mechanic has no vectorized form")
        if plan.rounding.point is RoundingPoint.DEAL and derives_rate(component):
            # Each deal's share is amount x delta / sum of deltas; with a rate of target incentive
            # / quota all three are fractions over the quota, and their product overflows DECIMAL(38).
            raise UnsupportedError(f"component {component.id!r}: rounding per deal a rate derived as target "
                                   "incentive / quota is not computed exactly by the vectorized executor "
                                   "(use the reference executor, or round per line)")


def _refuse_pool(plan: Plan, component: Pool) -> None:
    where = f"component {component.id!r}: "
    metric = plan.metric(component.metric)
    if metric is None or not (metric.uses_credits or metric.aggregate in (Aggregate.LATEST, Aggregate.TOTAL)):
        raise UnsupportedError(where + f"the pool's team total of {component.metric!r} (an average or a ratio) "
                               "cannot be summed exactly by the vectorized executor (use the reference executor)")
    if not component.buckets or sum((b.share for b in component.buckets), ZERO) == 0:
        raise UnsupportedError(where + "a pool needs buckets whose shares do not sum to zero")
    funding = component.funding
    if funding is None:
        return
    if isinstance(funding, Pool | Spiff) or mechanic_for(funding).vectorize is None:
        raise UnsupportedError(where + f"a pool funded by a {mechanic_for(funding).kind} has no vectorized form")
    if component.target_incentive is None and derives_rate(funding):
        raise UnsupportedError(where + "the funding derives its rate from a target incentive the pool does not "
                               "have (use the reference executor)")
    tiers = getattr(funding, "tiers", ())
    if (component.quota is None and getattr(funding, "basis", Basis.AMOUNT) is Basis.AMOUNT
            and any(t.rate.derived for t in tiers) and not all(t.rate.derived for t in tiers)):
        # A team without a quota is still paid its fixed-rate tiers unless a derived one is
        # reached (NeedsQuota); the column form cannot tell which, so it is not guessed.
        raise UnsupportedError(where + "the funding mixes fixed and derived tier rates on amounts and the pool "
                               "has no fixed quota (use the reference executor)")


def derives_rate(component: ComponentBase) -> bool:
    rate = getattr(component, "rate", None)
    if rate is not None and getattr(rate, "derived", False):
        return True
    return any(t.rate.derived for t in getattr(component, "tiers", ()))


__all__ = ["derives_rate", "refuse_unsupported"]
