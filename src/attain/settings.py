"""Workspace settings: `attain.toml` (database, currency, rounding, calendar, import mappings).

A workspace is a folder holding `attain.toml`; it is found from the current directory
upward, or named with `--workspace`. `ATTAIN_DATABASE_URL` overrides the configured
database. With no database configured, the store is a SQLite file inside the workspace.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from attain.core.errors import InputError, NotFoundError
from attain.core.money import MoneyFormatError, RoundingMode, check_currency
from attain.core.periods import CALENDAR, FiscalCalendar
from attain.core.problems import Problem
from attain.formats.records import KINDS, ImportMapping

CONFIG_FILE = "attain.toml"
DEFAULT_DATABASE_FILE = "attain.db"
DATABASE_ENV = "ATTAIN_DATABASE_URL"
EXECUTORS = ("auto", "reference", "duckdb", "postgres", "spark")

TEMPLATE = """\
# Attain workspace settings. Keep this folder in git (the database file is ignored).

[workspace]
name = "{name}"
# Empty: a SQLite file ({db_file}) in this folder. For a team server, e.g.
# "postgresql+psycopg://user@host/attain". ATTAIN_DATABASE_URL overrides this.
database_url = ""
currency = "{currency}"
# half_up, half_even, half_down, up, down, ceiling, floor
rounding = "half_up"
# auto (the reference engine for one payee or a small population, DuckDB for bulk),
# reference (plain Python), duckdb, postgres or spark (the vectorized executor)
executor = "auto"

[calendar]
# The month the fiscal year starts (1 = calendar year) and whether FY labels use the
# year the fiscal year starts or ends in.
start_month = 1
named_by = "start"

# Where the vectorized executors compute (with --executor postgres or spark, or executor above).
# [postgres]
# The database the postgres executor computes in: ATTAIN_POSTGRES_URL, else this url, else
# this workspace's own database when it is PostgreSQL.
# url = "postgresql://user@host/attain"
#
# [spark]
# Settings of the executor's Spark session; none: local mode on this machine.
# "spark.master" = "spark://spark-master:7077"
# "spark.executor.memory" = "4g"

# Column mappings let a CRM, HR or finance export load without editing, per import kind:
# participants, quotas, deals, splits, metrics, rates.
#
# [imports.deals]
# thousands = ","                       # accept 1,000.00 in this export (groups of three)
# decimal = "."                         # the decimal mark; "," (with thousands = ".") reads 1.000,50
# [imports.deals.columns]
# "Opportunity ID" = "deal_id"
# "Opportunity Owner" = "owner_id"
# "Amount" = "amount"
# "Stage" = "status"
# "Close Date" = "booked_on"
# [imports.deals.values.status]
# "Closed Won" = "won"
# "Closed Lost" = "cancelled"
# [imports.deals.defaults]
# currency = "USD"
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """A workspace's settings as read from `attain.toml` (and the environment)."""

    root: Path
    name: str = ""
    database_url: str = ""
    currency: str = "USD"
    rounding: RoundingMode = RoundingMode.HALF_UP
    executor: str = "auto"
    calendar: FiscalCalendar = CALENDAR
    mappings: Mapping[str, ImportMapping] = field(default_factory=dict)
    # The database the postgres executor computes in ("": ATTAIN_POSTGRES_URL, else the store's
    # own database when it is PostgreSQL) and the spark executor's session settings.
    postgres_url: str = ""
    spark: Mapping[str, str] = field(default_factory=dict)

    @property
    def plans_dir(self) -> Path:
        return self.root / "plans"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def mapping(self, kind: str) -> ImportMapping:
        return self.mappings.get(kind, ImportMapping())


