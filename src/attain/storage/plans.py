"""Plan versions (content-hashed source text with effective dates) and their assignments."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, func, select

from attain.core.plan import Assignment
from attain.storage.schema import imports, plan_assignments, plan_versions
from attain.storage.versions import Counts, append_versions, latest_versions

TARGET_KINDS = ("participant", "role", "team")


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanVersion:
    """A recorded version of a plan file: its text, hash and the dates it is in force.

    `effective_to` is the last day in force, as a plan file's `effective: {to: ...}` reads.
    """

    plan_id: str
    label: str
    version: int
    content_hash: str
    source_text: str
    effective_from: date | None
    effective_to: date | None

    def in_force_on(self, day: date) -> bool:
        return (self.effective_from is None or self.effective_from <= day) and (
            self.effective_to is None or day <= self.effective_to)


@dataclass(frozen=True, slots=True, kw_only=True)
class AssignmentRow:
    """A plan applying to a participant, role or team from `effective_from` to `effective_to`
    (both days included)."""

    plan_id: str
    target_kind: str
    target: str
    effective_from: date | None = None
    effective_to: date | None = None
    active: bool = True

    @property
    def key(self) -> str:
        """The versioning key: one plan, one target, one start date."""
        return f"{self.plan_id}|{self.target_kind}|{self.target}|{self.effective_from or ''}"

    def in_force_on(self, day: date) -> bool:
        return self.active and (self.effective_from is None or self.effective_from <= day) and (
            self.effective_to is None or day <= self.effective_to)


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanInForce:
    """A plan version in force on a day, and who it is assigned to on that day."""

    version: PlanVersion
    assignment: Assignment


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record_plan(conn: Connection, import_id: int, *, plan_id: str, label: str, source_text: str,
                effective_from: date | None, effective_to: date | None,
                source: str = "workspace", on_version: Any = None) -> Counts:
    """Record a plan's text as a new version unless the same text is its latest version."""
    columns = {"plan_id": plan_id, "label": label, "source_text": source_text,
               "effective_from": effective_from, "effective_to": effective_to}
    # The key is the plan and its window, so versions for different years live side by side.
    key = f"{plan_id}|{effective_from or ''}"
    digest = text_hash(source_text)[:32]
    return append_versions(conn, plan_versions, source, import_id, [(key, digest, columns)], on_version=on_version)


def record_assignments(conn: Connection, import_id: int, rows: Iterable[AssignmentRow],
                       source: str = "workspace", on_version: Any = None) -> Counts:
    """Record assignment rows; an existing one with other dates or `active` gets a new version."""
    encoded = []
    for row in rows:
        if row.target_kind not in TARGET_KINDS:
            raise ValueError(f"assignment target kind is one of {TARGET_KINDS}")
        columns = {"plan_id": row.plan_id, "target_kind": row.target_kind, "target": row.target,
                   "effective_from": row.effective_from, "effective_to": row.effective_to,
                   "active": 1 if row.active else 0}
        key = row.key
        digest = text_hash(repr(sorted((k, str(v)) for k, v in columns.items())))[:32]
        encoded.append((key, digest, columns))
    return append_versions(conn, plan_assignments, source, import_id, encoded, on_version=on_version)


def plan_versions_known(conn: Connection, upto_import: int) -> list[PlanVersion]:
    """Every plan version recorded by import `upto_import`, latest per plan and window."""
    return [_version(r) for r in latest_versions(conn, plan_versions, upto_import)]


def plan_history(conn: Connection, plan_id: str) -> list[PlanVersion]:
    """Every recorded version of a plan, oldest first (for audit)."""
    rows = conn.execute(select(plan_versions).where(plan_versions.c.plan_id == plan_id)
                        .order_by(plan_versions.c.import_id, plan_versions.c.id))
    return [_version(r._mapping) for r in rows]


def plans_in_force(conn: Connection, upto_import: int, day: date) -> list[PlanInForce]:
    """The plan versions in force on `day` with their assignments on that day."""
    assignments: dict[str, list[AssignmentRow]] = defaultdict(list)
    for r in latest_versions(conn, plan_assignments, upto_import):
        assignments[r["plan_id"]].append(AssignmentRow(
            plan_id=r["plan_id"], target_kind=r["target_kind"], target=r["target"],
            effective_from=r["effective_from"], effective_to=r["effective_to"],
            active=bool(r["active"])))
    result = []
    for version in sorted(plan_versions_known(conn, upto_import), key=lambda v: v.plan_id):
        if not version.in_force_on(day):
            continue
        rows = [a for a in assignments.get(version.plan_id, []) if a.in_force_on(day)]
        if assignments.get(version.plan_id) and not rows:
            continue  # assigned to people, but to nobody on this day
        result.append(PlanInForce(version=version, assignment=Assignment(
            roles=tuple(sorted(a.target for a in rows if a.target_kind == "role")),
            teams=tuple(sorted(a.target for a in rows if a.target_kind == "team")),
            participants=tuple(sorted(a.target for a in rows if a.target_kind == "participant")),
        )))
    return result


def _version(r: Any) -> PlanVersion:
    return PlanVersion(plan_id=r["plan_id"], label=r["label"], version=r["version"],
                       content_hash=text_hash(r["source_text"]), source_text=r["source_text"],
                       effective_from=r["effective_from"], effective_to=r["effective_to"])


def first_import_at(conn: Connection) -> datetime | None:
    """When the store's first import (of plans or data) was recorded; None for an empty store
    (an `--as-of` before it sees nothing, and is told so)."""
    return conn.execute(select(func.min(imports.c.recorded_at))).scalar_one_or_none()
