"""Plan versions: recording plan files in the store (each new text is a version; its assignment rows
follow it), choosing the version in force for a period (one rule for every surface), refusing a
plan `plan check` refuses, and telling plans/ apart from what is recorded."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from attain.app.workspace import Workspace, utc_now
from attain.core.errors import ConflictError, DataError, InputError, PlanError, UnsupportedError
from attain.core.periods import FiscalCalendar, Period
from attain.core.plan import Plan
from attain.core.problems import Problem
from attain.engine.results import CalcResult
from attain.storage.plans import AssignmentRow, record_assignments, record_plan
from attain.storage.schema import plan_assignments as plan_assignments_table
from attain.storage.schema import plan_versions as plan_versions_table
from attain.storage.versions import Counts, begin_import, finish_import, latest_rows

if TYPE_CHECKING:
    from attain.app.imports import ImportReport


def plan_files(path: Path) -> list[Path]:
    """A plan file, or every `*.yaml` / `*.yml` in a folder (sorted)."""
    if path.is_dir():
        return sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
    if path.is_file():
        return [path]
    raise InputError(f"{path}: no such plan file or folder")


def assignment_rows(plan: Plan) -> list[AssignmentRow]:
    """The plan file's own assignment, over the plan's effective dates."""
    targets = [("role", r) for r in plan.assignment.roles]
    targets += [("team", t) for t in plan.assignment.teams]
    targets += [("participant", p) for p in plan.assignment.participants]
    return [AssignmentRow(plan_id=plan.id, target_kind=kind, target=target,
                          effective_from=plan.effective_from, effective_to=plan.effective_to)
            for kind, target in targets]


def import_plans(workspace: Workspace, path: Path, *,
                 clock: Callable[[], datetime] = utc_now, actor: str | None = None) -> ImportReport:
    """Validate every plan file, then record new versions in one transaction (all or nothing)."""
    from attain.app.imports import ImportReport, audit_written, default_actor
    from attain.formats.plan_file import parse_plan

    files = plan_files(path)
    plans: list[Plan] = []
    problems: list[Problem] = []
    for file in files:
        try:
            plans.append(parse_plan(file.read_text(encoding="utf-8"), file.name).plan)
        except PlanError as exc:
            problems.extend(exc.problems)
        except UnicodeDecodeError as exc:
            problems.append(Problem(code="plan_encoding", file=file.name, message=str(exc)))
    if problems:
        raise PlanError(f"{len(problems)} problem(s) in plan files; nothing was recorded", problems)
    started = clock()
    counts = Counts()
    with workspace.engine.connect() as conn:
        transaction = conn.begin()
        try:
            import_id = begin_import(conn, kind="plans", source="workspace", file_name=path.name,
                                     file_sha256="", started_at=started)
            written_plans: list[tuple[str, dict[str, Any]]] = []
            written_rows: list[tuple[str, dict[str, Any]]] = []
            plan_keys = [f"{plan.id}|{plan.effective_from or ''}" for plan in plans]
            plans_before = latest_rows(conn, plan_versions_table, "workspace", plan_keys)
            rows_before = latest_rows(conn, plan_assignments_table, "workspace",
                                      [r.key for plan in plans for r in assignment_rows(plan)])
            for plan in plans:
                counts = counts + record_plan(
                    conn, import_id, plan_id=plan.id, label=plan.version or plan.name,
                    source_text=plan.source, effective_from=plan.effective_from,
                    effective_to=plan.effective_to, on_version=lambda k, c: written_plans.append((k, c)))
                record_assignments(conn, import_id, assignment_rows(plan),
                                   on_version=lambda k, c: written_rows.append((k, c)))
            if counts.written == 0:
                transaction.rollback()
                recorded_at, written_id = None, None
            else:
                recorded_at = finish_import(conn, import_id, counts, 0, clock())
                who = actor or default_actor()
                audit_written(conn, "plan", "workspace", written_plans, plans_before, recorded_at, who)
                audit_written(conn, "assignment", "workspace", written_rows, rows_before, recorded_at, who)
                transaction.commit()
                written_id = import_id
        except BaseException:
            if transaction.is_active:
                transaction.rollback()
            raise
    return ImportReport(kind="plans", file=path.name, source="workspace", new=counts.new,
                        changed=counts.changed, unchanged=counts.unchanged, rejected=0,
                        import_id=written_id, recorded_at=recorded_at)


def assign_plan(workspace: Workspace, rows: list[AssignmentRow], *,
                clock: Callable[[], datetime] = utc_now) -> int | None:
    """Record explicit assignments (or end them with `active=False`); returns the import id."""
    with workspace.engine.connect() as conn:
        transaction = conn.begin()
        import_id = begin_import(conn, kind="assignments", source="manual", file_name="",
                                 file_sha256="", started_at=clock())
        counts = record_assignments(conn, import_id, rows, source="manual")
        if counts.written == 0:
            transaction.rollback()
            return None
        finish_import(conn, import_id, counts, 0, clock())
        transaction.commit()
        return import_id


# --- Which version computes a period: one rule for calc, explain, statements, run and bulk -------

VERSION_RULE = "version_at_period_end"
VERSION_RULE_TEXT = ("a version change inside a period: the whole period is computed with the version in force "
                     "at its end (the latest version whose dates overlap it)")


@dataclass(frozen=True, slots=True, kw_only=True)
class VersionSegment:
    """One plan version computing one span: the period asked, or (when versions change between
    the plan's own calculation periods inside it) one of those periods; `note` says why when more
    than one version of the plan overlaps the span."""

    plan: Plan
    period: Period
    note: str | None = None


def version_in_force(versions: Sequence[Plan], measure: Period) -> Plan | None:
    """The version of one plan that computes `measure`: the latest effective one overlapping it
    (so, when versions follow one another, the one in force on the period's last day). This is the
    rule the ledger posts by (ledger/recalculate.py), so what is shown is what is paid."""
    live = overlapping(versions, measure)
    return max(live, key=lambda p: (p.effective_from or date.min, p.version)) if live else None


def overlapping(versions: Sequence[Plan], span: Period) -> list[Plan]:
    return [p for p in versions
            if (p.effective_from is None or p.effective_from <= span.last_day)
            and (p.effective_to is None or p.effective_to >= span.start)]


def version_label(plan: Plan) -> str:
    """`version 2026.2 (from 2026-08-16)`: how a line names the version that produced it."""
    window = []
    if plan.effective_from:
        window.append(f"from {plan.effective_from}")
    if plan.effective_to:
        window.append(f"to {plan.effective_to}")
    return f"version {plan.version}" + (f" ({' '.join(window)})" if window else "")


def segments_for(plans: Sequence[Plan], period: Period, calendar: FiscalCalendar) -> list[VersionSegment]:
    """Each plan's version(s) in force for `period`, by effective dates, one plan id at a time.

    The version is chosen per calculation period of the plan (its longest component period), as a
    run chooses it: a quarterly plan asked for a month takes the version of that quarter; a
    monthly plan asked for a quarter can take another version for each month. A plan none of whose
    versions overlap the period computes nothing for it."""
    from attain.ledger.recalculate import calc_kind, measure_periods

    by_id: dict[str, list[Plan]] = {}
    for plan in sorted(plans, key=lambda p: (p.id, p.version, p.content_hash)):
        by_id.setdefault(plan.id, []).append(plan)
    segments: list[VersionSegment] = []
    for versions in by_id.values():
        kind = calc_kind(versions[-1])
        measures = measure_periods(kind, period.start, period.last_day, calendar)
        chosen = [(m, version_in_force(versions, m)) for m in measures]
        chosen = [(m, v) for m, v in chosen if v is not None]
        if not chosen:
            continue
        if len({id(v) for _, v in chosen}) == 1:
            plan = chosen[0][1]
            assert plan is not None
            segments.append(VersionSegment(plan=plan, period=period,
                                           note=_change_note(plan, versions, measures, period)))
            continue
        for measure, plan in chosen:
            assert plan is not None
            segments.append(VersionSegment(plan=plan, period=measure,
                                           note=_change_note(plan, versions, [measure], measure)))
    return segments


def _change_note(plan: Plan, versions: Sequence[Plan], measures: Sequence[Period], span: Period) -> str | None:
    others = [v for m in measures for v in overlapping(versions, m) if v is not plan]
    if not others:
        return None
    replaced = ", ".join(dict.fromkeys(version_label(v) for v in others))
    return (f"plan {plan.id} {version_label(plan)} computes {span.label}: it is the version in force at the "
            f"period's end; {replaced} also overlapped it (a version change inside a period takes the version "
            "in force at the period's end)")


def with_note(result: CalcResult, note: str | None) -> CalcResult:
    """The result with `note` on every line, so a version change shows where the figure is."""
    if not note:
        return result
    payees = tuple(dataclasses.replace(payee, lines=tuple(
        dataclasses.replace(line, notes=(*line.notes, note)) for line in payee.lines)) for payee in result.payees)
    return dataclasses.replace(result, payees=payees)


def calculate_segments(segments: Sequence[VersionSegment], compute: Callable[[Plan, Period], CalcResult]
                       ) -> list[CalcResult]:
    return [with_note(compute(s.plan, s.period), s.note) for s in segments]


def single_versions(plans: Sequence[Plan], period: Period, calendar: FiscalCalendar) -> list[Plan]:
    """One version per plan for the whole of `period` (the bulk run computes a plan once); a plan
    whose version changes between its calculation periods inside `period` is refused."""
    segments = segments_for(plans, period, calendar)
    split = sorted({s.plan.id for s in segments if s.period != period})
    if split:
        raise UnsupportedError(f"plan(s) {', '.join(split)} change version inside {period.label}; calculate "
                               "each calculation period on its own (e.g. one `--period` per month)")
    return [s.plan for s in segments]


# --- A plan `plan check` refuses is refused everywhere ------------------------------------------

@lru_cache(maxsize=256)
def _check_errors(source_text: str, name: str) -> tuple[Problem, ...]:
    from attain.app.plans import check_curves
    from attain.formats.plan_file import parse_plan

    try:
        loaded = parse_plan(source_text, name)
    except PlanError as exc:
        return tuple(p for p in exc.problems if p.is_error) or (
            Problem(code="plan_error", file=name, message=str(exc)),)
    return tuple(p for p in check_curves(loaded) if p.is_error)


def refuse_failing_check(plans: Sequence[Plan], where: str = "") -> None:
    """Raise PlanError (exit 2) when any plan's text fails `attain plan check`: nothing that check
    refuses is computed, shown or posted."""
    problems: list[Problem] = []
    failing: list[str] = []
    for plan in sorted(plans, key=lambda p: (p.id, p.version)):
        if not plan.source:
            continue
        errors = _check_errors(plan.source, f"{where}{plan.id}")
        if errors:
            failing.append(f"{plan.id} ({version_label(plan)})")
            problems.extend(errors)
    if failing:
        raise PlanError(f"plan {', '.join(failing)} does not pass `attain plan check`; nothing was calculated. "
                        "Fix the plan file, check it with `attain plan check plans/` and record it with "
                        "`attain import plans plans/`", problems)


def refuse_error_problems(problems: Sequence[Problem], period_label: str) -> None:
    """Raise DataError (exit 2) for problems of severity error met while calculating (a missing
    exchange rate or quota, splits not summing to 100%): such a figure is not payable, so a run
    posts nothing until the data is fixed. Warnings pass."""
    errors = [p for p in problems if p.is_error]
    if errors:
        raise DataError(f"{len(errors)} problem(s) of severity error met while calculating {period_label}; "
                        "nothing was run or posted: fix the data (import it again) and run again", errors)


# --- plans/ against the recorded versions ------------------------------------------------------

IMPORT_FIX = "attain import plans plans/"


def plan_drift(conn: Connection, workspace: Workspace, upto: int) -> list[str]:
    """How the plan files in the workspace's plans/ differ from the versions recorded by import
    `upto`: a file whose plan (id and start date) is not recorded, or whose text is not the
    recorded text. Plans recorded but no longer in plans/ are not drift (a retired version stays)."""
    from attain.formats.plan_file import parse_plan
    from attain.storage.plans import plan_versions_known, text_hash

    folder = workspace.settings.plans_dir
    if not folder.is_dir():
        return []
    recorded = {f"{v.plan_id}|{v.effective_from or ''}": v for v in plan_versions_known(conn, upto)}
    differences = []
    for file in plan_files(folder):
        try:
            text = file.read_text(encoding="utf-8")
            plan = parse_plan(text, file.name).plan
        except (PlanError, UnicodeDecodeError):
            differences.append(f"{file.name} does not load (see `attain plan check plans/`)")
            continue
        known = recorded.get(f"{plan.id}|{plan.effective_from or ''}")
        if known is None:
            differences.append(f"{file.name}: plan {plan.id} {version_label(plan)} is not recorded")
        elif known.content_hash != text_hash(text):
            differences.append(f"{file.name}: plan {plan.id} differs from its recorded version {known.version} "
                               f"({known.label})")
    return differences


def drift_message(differences: Sequence[str]) -> str:
    return ("plans/ differs from the recorded plan versions: " + "; ".join(differences)
            + f". Record them with `{IMPORT_FIX}` (or `attain run --import-plans`)")


def refuse_drift(conn: Connection, workspace: Workspace, upto: int) -> None:
    """Raise ConflictError (exit 4) when plans/ differs from what is recorded: a run pays only
    recorded versions, and never silently ignores an edited file."""
    differences = plan_drift(conn, workspace, upto)
    if differences:
        raise ConflictError(drift_message(differences))
