"""The reference executor: plain Python and Decimal, one payee at a time; the readable definition
of every mechanic, used for statements, what-if, and as the oracle the vectorized executor must equal."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping, Sequence
from decimal import Decimal

from attain.core.dataset import DataSet
from attain.core.money import ZERO, allocate, calculation_context, minor_unit, round_money
from attain.core.periods import CALENDAR, FiscalCalendar, Period, periods_within
from attain.core.plan import Plan
from attain.core.records import Participant
from attain.crediting import Org, RateTable, credit_deals
from attain.engine.attribution import attribute
from attain.engine.measures import MetricBook, QuotaBook
from attain.engine.mechanics import mechanic_for
from attain.engine.results import (
    CalcResult,
    DealAttribution,
    LimitResult,
    MetricReading,
    PayeeResult,
    PayoutLine,
)
from attain.engine.scope import Scope


def assigned_payees(plan: Plan, data: DataSet, org: Org, period: Period) -> tuple[Participant, ...]:
    """Participants the plan covers (by role, team or id as of the period's last day) and who were
    active at some point in the period, sorted by id."""
    chosen = []
    for participant in data.participants:
        if participant.start_date and participant.start_date > period.last_day:
            continue
        if participant.end_date and participant.end_date < period.start:
            continue
        term = org.term_on(participant.id, period.last_day)
        role = term.role if term else participant.role
        team = term.team if term else participant.team
        if plan.assignment.covers(participant.id, role, team):
            chosen.append(participant)
    return tuple(sorted(chosen, key=lambda p: p.id))


def calculate(
    plan: Plan,
    data: DataSet,
    period: Period,
    calendar: FiscalCalendar = CALENDAR,
    only: Collection[str] | None = None,
    fixed_values: Mapping[str, Decimal] | None = None,
    fixed_quotas: Mapping[str, Decimal] | None = None,
) -> CalcResult:
    """Every covered payee's payout lines for `period`: each component over each of its own
    periods that lies inside `period` (a monthly component yields three lines in a quarter).

    `fixed_values` and `fixed_quotas` pin metric values and quotas by name (worked examples, what-if).
    """
    with calculation_context():
        org = Org(data.terms())
        credited = credit_deals(data.deals, data.splits, org, plan.crediting, plan.currency,
                                RateTable(data.rates), window=period)
        scope = Scope(
            plan=plan, period=period, calendar=calendar, org=org,
            metrics=MetricBook(plan, credited.credits, data.observations, calendar, fixed_values),
            quotas=QuotaBook(data.quotas, calendar, fixed_quotas),
            payees=assigned_payees(plan, data, org, period),
        )
        results = []
        for payee in scope.payees:
            if only is not None and payee.id not in only:
                continue
            results.append(_payee_result(scope, payee))
        return CalcResult(period=period.label, payees=tuple(results),
                          problems=(*credited.problems, *scope.problems))


def _payee_result(scope: Scope, payee: Participant) -> PayeeResult:
    plan = scope.plan
    lines: list[PayoutLine] = []
    for component in plan.components:
        mechanic = mechanic_for(component)
        for sub in periods_within(scope.period, component.period, scope.calendar):
            if payee.start_date and payee.start_date > sub.last_day:
                continue
            if payee.end_date and payee.end_date < sub.start:
                continue
            if not mechanic.applies(component, sub):
                continue
            lines.append(mechanic.evaluate(component, scope, payee.id, sub))
    lines = apply_plan_limits(plan, payee.id, scope.period, lines)
    term = scope.org.term_on(payee.id, scope.period.last_day)
    return PayeeResult(
        participant_id=payee.id, name=payee.name, role=term.role if term else payee.role,
        team=term.team if term else payee.team, plan_id=plan.id, plan_name=plan.name,
        plan_version=plan.version, period=scope.period.label, currency=plan.currency, lines=tuple(lines),
    )


def apply_plan_limits(plan: Plan, participant_id: str, period: Period, lines: Sequence[PayoutLine]) -> list[PayoutLine]:
    """The plan-wide cap scales lines down (exactly, largest remainder); the plan-wide floor adds a
    top-up line. Both act on the payee's total for the calculation period."""
    result = list(lines)
    total = sum((line.amount for line in result), ZERO)
    target = sum((c.target_incentive or ZERO for c in plan.components), ZERO) or None
    quantum = minor_unit(plan.currency)
    if plan.cap is not None:
        limit = round_money(plan.cap.resolve(target), plan.currency, plan.rounding.mode)
        if total > limit and total > 0:
            new_amounts = allocate(limit, [max(line.amount, ZERO) for line in result], quantum)
            result = [
                _capped(line, amount, limit, plan.cap.describe(), quantum)
                for line, amount in zip(result, new_amounts, strict=True)
            ]
    if plan.floor is not None:
        limit = round_money(plan.floor.resolve(target), plan.currency, plan.rounding.mode)
        total = sum((line.amount for line in result), ZERO)
        if total < limit:
            top_up = limit - total
            result.append(PayoutLine(
                participant_id=participant_id, plan_id=plan.id, plan_version=plan.version,
                component_id="plan-floor", component_label="Plan floor top-up", kind="floor",
                period=period.label, currency=plan.currency, amount=top_up, gross=top_up,
                metric=MetricReading(name="plan total", value=total, quota=None, attainment=None),
                limits=(LimitResult(kind="floor", scope="plan", limit=limit, description=plan.floor.describe(),
                                    before=total, after=limit),),
                notes=(f"plan floor {limit:,} {plan.currency} guarantees the total",),
            ))
    return result


def _capped(line: PayoutLine, amount: object, limit: object, description: str, quantum: object) -> PayoutLine:
    assert isinstance(amount, type(ZERO)) and isinstance(limit, type(ZERO)) and isinstance(quantum, type(ZERO))
    cap = LimitResult(kind="cap", scope="plan", limit=limit, description=description,
                      before=line.amount, after=amount)
    deals = line.deals
    if deals and amount != line.amount:
        shares = attribute(amount, [d.amount for d in deals], quantum)
        if shares is not None:
            deals = tuple(dataclasses.replace(d, amount=s) for d, s in zip(deals, shares, strict=True))
    return dataclasses.replace(line, amount=amount, limits=(*line.limits, cap), deals=deals)


__all__ = ["DealAttribution", "apply_plan_limits", "assigned_payees", "calculate"]
