"""Plan use cases: check plan files (schema, tiers, curve shape) and run their worked examples."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from attain.core.dataset import DataSet
from attain.core.errors import PlanError
from attain.core.expressions import static_faults
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
        problems.extend(check_expressions(plan))
    return loaded, problems


def check_expressions(loaded: LoadedPlan) -> list[Problem]:
    """Gates, reductions and metric filters that can never hold a value (a literal division by zero,
    a number compared with a text) are errors: at run time they would quietly pay nothing."""
    plan = loaded.plan
    found: list[tuple[str, Any]] = [(f"metrics.{m.name}.filter", m.filter) for m in plan.metrics if m.filter]
    for index, component in enumerate(plan.components):
        found += [(f"components[{index}].gates[{k}]", g.condition) for k, g in enumerate(component.gates)]
        found += [(f"components[{index}].reductions[{k}]", r.condition)
                  for k, r in enumerate(component.reductions)]
    problems = []
    for key, condition in found:
        for fault in static_faults(condition):
            problems.append(Problem(code="plan_expression_fault", file=loaded.path, line=loaded.line_of(key),
                                    key=key, message=f"{plan.id}: {fault}; it can never hold a value"))
    return problems


def _figure_components(plan: Plan) -> Iterable[tuple[str, ComponentBase]]:
    for index, component in enumerate(plan.components):
        if isinstance(component, Pool) and component.funding is not None:
            yield f"components[{index}].funding", component.funding
        elif mechanic_for(component).pay is not None:
            yield f"components[{index}]", component


def _bounds(component: ComponentBase) -> set[Decimal]:
    """Every threshold, tier bound, step and band of a component, on its own basis."""
    bounds: set[Decimal] = set()
    if hasattr(component, "threshold"):
        bounds.add(component.threshold)
    for tier in getattr(component, "tiers", ()):
        bounds.add(tier.lower)
        if tier.upper is not None:
            bounds.add(tier.upper)
    bounds.update(step.at for step in getattr(component, "steps", ()))
    bounds.update(band.threshold for band in getattr(component, "bands", ()))
    return bounds


def _curve(component: ComponentBase) -> tuple[list[tuple[Decimal, Decimal]], Decimal]:
    """The payout at 301 evenly spaced positions up to 3x the goal (or the top bound), plus each
    bound and just either side of it; returns (value, payout) pairs and position -> value scale."""
    pay = mechanic_for(component).pay
    assert pay is not None
    amount_basis = getattr(component, "basis", Basis.ATTAINMENT) is Basis.AMOUNT
    quota = component.quota or SAMPLE_QUOTA
    target = component.target_incentive or SAMPLE_TARGET
    bounds = _bounds(component)
    scale = Decimal(1) if amount_basis else quota
    top = 3 * max([*bounds, quota]) if amount_basis else Decimal(3)
    epsilon = top / 30000
    positions = {top * i / 300 for i in range(301)}
    for bound in bounds:
        positions.update({bound - epsilon, bound, bound + epsilon})
    curve = []
    for position in sorted(p for p in positions if p >= 0):
        value = position * scale
        curve.append((value, pay(component, Figures(value=value, quota=quota, target_incentive=target)).amount))
    return curve, scale


def check_curves(loaded: LoadedPlan) -> list[Problem]:
    """A payout that falls as the metric rises is an error unless a decelerator is declared;
    tiers a cap makes unreachable are warned about."""
    problems: list[Problem] = []
    for key, component in _figure_components(loaded.plan):
        top = component.tiers[-1] if isinstance(component, RetroactiveTiers) and component.tiers else None
        if top is not None and top.upper is not None:
            problems.append(Problem(
                code="plan_tier_top_bounded", severity="warning", file=loaded.path, line=loaded.line_of(key),
                key=key, message=f"{component.id}: the top tier ends at {top.upper} and no tier covers what lies "
                                 "above it; a position above it is paid at the top tier's rate (and the line says "
                                 "so): write the top tier without `to` to say that is intended",
            ))
        try:
            curve, scale = _curve(component)
        except (NeedsQuota, ValueError):
            continue
        where: dict[str, Any] = {"file": loaded.path, "line": loaded.line_of(key), "key": key}
        declared = isinstance(component, RetroactiveTiers) and component.decelerating
        for (before_value, before), (value, amount) in itertools.pairwise(curve):
            if amount < before and not declared:
                problems.append(Problem(
                    code="plan_curve_falls", **where,
                    message=f"{component.id}: payout falls from {before:,.2f} at {before_value:,.0f} to "
                            f"{amount:,.2f} at {value:,.0f} as the metric rises; declare `decelerating: true` "
                            "if that is intended",
                ))
                break
        if component.cap is None or (component.cap.amount is None and component.target_incentive is None):
            continue
        limit = component.cap.resolve(component.target_incentive)
        capped_at = next((v for v, a in curve if a >= limit), None)
        for tier in getattr(component, "tiers", ()):
            if capped_at is not None and tier.lower * scale >= capped_at:
                problems.append(Problem(
                    code="plan_tier_unreachable", severity="warning", **where,
                    message=f"{component.id}: the tier from {tier.lower} pays nothing more; the cap "
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
