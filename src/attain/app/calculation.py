"""Stateless calculation: plan files + a data folder -> results, with every data problem up front."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection

from attain.app.collector import without_cycle_collection
from attain.app.executors import calculate_with
from attain.app.plan_versions import calculate_segments, refuse_failing_check, segments_for
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


NO_PLANS = ("no plans in this workspace: put plan files in plans/ and record them with "
            "`attain import plans plans/`")


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
    # Versions of one plan live side by side when their start dates differ.
    keys = [(p.plan.id, p.plan.effective_from) for p in loaded]
    duplicates = sorted({i for i, start in keys if keys.count((i, start)) > 1})
    if duplicates:
        raise PlanError(f"plan id used by more than one file with the same `effective: from`: "
                        f"{', '.join(duplicates)}")
    return loaded


def calculate_folder(
    plan_paths: Sequence[Path],
    data_dir: Path,
    period_label: str,
    calendar: FiscalCalendar = CALENDAR,
    participant: str | None = None,
    executor: str = "auto",
) -> tuple[list[LoadedPlan], list[CalcResult]]:
    """Validate plans and data first (nothing is calculated if anything is wrong), then calculate
    each plan with its version in force for the period (by `effective` dates; a plan not in force
    computes nothing). Returns the plan version behind each result, side by side with the results."""
    from attain.app.plans import check_plan_files

    try:
        period = parse_period(period_label, calendar)
    except ValueError as exc:
        raise DataError(f"--period: {exc}") from None
    plans = load_plans(plan_paths)
    _, problems = check_plan_files(plan_paths)
    errors = [p for p in problems if p.is_error]
    if errors:
        raise PlanError(f"{len(errors)} error(s) from `attain plan check`; nothing was calculated", errors)
    data = load_folder(data_dir, calendar)
    only = {participant} if participant else None
    by_plan = {id(p.plan): p for p in plans}
    segments = segments_for([p.plan for p in plans], period, calendar)
    results = calculate_segments(segments, lambda plan, span: calculate_with(
        executor, plan, data, span, calendar, only=only))
    if participant and not any(r.payee(participant) for r in results):
        known = data.participant(participant)
        why = "is not covered by any of these plans" if known else "is not in participants.csv"
        raise NotFoundError(f"participant {participant!r} {why} for {period.label}")
    return [by_plan[id(s.plan)] for s in segments], results


def calculate_workspace(
    ws: Workspace,
    period_label: str,
    participant: str | None = None,
    as_of: datetime | None = None,
    executor: str | None = None,
) -> tuple[list[Plan], list[CalcResult]]:
    """Calculate from the store: each plan's recorded version in force for the period (the rule a
    run posts by, app/plan_versions.py), assignments in force on the period's last day, and the
    data as known at `as_of` (everything recorded when None). Nothing is posted. Returns the plan
    version behind each result, side by side with the results.

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
        refuse_empty_past(conn, upto, as_of)
        data = read_dataset(conn, upto, period, calendar)
        plans = load_plans(conn, ws, upto, period.last_day)
    if not plans:
        raise NotFoundError(NO_PLANS)
    refuse_failing_check(plans)
    chosen = executor or ws.settings.executor
    segments = segments_for(plans, period, calendar)
    results = calculate_segments(segments, lambda plan, span: calculate_with(
        chosen, plan, data, span, calendar, settings=ws.settings))
    return [s.plan for s in segments], results


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
            refuse_empty_past(conn, upto, as_of)
            plans = load_plans(conn, ws, upto, period.last_day)
            if not plans:
                raise NotFoundError(NO_PLANS)
            refuse_failing_check(plans)
            own = read_participants(conn, upto, {participant})
            segments = [s for s in segments_for(plans, period, calendar)
                        if covers(s.plan, own, participant, s.period)]
            covering = list({id(s.plan): s.plan for s in segments}.values())
            data = (read_payee_dataset(conn, upto, period, calendar, participant, reach_of(covering))
                    if covering else own)
        chosen = executor or ws.settings.executor
        results = calculate_segments(segments, lambda plan, span: calculate_with(
            chosen, plan, data, span, calendar, only={participant}, settings=ws.settings))
    if not any(r.payee(participant) for r in results):
        why = "is not covered by any plan in force" if own.participant(participant) else "is not in the store"
        raise NotFoundError(f"participant {participant!r} {why} for {period.label}")
    return [s.plan for s in segments], results


def refuse_empty_past(conn: Connection, upto: int, as_of: datetime | None) -> None:
    """An `--as-of` before the first import sees an empty store: say so (exit 3), with when the
    first import was recorded, rather than print an empty table."""
    if as_of is None or upto:
        return
    from attain.storage.plans import first_import_at

    first = first_import_at(conn)
    when = f"the first import was recorded at {first.isoformat(sep=' ', timespec='seconds')} UTC" if first \
        else "nothing has been imported yet"
    raise NotFoundError(f"nothing was known at {as_of.isoformat(sep=' ', timespec='seconds')} (--as-of): {when}; "
                        "give a later --as-of, or none for everything recorded")


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


def require_participant(ws: Workspace, participant: str) -> None:
    """Raise NotFoundError (exit 3) for a participant the store has never recorded: every command
    taking `--participant` says so instead of printing an empty statement or listing."""
    from attain.storage.payee_reads import read_participants
    from attain.storage.versions import known_import

    with ws.engine.connect() as conn:
        known = read_participants(conn, known_import(conn, None), {participant}).participant(participant)
    if known is None:
        raise NotFoundError(f"participant {participant!r} is not in the store (import it with "
                            "`attain import participants FILE`)")
