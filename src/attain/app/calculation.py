"""Stateless calculation: plan files + a data folder -> results, with every data problem up front."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from attain.app.collector import without_cycle_collection
from attain.app.executors import calculate_with
from attain.core.dataset import DataSet
from attain.core.errors import DataError, NotFoundError, PlanError
from attain.core.periods import CALENDAR, FiscalCalendar, Period, parse_period
from attain.core.plan import Plan, Pool
from attain.core.problems import Problem
from attain.crediting import Org
from attain.engine.reference import assigned_payees
from attain.engine.results import CalcResult
from attain.formats.datafolder import load_folder
from attain.formats.plan_file import LoadedPlan, load_plan

if TYPE_CHECKING:
    from attain.app.workspace import Workspace
    from attain.storage.payee_reads import Reach


def load_plans(paths: Sequence[Path]) -> list[LoadedPlan]:
    """Load every plan file, reporting the problems of all of them together."""
    loaded: list[LoadedPlan] = []
    problems: list[Problem] = []
    for path in paths:
        try:
            loaded.append(load_plan(path))
        except PlanError as error:
            problems.extend(error.problems)
    if problems:
        raise PlanError(f"{len(problems)} problem(s) in plan files", problems)
    ids = [p.plan.id for p in loaded]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise PlanError(f"plan id used by more than one file: {', '.join(duplicates)}")
    return loaded


def calculate_folder(
    plan_paths: Sequence[Path],
    data_dir: Path,
    period_label: str,
    calendar: FiscalCalendar = CALENDAR,
    participant: str | None = None,
    executor: str = "auto",
) -> tuple[list[LoadedPlan], list[CalcResult]]:
    """Validate plans and data first (nothing is calculated if anything is wrong), then calculate."""
    try:
        period = parse_period(period_label, calendar)
    except ValueError as exc:
        raise DataError(f"--period: {exc}") from None
    plans = load_plans(plan_paths)
    data = load_folder(data_dir, calendar)
    only = {participant} if participant else None
    results = [calculate_with(executor, p.plan, data, period, calendar, only=only) for p in plans]
    if participant and not any(r.payee(participant) for r in results):
        known = data.participant(participant)
        why = "is not covered by any of these plans" if known else "is not in participants.csv"
        raise NotFoundError(f"participant {participant!r} {why}")
    return plans, results


def calculate_workspace(
    ws: Workspace,
    period_label: str,
    participant: str | None = None,
    as_of: datetime | None = None,
    executor: str | None = None,
) -> tuple[list[Plan], list[CalcResult]]:
    """Calculate from the store: the plan versions and assignments in force on the period's last
    day, and the data as known at `as_of` (everything recorded when None). Nothing is posted.

    For one participant only the records their result depends on are read (`calculate_payee`),
    so the cost follows what that payee has, not the size of the store."""
    from attain.app.runs import load_plans
    from attain.storage.snapshot import read_dataset
    from attain.storage.versions import known_import

    if participant:
        return calculate_payee(ws, period_label, participant, as_of=as_of, executor=executor)
    calendar = ws.settings.calendar
    period = _period(period_label, calendar)
    with ws.engine.connect() as conn:
        upto = known_import(conn, as_of)
        data = read_dataset(conn, upto, period, calendar)
        plans = load_plans(conn, ws, upto, period.last_day)
    if not plans:
        raise NotFoundError("no plans in this workspace: put plan files in plans/ or `attain import plans plans/`")
    chosen = executor or ws.settings.executor
    return plans, [calculate_with(chosen, plan, data, period, calendar, settings=ws.settings) for plan in plans]


def calculate_payee(
    ws: Workspace,
    period_label: str,
    participant: str,
    as_of: datetime | None = None,
    executor: str | None = None,
) -> tuple[list[Plan], list[CalcResult]]:
    """One participant's results from the store, reading only what they depend on: the plans
    covering them (by their own role, team and dates), then, for those plans, the participant's
    records, the deals crediting them (owned, split, rolled up to them) and a team pool's members.
    The lines are exactly those of the full calculation for that participant."""
    from attain.app.runs import load_plans
    from attain.storage.payee_reads import read_participants, read_payee_dataset
    from attain.storage.versions import known_import

    calendar = ws.settings.calendar
    period = _period(period_label, calendar)
    # Many short-lived objects and no cycles: in a process holding a large heap (a served
    # workspace) the collector's passes would cost more than the work (app/collector.py).
    with without_cycle_collection():
        with ws.engine.connect() as conn:
            upto = known_import(conn, as_of)
            plans = load_plans(conn, ws, upto, period.last_day)
            if not plans:
                raise NotFoundError("no plans in this workspace: put plan files in plans/ or "
                                    "`attain import plans plans/`")
            own = read_participants(conn, upto, {participant})
            covering = [plan for plan in plans if covers(plan, own, participant, period)]
            data = (read_payee_dataset(conn, upto, period, calendar, participant, reach_of(covering))
                    if covering else own)
        chosen = executor or ws.settings.executor
        results = [calculate_with(chosen, plan, data, period, calendar, only={participant}, settings=ws.settings)
                   for plan in covering]
    if not any(r.payee(participant) for r in results):
        why = "is not covered by any plan in force" if own.participant(participant) else "is not in the store"
        raise NotFoundError(f"participant {participant!r} {why} for {period.label}")
    return plans, results


def covers(plan: Plan, own: DataSet, participant: str, period: Period) -> bool:
    """Whether `plan` pays `participant` in `period` at all: their own role, team and dates decide."""
    return any(p.id == participant for p in assigned_payees(plan, own, Org(own.terms()), period))


def reach_of(plans: Sequence[Plan]) -> Reach:
    """How far the plans' results for one payee reach: team pools read their teams' members,
    roll-up crediting the deals of everyone below."""
    from attain.storage.payee_reads import Reach

    pools = [c for plan in plans for c in plan.components if isinstance(c, Pool)]
    return Reach(own_team=any(c.team is None for c in pools), teams=frozenset(c.team for c in pools if c.team),
                 rollup=any(plan.crediting.rollup for plan in plans))


def _period(label: str, calendar: FiscalCalendar) -> Period:
    try:
        return parse_period(label, calendar)
    except ValueError as exc:
        raise DataError(f"--period: {exc}") from None
