"""Currency conversion at the rate in force on the credit date."""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from attain.core.money import CALC_CONTEXT, ONE
from attain.core.records import CurrencyRate


class RateTable:
    """Rates by currency pair and date: the latest rate on or before the day applies."""

    def __init__(self, rates: Iterable[CurrencyRate]) -> None:
        table: dict[tuple[str, str], list[tuple[date, Decimal]]] = defaultdict(list)
        for rate in rates:
            table[(rate.from_currency, rate.to_currency)].append((rate.on, rate.rate))
        self._table = {pair: sorted(points) for pair, points in table.items()}

    def rate(self, from_currency: str, to_currency: str, day: date) -> Decimal | None:
        """Units of `to_currency` per unit of `from_currency` on `day`, or None if unknown.

        A direct rate is preferred; otherwise the inverse of the reverse pair is used.
        """
        if from_currency == to_currency:
            return ONE
        direct = self._latest((from_currency, to_currency), day)
        if direct is not None:
            return direct
        reverse = self._latest((to_currency, from_currency), day)
        if reverse is not None and reverse != 0:
            return CALC_CONTEXT.divide(ONE, reverse)
        return None

    def _latest(self, pair: tuple[str, str], day: date) -> Decimal | None:
        points = self._table.get(pair)
        if not points:
            return None
        index = bisect.bisect_right(points, (day, Decimal("Infinity")))
        return points[index - 1][1] if index else None