def find_workspace(start: Path | None = None) -> Path:
    """The nearest folder at or above `start` (default: cwd) holding `attain.toml`."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_FILE).is_file():
            return folder
    raise NotFoundError(
        f"no {CONFIG_FILE} in {here} or any folder above it; run `attain init DIR` "
        "or pass --workspace"
    )


def database_url(root: Path, configured: str, env: Mapping[str, str] | None = None) -> str:
    """The database to use: the environment, then the configured URL, then the workspace file."""
    environ = os.environ if env is None else env
    url = environ.get(DATABASE_ENV, "").strip() or configured.strip()
    if not url:
        return f"sqlite:///{(root / DEFAULT_DATABASE_FILE).as_posix()}"
    if url.startswith("postgresql://"):
        # The driver shipped with the `postgres` extra is psycopg 3.
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        relative = url.removeprefix("sqlite:///")
        if relative and relative != ":memory:":
            url = f"sqlite:///{(root / relative).as_posix()}"
    return url


def load_settings(root: Path, env: Mapping[str, str] | None = None) -> Settings:
    """Read `root/attain.toml`; every wrong setting is reported together."""
    path = root / CONFIG_FILE
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NotFoundError(f"{root} is not a workspace (no {CONFIG_FILE})") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{CONFIG_FILE}: not valid TOML", [
            Problem(code="toml_syntax", file=CONFIG_FILE, message=str(exc)),
        ]) from None
    problems: list[Problem] = []

    def bad(key: str, message: str, value: object = None) -> None:
        problems.append(Problem(code="bad_setting", file=CONFIG_FILE, key=key, message=message,
                                value=None if value is None else str(value)))

    workspace = _table(document, "workspace", bad)
    calendar_doc = _table(document, "calendar", bad)
    currency = str(workspace.get("currency", "USD"))
    try:
        check_currency(currency)
    except MoneyFormatError:
        bad("workspace.currency", "a three-letter upper-case currency code", currency)
    rounding = RoundingMode.HALF_UP
    try:
        rounding = RoundingMode(str(workspace.get("rounding", "half_up")))
    except ValueError:
        bad("workspace.rounding", "one of " + ", ".join(m.value for m in RoundingMode),
            workspace.get("rounding"))
    executor = str(workspace.get("executor", "auto"))
    if executor not in EXECUTORS:
        bad("workspace.executor", "one of " + ", ".join(EXECUTORS), executor)
    calendar = CALENDAR
    try:
        calendar = FiscalCalendar(start_month=int(calendar_doc.get("start_month", 1)),
                                  named_by=str(calendar_doc.get("named_by", "start")))
    except (TypeError, ValueError) as exc:
        bad("calendar", str(exc))
    mappings = _mappings(_table(document, "imports", bad), bad)
    postgres_url = _postgres_url(_table(document, "postgres", bad), bad)
    spark = _spark(_table(document, "spark", bad), bad)
    if problems:
        raise InputError(f"{CONFIG_FILE} has {len(problems)} wrong setting(s)", problems)
    return Settings(
        root=root,
        name=str(workspace.get("name", root.name)),
        database_url=database_url(root, str(workspace.get("database_url", "")), env),
        currency=currency,
        rounding=rounding,
        executor=executor,
        calendar=calendar,
        mappings=mappings,
        postgres_url=postgres_url,
        spark=spark,
    )


def _postgres_url(table: Mapping[str, Any], bad: Any) -> str:
    for key in sorted(set(table) - {"url"}):
        bad(f"postgres.{key}", "unknown setting (expected url)")
    url = table.get("url", "")
    if not isinstance(url, str):
        bad("postgres.url", "a database URL in quotes", url)
        return ""
    url = url.strip()
    if url and not url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        bad("postgres.url", "a PostgreSQL URL (postgresql://user@host/database)", url)
    return url


def _spark(table: Mapping[str, Any], bad: Any) -> dict[str, str]:
    """Spark session settings, as text the way Spark's configuration holds them."""
    settings: dict[str, str] = {}
    for key, value in table.items():
        if not key.startswith("spark."):
            bad(f"spark.{key}", 'a Spark setting, named as Spark names it, in quotes ("spark.master" = "...")')
        elif isinstance(value, bool):
            settings[key] = "true" if value else "false"
        elif isinstance(value, str | int | float):
            settings[key] = str(value)
        else:
            bad(f"spark.{key}", "a text, number or true/false", value)
    return settings


def _table(document: Mapping[str, Any], key: str, bad: Any) -> Mapping[str, Any]:
    value = document.get(key, {})
    if not isinstance(value, dict):
        bad(key, "expected a table")
        return {}
    return value


def _mappings(imports: Mapping[str, Any], bad: Any) -> dict[str, ImportMapping]:
    result: dict[str, ImportMapping] = {}
    for kind, body in imports.items():
        where = f"imports.{kind}"
        if kind not in KINDS:
            bad(where, "not an import kind (expected one of " + ", ".join(KINDS) + ")")
            continue
        if not isinstance(body, dict):
            bad(where, "expected a table")
            continue
        unknown = set(body) - {"columns", "values", "defaults", "thousands", "decimal"}
        for key in sorted(unknown):
            bad(f"{where}.{key}", "unknown setting (expected columns, values, defaults, thousands, decimal)")
        columns = body.get("columns", {})
        values = body.get("values", {})
        defaults = body.get("defaults", {})
        if not all(isinstance(v, str) for v in columns.values()):
            bad(f"{where}.columns", "maps a source column name to an Attain column name")
        if not all(isinstance(t, dict) for t in values.values()):
            bad(f"{where}.values", "maps, per column, source values to Attain values")
        thousands = body.get("thousands")
        if thousands is not None and thousands not in (",", ".", " ", "'", "_"):
            bad(f"{where}.thousands", "one of , . ' _ or a space", thousands)
        decimal = body.get("decimal", ".")
        if decimal not in (".", ","):
            bad(f"{where}.decimal", "the decimal mark is . or ,", decimal)
            decimal = "."
        elif decimal == thousands:
            bad(f"{where}.decimal", "the decimal mark and the thousands separator differ", decimal)
        result[kind] = ImportMapping(
            columns={str(k): str(v) for k, v in columns.items()},
            values={str(c): {str(k): str(v) for k, v in t.items()}
                    for c, t in values.items() if isinstance(t, dict)},
            defaults={str(k): str(v) for k, v in defaults.items()},
            thousands=thousands,
            decimal=decimal,
        )
    return result
