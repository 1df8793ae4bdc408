"""Recording plan files in the store: each new text is a plan version; its assignment rows follow it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attain.app.workspace import Workspace, utc_now
from attain.core.errors import InputError, PlanError
from attain.core.plan import Plan
from attain.core.problems import Problem
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
