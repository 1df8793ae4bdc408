"""Per-deal attribution by the delta method: pay with the deal minus pay without it, in order."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal

from attain.core.money import ZERO, RoundingMode, allocate, round_money
from attain.core.plan import Aggregate, MetricDef
from attain.core.records import Credit
from attain.engine.measures import credit_value


def deltas(
    metric: MetricDef, credits: Sequence[Credit], pay: Callable[[Decimal], Decimal]
) -> tuple[Decimal, ...]:
    """What each credit (in credit-date order) added to the payout: pay(first k) - pay(first k-1).

    The deltas telescope, so they sum to pay(all) - pay(none) exactly.
    """
    result: list[Decimal] = []
    previous = pay(credit_value(metric, ()))
    running = ZERO
    for credit in credits:
        running += Decimal(1) if metric.aggregate is Aggregate.COUNT else credit_value(metric, (credit,))
        current = pay(running)
        result.append(current - previous)
        previous = current
    return tuple(result)


def attribute(
    amount: Decimal, weights: Sequence[Decimal], quantum: Decimal
) -> tuple[Decimal, ...] | None:
    """Split a rounded line amount over deals in proportion to their deltas, exactly to the cent.

    None when the deltas carry no information (all zero while the amount is not).
    """
    if not weights:
        return None
    if sum(weights, ZERO) == 0:
        return tuple(ZERO.quantize(quantum) for _ in weights) if amount == 0 else None
    return allocate(amount, weights, quantum)


def round_each(
    amount: Decimal, weights: Sequence[Decimal], currency: str, mode: RoundingMode
) -> tuple[Decimal, ...] | None:
    """Rounding point "deal": each deal's exact share rounded on its own; the line is their sum."""
    total = sum(weights, ZERO)
    if not weights or total == 0:
        return None
    return tuple(round_money(amount * w / total, currency, mode) for w in weights)
