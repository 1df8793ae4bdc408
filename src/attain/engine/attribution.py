"""Per-deal attribution by the delta method: pay with the deal minus pay without it, in order."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from fractions import Fraction

from attain.core.money import ZERO, RoundingMode
from attain.core.plan import Aggregate, MetricDef
from attain.core.records import Credit
from attain.engine.exact import Exact, allocate_exact, exact, round_exact
from attain.engine.measures import credit_value


def deltas(
    metric: MetricDef, credits: Sequence[Credit], pay: Callable[[Decimal], Exact]
) -> tuple[Exact, ...]:
    """What each credit (in credit-date order) added to the payout: pay(first k) - pay(first k-1).

    The deltas telescope, so they sum to pay(all) - pay(none) exactly.
    """
    result: list[Exact] = []
    previous = pay(credit_value(metric, ()))
    running = ZERO
    for credit in credits:
        running += Decimal(1) if metric.aggregate is Aggregate.COUNT else credit_value(metric, (credit,))
        current = pay(running)
        result.append(current - previous)
        previous = current
    return tuple(result)


def attribute(
    amount: Decimal, weights: Sequence[Exact], quantum: Decimal
) -> tuple[Decimal, ...] | None:
    """Split a rounded line amount over deals in proportion to their exact deltas, to the cent.

    None when the deltas carry no information (all zero while the amount is not).
    """
    if not weights:
        return None
    if sum((exact(w) for w in weights), Fraction(0)) == 0:
        return tuple(ZERO.quantize(quantum) for _ in weights) if amount == 0 else None
    return allocate_exact(amount, weights, quantum)


def round_each(
    amount: Exact, weights: Sequence[Exact], currency: str, mode: RoundingMode
) -> tuple[Decimal, ...] | None:
    """Rounding point "deal": each deal's exact share rounded on its own; the line is their sum."""
    exact_weights = [exact(w) for w in weights]
    total = sum(exact_weights, Fraction(0))
    if not weights or total == 0:
        return None
    return tuple(round_exact(exact(amount) * w / total, currency, mode) for w in exact_weights)
