"""Stateless calculation: plan files + a data folder -> results, with every data problem up front."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from attain.app.executors import calculate_with
from attain.core.errors import DataError, NotFoundError, PlanError
from attain.core.periods import CALENDAR, FiscalCalendar, parse_period
from attain.core.problems import Problem
from attain.engine.results import CalcResult
from attain.formats.datafolder import load_folder
from attain.formats.plan_file import LoadedPlan, load_plan

if TYPE_CHECKING:
    from attain.app.workspace import Workspace
    from attain.core.plan import Plan


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
    day, and the data as known at `as_of` (everything recorded when None). Nothing is posted."""
    from attain.app.runs import load_plans
    from attain.storage.snapshot import read_dataset
    from attain.storage.versions import known_import

    calendar = ws.settings.calendar
    try:
        period = parse_period(period_label, calendar)
    except ValueError as exc:
        raise DataError(f"--period: {exc}") from None
    with ws.engine.connect() as conn:
        upto = known_import(conn, as_of)
        data = read_dataset(conn, upto, period, calendar)
        plans = load_plans(conn, ws, upto, period.last_day)
    if not plans:
        raise NotFoundError("no plans in this workspace: put plan files in plans/ or `attain import plans plans/`")
    only = {participant} if participant else None
    chosen = executor or ws.settings.executor
    results = [calculate_with(chosen, plan, data, period, calendar, only=only) for plan in plans]
    if participant and not any(r.payee(participant) for r in results):
        why = "is not covered by any plan in force" if data.participant(participant) else "is not in the store"
        raise NotFoundError(f"participant {participant!r} {why} for {period.label}")
    return plans, results
