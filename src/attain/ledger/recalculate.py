"""One run, pure: recalculate every plan over the periods the ledger covers, and post the difference.

Each plan is calculated over its calculation periods (its longest component period: a quarterly
bonus is measured per quarter) from the ledger's first pay period to the pay period being run,
with the data cut off at the pay period's last day: a quarter still running is earned "to date"
(monthly advances), a quarter that has ended is final (its true-up), and an earlier period
recalculated on late data yields true-ups and clawbacks that point back to it.

The calculation itself is passed in (`calculate`, the reference engine by default), so a run can
use another executor without this pure layer knowing of it; every executor gives the same lines.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from attain.core.dataset import DataSet
from attain.core.periods import FiscalCalendar, Period, PeriodKind, parse_period, period_of, periods_within
from attain.core.plan import Plan
from attain.core.problems import Problem
from attain.core.records import DealStatus
from attain.engine.reference import calculate as reference_calculate
from attain.engine.results import CalcResult, PayoutLine
from attain.ledger.draws import post_draw
from attain.ledger.entries import DealShare, Entry
from attain.ledger.inputs import canonical_dataset
from attain.ledger.posting import Cancellation, Earned, post_difference

# How one plan is calculated over one period: (plan, data, period, calendar) -> result.
Calculate = Callable[[Plan, DataSet, Period, FiscalCalendar], CalcResult]


@dataclass(frozen=True, slots=True, kw_only=True)
class RunOutcome:
    """What a run posts, the problems the calculation met, and the (plan, period) pairs it covered."""

    entries: tuple[Entry, ...]
    problems: tuple[Problem, ...]
    scope: tuple[tuple[str, str], ...]


def calc_kind(plan: Plan) -> PeriodKind:
    """The plan's calculation period: its longest component period (caps and floors act on it)."""
    return max((c.period for c in plan.components), key=lambda k: k.months)


def _in_force(versions: Sequence[Plan], measure: Period) -> Plan | None:
    """The version of a plan in force for `measure`: the latest effective one overlapping it."""
    live = [p for p in versions
            if (p.effective_from is None or p.effective_from <= measure.last_day)
            and (p.effective_to is None or p.effective_to >= measure.start)]
    return max(live, key=lambda p: (p.effective_from or date.min, p.version)) if live else None


def measure_periods(kind: PeriodKind, first_day: date, last_day: date, calendar: FiscalCalendar) -> list[Period]:
    """Every period of `kind` from the one holding `first_day` to the one holding `last_day`."""
    periods = []
    cursor = period_of(first_day, kind, calendar)
    while cursor.start <= last_day:
        periods.append(cursor)
        cursor = period_of(cursor.end, kind, calendar)
    return periods


def _cut_off(data: DataSet, plan: Plan, cutoff: date) -> DataSet:
    """The data as of the pay period's end: deals credited later are not earned yet."""
    basis = plan.crediting.date_basis
    deals = tuple(d for d in data.deals if (d.date_for(basis) or cutoff) <= cutoff)
    return dataclasses.replace(data, deals=deals)


def _earned(line: PayoutLine, origin: Period) -> Earned:
    metric = line.metric
    why = line.component_label
    if metric.value is not None:
        why += f": {metric.name} {metric.value:f}"
        if metric.quota is not None:
            why += f" of quota {metric.quota:f}"
        if metric.attainment is not None:
            why += f" ({metric.attainment * 100:.1f}%)"
    return Earned(
        participant_id=line.participant_id, plan_id=line.plan_id, component_id=line.component_id,
        origin=origin, currency=line.currency, amount=line.amount, spiff=line.kind == "spiff", why=why,
        deals=tuple(DealShare(deal_id=d.deal_id, credit_date=d.credit_date, amount=d.amount) for d in line.deals),
    )


def recalculate(
    *,
    pay_period: Period,
    plans: Sequence[Plan],
    data: DataSet,
    posted: Sequence[Entry],
    calendar: FiscalCalendar,
    ledger_start: date | None = None,
    calculate: Calculate = reference_calculate,
) -> RunOutcome:
    """The entries one run posts into `pay_period`, given every plan version and the ledger so far;
    `calculate` computes each plan over each calculation period (the reference engine by default)."""
    data = canonical_dataset(data)
    first_day = min(ledger_start or pay_period.start, pay_period.start)
    cutoff = pay_period.last_day
    versions: dict[str, list[Plan]] = {}
    for version in sorted(plans, key=lambda p: (p.id, p.version, p.content_hash)):
        versions.setdefault(version.id, []).append(version)
    earned: list[Earned] = []
    scope: set[tuple[str, str]] = set()
    problems: list[Problem] = []
    payees: dict[str, tuple[Plan, set[str]]] = {}
    clawback_days: dict[str, int | None] = {}
    for plan_id, plan_versions in versions.items():
        kind = calc_kind(plan_versions[-1])
        for measure in measure_periods(kind, first_day, cutoff, calendar):
            plan = _in_force(plan_versions, measure)
            if plan is None:
                continue
            clawback_days[plan_id] = plan.crediting.clawback_days
            result = calculate(plan, _cut_off(data, plan, cutoff), measure, calendar)
            problems.extend(result.problems)
            scope.add((plan_id, measure.label))
            for component in plan.components:
                for sub in periods_within(measure, component.period, calendar):
                    if sub.start <= cutoff:
                        scope.add((plan_id, sub.label))
            for line in result.lines:
                origin = parse_period(line.period, calendar)
                if origin.start <= cutoff:
                    earned.append(_earned(line, origin))
            if measure.contains(cutoff):
                payees[plan_id] = (plan, {p.participant_id for p in result.payees})
    cancellations = {
        d.id: Cancellation(deal_id=d.id, cancelled_on=d.cancelled_on)
        for d in data.deals if d.status is DealStatus.CANCELLED
    }
    origins = {label: parse_period(label, calendar) for label in {e.origin for e in posted}}
    entries = list(post_difference(
        pay_period=pay_period, earned=earned, scope=scope, posted=posted,
        cancellations=cancellations, clawback_days=clawback_days, origins=origins,
    ))
    for plan_id, (plan, covered) in sorted(payees.items()):
        if plan.draw is None:
            continue
        for participant_id in sorted(covered):
            person = data.participant(participant_id)
            start = (person.start_date if person else None) or plan.effective_from
            if start is None:
                problems.append(Problem(code="draw_start_unknown", subject=f"participant {participant_id}",
                                        message=f"plan {plan_id} has a draw but neither the participant's "
                                                "start date nor the plan's effective date is known"))
                continue
            entries.extend(post_draw(
                pay_period=pay_period, participant_id=participant_id, plan_id=plan_id, currency=plan.currency,
                terms=plan.draw, start=start, posted=[*posted, *entries], rounding=plan.rounding.mode,
            ))
    unique = tuple(dict.fromkeys(problems))
    return RunOutcome(entries=tuple(entries), problems=unique, scope=tuple(sorted(scope)))
