"""Plan use cases: check plan files (schema, tiers, curve shape) and run their worked examples."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from attain.core.dataset import DataSet
from attain.core.errors import PlanError
from attain.core.money import ZERO
from attain.core.periods import CALENDAR, FiscalCalendar, PeriodKind, parse_period, period_of
from attain.core.plan import (
    Assignment,
    Basis,
    ComponentBase,
    Example,
    Plan,
    Pool,
    RetroactiveTiers,
)
from attain.core.problems import Problem
from attain.core.records import Deal, DealStatus, Participant
from attain.engine.mechanics import mechanic_for
from attain.engine.mechanics.common import NeedsQuota
from attain.engine.reference import calculate
from attain.engine.results import Figures
from attain.formats.plan_file import LoadedPlan, load_plan

SAMPLE_QUOTA = Decimal(1_000_000)
SAMPLE_TARGET = Decimal(100_000)


def check_plan_files(paths: Iterable[Path]) -> tuple[list[LoadedPlan], list[Problem]]:
    """Load every plan and run the curve checks; returns the plans that loaded and all problems."""
    loaded: list[LoadedPlan] = []
    problems: list[Problem] = []
    for path in paths:
        try:
            plan = load_plan(path)
        except PlanError as error:
            found = error.problems or (Problem(code="plan_error", file=str(path), message=str(error)),)
            problems.extend(sorted(found, key=lambda p: p.line or 0))
            continue
        loaded.append(plan)
        problems.extend(check_curves(plan))
    return loaded, problems


def _figure_components(plan: Plan) -> Iterable[tuple[str, ComponentBase]]:
    for index, component in enumerate(plan.components):
        if isinstance(component, Pool) and component.funding is not None:
            yield f"components[{index}].funding", component.funding
        elif mechanic_for(component).pay is not None:
            yield f"components[{index}]", component


def _samples(component: ComponentBase) -> list[Decimal]:
    """Attainment points from 0% to 300% by 1%, plus each boundary and just either side of it."""
    points = {Decimal(i) / 100 for i in range(301)}
    bounds: set[Decimal] = set()
    for attr in ("threshold",):
        if hasattr(component, attr):
            bounds.add(getattr(component, attr))
    for tier in getattr(component, "tiers", ()):
        bounds.add(tier.lower)
        if tier.upper is not None:
            bounds.add(tier.upper)
    bounds.update(step.at for step in getattr(component, "steps", ()))
    bounds.update(band.threshold for band in getattr(component, "bands", ()))
    epsilon = Decimal("0.0001")
    for bound in bounds:
        points.update({bound - epsilon, bound, bound + epsilon})
    return sorted(p for p in points if p >= 0)


def check_curves(loaded: LoadedPlan) -> list[Problem]:
    """A payout that falls as attainment rises is an error unless a decelerator is declared;
    tiers or steps a cap makes unreachable are warned about."""
    problems: list[Problem] = []
    for key, component in _figure_components(loaded.plan):
        pay = mechanic_for(component).pay
        assert pay is not None
        amount_basis = getattr(component, "basis", Basis.ATTAINMENT) is Basis.AMOUNT
        quota = component.quota or SAMPLE_QUOTA
        target = component.target_incentive or SAMPLE_TARGET
        previous: tuple[Decimal, Decimal] | None = None
        try:
            curve = []
            for attainment in _samples(component):
                value = attainment * (SAMPLE_QUOTA if amount_basis and component.quota is None else quota)
                if amount_basis:
                    value = attainment * SAMPLE_QUOTA
                amount = pay(component, Figures(value=value, quota=quota, target_incentive=target)).amount
                curve.append((value, amount))
        except (NeedsQuota, ValueError):
            continue
        declared = isinstance(component, RetroactiveTiers) and component.decelerating
        for value, amount in curve:
            if previous is not None and amount < previous[1] and not declared:
                problems.append(Problem(
                    code="plan_curve_falls", file=loaded.path, line=loaded.line_of(key), key=key,
                    message=f"{component.id}: payout falls from {previous[1]:,.2f} at {previous[0]:,.0f} to "
                            f"{amount:,.2f} at {value:,.0f} as the metric rises; declare `decelerating: true` "
                            "if that is intended",
                ))
                break
            previous = (value, amount)
        if (component.cap is not None and component.cap.amount is not None) or (
                component.cap is not None and component.target_incentive is not None):
            limit = component.cap.resolve(component.target_incentive) if component.cap else ZERO
            capped_at = next((v for v, a in curve if a >= limit), None)
            if capped_at is not None:
                for tier in getattr(component, "tiers", ()):
                    lower = tier.lower * (SAMPLE_QUOTA if amount_basis else quota)
                    if lower > capped_at:
                        problems.append(Problem(
                            code="plan_tier_unreachable", file=loaded.path, line=loaded.line_of(key), key=key,
                            severity="warning",
                            message=f"{component.id}: the tier from {tier.lower} pays nothing more, the cap "
                                    f"{limit:,} is reached before it",
                        ))
    return problems


@dataclass(frozen=True, slots=True, kw_only=True)
class ExampleOutcome:
    """A worked example's result: expected and actual payout per component."""

    plan_id: str
    file: str
    example: str
    line: int | None
    period: str
    rows: tuple[tuple[str, Decimal, Decimal], ...]

    @property
    def passed(self) -> bool:
        return all(expected == actual for _, expected, actual in self.rows)


def _example_period(plan: Plan, example: Example, calendar: FiscalCalendar) -> str:
    if example.period:
        return example.period
    longest = max((c.period for c in plan.components), key=lambda k: k.months, default=PeriodKind.QUARTER)
    day = example.deals[0].on if example.deals else plan.effective_from or date(2026, 1, 1)
    return period_of(day, longest, calendar).label


def run_examples(loaded: LoadedPlan, calendar: FiscalCalendar = CALENDAR) -> list[ExampleOutcome]:
    """Compute each worked example with the reference engine and compare per component."""
    plan = dataclasses.replace(loaded.plan, assignment=Assignment())
    outcomes = []
    for example in plan.examples:
        payee = Participant(id="example", name="Example payee", role="example")
        deals = tuple(
            Deal(id=d.id, owner_id="example", amount=d.amount, currency=plan.currency, status=DealStatus.WON,
                 booked_on=d.on, signed_on=d.on, invoiced_on=d.on, recognized_on=d.on, fields=d.fields)
            for d in example.deals
        )
        label = _example_period(plan, example, calendar)
        result = calculate(plan, DataSet(participants=(payee,), deals=deals), parse_period(label, calendar),
                           calendar, fixed_values=dict(example.values), fixed_quotas=dict(example.quotas))
        rows = []
        for component_id, expected in example.expect:
            actual = sum((line.amount for line in result.lines if line.component_id == component_id), ZERO)
            rows.append((component_id, expected, actual))
        outcomes.append(ExampleOutcome(plan_id=plan.id, file=loaded.path, example=example.name,
                                       line=example.line, period=label, rows=tuple(rows)))
    return outcomes
