"""Workspace use cases: create one, open one (checking its schema), migrate it, read it as of a moment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import Engine

from attain.core.dataset import DataSet
from attain.core.errors import ConflictError, InputError
from attain.core.periods import Period, parse_period
from attain.settings import (
    CONFIG_FILE,
    DEFAULT_DATABASE_FILE,
    TEMPLATE,
    Settings,
    find_workspace,
    load_settings,
)
from attain.storage import database
from attain.storage.plans import PlanInForce, PlanVersion, plan_versions_known, plans_in_force
from attain.storage.snapshot import read_dataset
from attain.storage.versions import known_import

# The database, rejected rows, and store/ (the columnar copies of imports, kept tables and bulk
# results: derived from the database and rebuilt from it) stay out of git.
GITIGNORE = f"{DEFAULT_DATABASE_FILE}\n{DEFAULT_DATABASE_FILE}-*\n*.rejected.csv\nstore/\n"


def utc_now() -> datetime:
    """The store's clock: naive UTC, microsecond precision (what both databases keep)."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class Workspace:
    """An open workspace: its settings and its store."""

    settings: Settings
    engine: Engine

    @property
    def root(self) -> Path:
        return self.settings.root

    def period(self, label: str) -> Period:
        return parse_period(label, self.settings.calendar)

    def known_import(self, as_of: datetime | None = None) -> int:
        """The last import known at `as_of` (every import when None)."""
        with self.engine.connect() as conn:
            return known_import(conn, as_of)

    def dataset(self, period: Period | str | None = None, as_of: datetime | None = None) -> DataSet:
        """What the store knew at `as_of` (now when None), for `period` (everything when None).

        With a period, deals, quotas and metrics of the fiscal year(s) around it are read, so
        year-to-date components see them; quotas come resolved (changes, proration, ramps).
        """
        if isinstance(period, str):
            period = self.period(period)
        with self.engine.connect() as conn:
            upto = known_import(conn, as_of)
            return read_dataset(conn, upto, period, self.settings.calendar)

    def plans(self, on: date, as_of: datetime | None = None) -> list[PlanInForce]:
        """Plan versions in force on `on` (YAML text, hash, dates) with their assignments."""
        with self.engine.connect() as conn:
            return plans_in_force(conn, known_import(conn, as_of), on)

    def plan_versions(self, as_of: datetime | None = None) -> list[PlanVersion]:
        with self.engine.connect() as conn:
            return plan_versions_known(conn, known_import(conn, as_of))

    def close(self) -> None:
        self.engine.dispose()


def init_workspace(path: Path, name: str | None = None, currency: str = "USD") -> Workspace:
    """Create a workspace folder (attain.toml, plans/, data/) and its store at the latest schema."""
    if (path / CONFIG_FILE).exists():
        raise ConflictError(f"{path} is already a workspace ({CONFIG_FILE} exists)")
    path.mkdir(parents=True, exist_ok=True)
    (path / "plans").mkdir(exist_ok=True)
    (path / "data").mkdir(exist_ok=True)
    (path / CONFIG_FILE).write_text(
        TEMPLATE.format(name=name or path.resolve().name, currency=currency,
                        db_file=DEFAULT_DATABASE_FILE), encoding="utf-8")
    gitignore = path / ".gitignore"
    if not gitignore.exists():
        gitignore.write_text(GITIGNORE, encoding="utf-8")
    settings = load_settings(path.resolve())
    engine = database.connect(settings.database_url)
    database.upgrade(engine)
    return Workspace(settings=settings, engine=engine)


def locate(path: Path | None = None) -> Path:
    """The workspace at `path` (or found from the current directory upward)."""
    if path is not None:
        if not (path / CONFIG_FILE).is_file():
            raise InputError(f"{path} is not a workspace (no {CONFIG_FILE}); run `attain init {path}`")
        return path.resolve()
    return find_workspace()


def open_workspace(path: Path | None = None) -> Workspace:
    """Open a workspace; a new (empty) store is created, an old schema must be upgraded first."""
    settings = load_settings(locate(path))
    engine = database.connect(settings.database_url)
    if database.is_empty(engine):
        database.upgrade(engine)
    else:
        current, head = database.current_revision(engine), database.head_revision()
        if current != head:
            engine.dispose()
            raise ConflictError(
                f"your workspace schema is old (revision {current}, this Attain needs {head}); "
                "run `attain db upgrade`"
            )
    return Workspace(settings=settings, engine=engine)


def upgrade_workspace(path: Path | None = None) -> tuple[str | None, str]:
    """Migrate the workspace's store to the latest schema; returns (before, after) revisions."""
    settings = load_settings(locate(path))
    engine = database.connect(settings.database_url)
    try:
        before = database.current_revision(engine)
        database.upgrade(engine)
        return before, database.head_revision()
    finally:
        engine.dispose()
