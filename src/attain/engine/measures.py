"""Metric values and quotas for a payee and period: sums and counts of credits, observed values,
ratios, and quotas resolved exactly, by sub-periods, or prorated from a longer period."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from functools import lru_cache

from attain.core.expressions import holds
from attain.core.money import ZERO, MoneyFormatError, parse_decimal
from attain.core.periods import CALENDAR, FiscalCalendar, Period, parse_period
from attain.core.plan import Aggregate, MetricDef, Plan
from attain.core.records import Credit, MetricObservation, Quota, deal_values


class MetricBook:
    """Computes plan metrics from credits and observations, with caching per payee and period."""

    def __init__(
        self,
        plan: Plan,
        credits: Iterable[Credit],
        observations: Iterable[MetricObservation],
        calendar: FiscalCalendar = CALENDAR,
        fixed: Mapping[str, Decimal] | None = None,
    ) -> None:
        self.plan = plan
        self.fixed = dict(fixed or {})
        self.calendar = calendar
        by_payee: dict[str, list[Credit]] = defaultdict(list)
        for credit in credits:
            by_payee[credit.participant_id].append(credit)
        self._credits = {
            pid: sorted(cs, key=lambda c: (c.credit_date, c.deal_id)) for pid, cs in by_payee.items()
        }
        observed: dict[tuple[str, str], list[tuple[Period, Decimal]]] = defaultdict(list)
        for obs in observations:
            observed[(obs.participant_id, obs.metric)].append((self._period(obs.period), obs.value))
        self._observed = {key: sorted(points) for key, points in observed.items()}
        self.observed_names = frozenset(name for _, name in observed)
        self._cache: dict[tuple[str, str, str], Decimal | None] = {}

    def _period(self, label: str) -> Period:
        return _parse(label, self.calendar)

    def credits_in(self, participant_id: str, period: Period) -> tuple[Credit, ...]:
        """The payee's credits dated in `period`, in credit-date order."""
        return tuple(c for c in self._credits.get(participant_id, ()) if period.contains(c.credit_date))

    def counted(self, metric: MetricDef, participant_id: str, period: Period) -> tuple[Credit, ...]:
        """The credits a credit-based metric counts: in the period and passing its filter."""
        credits = self.credits_in(participant_id, period)
        if metric.filter is None:
            return credits
        return tuple(c for c in credits if holds(metric.filter, deal_values(c)))

    def value(self, name: str, participant_id: str, period: Period) -> Decimal | None:
        """The metric's value; an unknown plan metric falls back to the observed metric of that name."""
        if name in self.fixed:
            return self.fixed[name]
        key = (name, participant_id, period.label)
        if key not in self._cache:
            self._cache[key] = self._compute(name, participant_id, period, depth=0)
        return self._cache[key]

    def _compute(self, name: str, participant_id: str, period: Period, depth: int) -> Decimal | None:
        if depth > 16:
            raise ValueError(f"metric {name!r} refers to itself through ratios")
        metric = self.plan.metric(name)
        if metric is None:
            return self.observed(name, participant_id, period, Aggregate.AVERAGE)
        if metric.aggregate in (Aggregate.SUM, Aggregate.COUNT):
            return credit_value(metric, self.counted(metric, participant_id, period))
        if metric.aggregate in (Aggregate.AVERAGE, Aggregate.LATEST, Aggregate.TOTAL):
            return self.observed(metric.observed or name, participant_id, period, metric.aggregate)
        numerator = self._compute(metric.numerator or "", participant_id, period, depth + 1)
        denominator = self._compute(metric.denominator or "", participant_id, period, depth + 1)
        if numerator is None or denominator is None or denominator == 0:
            return None
        return numerator / denominator

    def observed(self, name: str, participant_id: str, period: Period, how: Aggregate) -> Decimal | None:
        """Average, latest or total of the observations inside `period` (or of the one covering it)."""
        points = self._observed.get((participant_id, name), [])
        inside = [value for p, value in points if period.covers(p)]
        if not inside:
            inside = [value for p, value in points if p.covers(period)][-1:]
        if not inside:
            return None
        if how is Aggregate.LATEST:
            return inside[-1]
        if how is Aggregate.TOTAL:
            return sum(inside, ZERO)
        return sum(inside, ZERO) / len(inside)

    def environment(self, participant_id: str, period: Period, wanted: Iterable[str]) -> dict[str, object]:
        """Values for the names a gate reads: plan metrics, then observed metrics; None if absent."""
        return {name: self.value(name, participant_id, period) for name in wanted}


def credit_value(metric: MetricDef, credits: Sequence[Credit]) -> Decimal:
    """A sum or count metric over already-filtered credits."""
    if metric.aggregate is Aggregate.COUNT:
        return Decimal(len(credits))
    if metric.field == "amount":
        return sum((c.amount for c in credits), ZERO)
    return sum((field_amount(c, metric.field) for c in credits), ZERO)


def field_amount(credit: Credit, field: str) -> Decimal:
    """A numeric custom field of the deal, scaled by the credit's share (blank counts as zero)."""
    raw = dict(credit.fields).get(field, "")
    if not raw.strip():
        return ZERO
    try:
        return parse_decimal(raw) * credit.share
    except MoneyFormatError as exc:
        raise ValueError(f"deal {credit.deal_id}: field {field!r} is not a number: {raw!r}") from exc


class QuotaBook:
    """Resolves a payee's quota on a metric for a period."""

    def __init__(
        self, quotas: Iterable[Quota], calendar: FiscalCalendar = CALENDAR, fixed: Mapping[str, Decimal] | None = None
    ) -> None:
        self.calendar = calendar
        self.fixed = dict(fixed or {})
        grouped: dict[tuple[str, str], list[tuple[Period, Decimal]]] = defaultdict(list)
        for quota in quotas:
            grouped[(quota.participant_id, quota.metric)].append((_parse(quota.period, calendar), quota.amount))
        self._quotas = {key: sorted(values) for key, values in grouped.items()}

    def quota(self, participant_id: str, metric: str, period: Period) -> tuple[Decimal | None, str]:
        """The quota and how it was found: exactly, as a sum of sub-periods, or prorated."""
        if metric in self.fixed:
            return self.fixed[metric], "given"
        entries = self._quotas.get((participant_id, metric), [])
        for p, amount in entries:
            if p == period:
                return amount, ""
        inside = [(p, amount) for p, amount in entries if period.covers(p)]
        if inside and sum(p.kind.months for p, _ in inside) == period.kind.months and _disjoint(inside):
            labels = " + ".join(p.label for p, _ in inside)
            return sum((a for _, a in inside), ZERO), f"sum of quotas {labels}"
        for p, amount in entries:
            if p.covers(period):
                # Multiply before dividing: a third of a quarter's 30 is 10, never 9.999...9 (a
                # share of 1/3 cut to 38 digits first).
                share = amount * Decimal(period.kind.months) / Decimal(p.kind.months)
                return share, f"{period.kind.months}/{p.kind.months} of the {p.label} quota {amount:,}"
        return None, "no quota"


def _disjoint(entries: Sequence[tuple[Period, Decimal]]) -> bool:
    ordered = sorted(p for p, _ in entries)
    return all(a.end <= b.start for a, b in itertools.pairwise(ordered))


@lru_cache(maxsize=4096)
def _parse(label: str, calendar: FiscalCalendar) -> Period:
    return parse_period(label, calendar)
