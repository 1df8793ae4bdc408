"""The narrow read: from the store, only the records one payee's result depends on, as known at
an import, so recomputing one payee costs what that payee has rather than what the store holds.

A payee's lines read their own credits, quotas, metric observations and org terms. Credits come
from the deals they own, the deals split to them (shared or overlay), and, with roll-up
crediting, the deals owned by or split to anyone who reports below them on the credit date.
A team pool reads every member's figures, so its members' records are read as well (`Reach`).

Lookups may find more than is needed, never less: a deal found through a version that is not
its latest is read at its latest version, like any other, and then credits someone else; anyone
who ever reported below the payee (any term, any version) is read with all their terms. What is
read is exactly what `snapshot.read_dataset` holds for those records (the same latest-version
rule and fiscal-year window), so the payee's lines are the same as from the full read.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import (
    BindParameter,
    Column,
    Connection,
    Index,
    Select,
    String,
    Table,
    and_,
    bindparam,
    func,
    or_,
    select,
    union,
)

from attain.core.dataset import DataSet
from attain.core.periods import FiscalCalendar, Period, parse_period
from attain.formats.datafolder import assemble_dataset
from attain.storage.codecs import CODECS
from attain.storage.schema import (
    RowId,
    deal_versions,
    metadata,
    metric_versions,
    participant_versions,
    quota_versions,
    rate_versions,
    split_versions,
)
from attain.storage.snapshot import DEAL_DATES, widen_to_years

# Added to the store's MetaData here (as storage/ledger_tables.py adds the ledger's); filled by a
# trigger on split_versions (migration 0003_payee_reads): one row per split version and participant.
split_members = Table(
    "split_members", metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("split_version_id", RowId, nullable=False),
    Column("import_id", RowId, nullable=False),
    Column("source", String(200), nullable=False),
    Column("deal_id", String(200), nullable=False),
    Column("participant_id", String(200), nullable=False),
)
Index("ix_split_members_participant_id", split_members.c.participant_id)
Index("ix_deal_versions_owner_id", deal_versions.c.owner_id)
Index("ix_participant_versions_participant_id", participant_versions.c.participant_id)
Index("ix_participant_versions_manager_id", participant_versions.c.manager_id)
Index("ix_participant_versions_team", participant_versions.c.team)
Index("ix_quota_versions_participant_id", quota_versions.c.participant_id)
Index("ix_metric_versions_participant_id", metric_versions.c.participant_id)

_LOOKUP = 900  # values per IN (...), below every backend's bound-parameter limit


@dataclass(frozen=True, slots=True, kw_only=True)
class Reach:
    """How far one payee's result reaches beyond their own records (decided from the plans).

    `own_team`: a pool on the payee's own team (any team they were ever in) reads every member.
    `teams`: pools on named teams. `rollup`: roll-up crediting reads the deals of everyone who
    ever reported below the payees read.
    """

    own_team: bool = False
    teams: frozenset[str] = frozenset()
    rollup: bool = False


# The statements are built once; each run binds the import, the values looked up (an expanding
# IN list) and the window, so SQLAlchemy compiles them once per process.
_VALUES: BindParameter[Any] = bindparam("values", expanding=True)
_UPTO: BindParameter[Any] = bindparam("upto")
_START: BindParameter[Any] = bindparam("start")
_END: BindParameter[Any] = bindparam("end")


def _dated(c: Any) -> Any:
    """A deal dated in the window: any of its dates in [start, end), as `read_dataset` keeps deals."""
    return or_(*(and_(c[name] >= _START, c[name] < _END) for name in DEAL_DATES))


def _latest_of(table: Table, where: Any, after: Callable[[Any], Any] | None = None) -> Select[Any]:
    """Per (source, key), the latest version recorded by import `upto` among the rows `where`
    selects, kept if `after` holds for it (as `versions.latest_versions`). `where` must select on what
    the key determines (the participant of a quota, the deal of a version), so that it picks whole
    keys and never only some of a key's versions."""
    ranked = select(table, func.row_number().over(
        partition_by=(table.c.source, table.c.key), order_by=table.c.version.desc()).label("rank_"),
    ).where(table.c.import_id <= _UPTO, where).subquery()
    query = select(ranked).where(ranked.c.rank_ == 1)
    return query if after is None else query.where(after(ranked.c))


@cache
def _statement(name: str) -> Select[Any]:
    p, d, m = participant_versions.c, deal_versions.c, split_members.c
    if name == "participants":
        return _latest_of(participant_versions, p.participant_id.in_(_VALUES))
    if name == "deals":
        # A deal matters when its latest version is dated in the window and credits a holder:
        # then that very version is owned by a holder, or the deal's latest split set names one.
        # So the keys are those of in-window versions owned by a holder and of split versions
        # naming one; the latest version of each is then read and kept by the full read's rule.
        keys = union(
            select(d.key).where(d.import_id <= _UPTO, d.owner_id.in_(_VALUES), _dated(d)),
            select(m.deal_id).where(m.import_id <= _UPTO, m.participant_id.in_(_VALUES)),
        )
        return _latest_of(deal_versions, d.key.in_(keys.scalar_subquery()), _dated)
    if name == "splits":
        return _latest_of(split_versions, split_versions.c.key.in_(_VALUES))
    if name == "quotas":
        return _latest_of(quota_versions, quota_versions.c.participant_id.in_(_VALUES))
    if name == "metrics":
        return _latest_of(metric_versions, metric_versions.c.participant_id.in_(_VALUES))
    if name == "rates":
        r = rate_versions.c
        return _latest_of(rate_versions, or_(r.from_currency.in_(_VALUES), r.to_currency.in_(_VALUES)))
    if name == "teams_of":
        return select(p.team).distinct().where(p.import_id <= _UPTO, p.participant_id.in_(_VALUES))
    if name == "team_members":
        return select(p.participant_id).distinct().where(p.import_id <= _UPTO, p.team.in_(_VALUES))
    if name == "reports_to":
        return select(p.participant_id).distinct().where(p.import_id <= _UPTO, p.manager_id.in_(_VALUES))
    raise KeyError(name)


def _chunks(values: Collection[str]) -> Iterator[list[str]]:
    ordered = sorted(values)
    for start in range(0, len(ordered), _LOOKUP):
        yield ordered[start:start + _LOOKUP]


def _latest(conn: Connection, name: str, upto_import: int, values: Collection[str],
            **window: date) -> list[Mapping[str, Any]]:
    """The rows of statement `name` for `values` (in chunks), in (key, source) order."""
    best: dict[tuple[str, str], Mapping[str, Any]] = {}
    for chunk in _chunks(values):
        for row in conn.execute(_statement(name), {"upto": upto_import, "values": chunk, **window}):
            mapping: Any = row._mapping
            best[(mapping["source"], mapping["key"])] = mapping   # chunks may meet a key twice: the same row
    return [best[spine] for spine in sorted(best, key=lambda s: (s[1], s[0]))]


def latest_of_participants(conn: Connection, kind: str, upto_import: int,
                           participant_ids: Collection[str]) -> list[Mapping[str, Any]]:
    """The latest participant, quota or metric versions of these participants, as known by
    `upto_import`, in (key, source) order (`versions.latest_versions` for them only)."""
    if kind not in ("participants", "quotas", "metrics"):
        raise KeyError(kind)
    return _latest(conn, kind, upto_import, participant_ids)


def _ids(conn: Connection, name: str, upto_import: int, values: Collection[str]) -> set[str]:
    found: set[str] = set()
    for chunk in _chunks(values):
        found.update(value for (value,) in conn.execute(_statement(name), {"upto": upto_import, "values": chunk}))
    return found


def teams_of(conn: Connection, upto_import: int, participant_ids: Collection[str]) -> set[str]:
    """Every team the participants were ever recorded in."""
    return _ids(conn, "teams_of", upto_import, participant_ids)


def team_members(conn: Connection, upto_import: int, teams: Collection[str]) -> set[str]:
    """Everyone ever recorded in one of `teams`."""
    return _ids(conn, "team_members", upto_import, teams)


def reports_below(conn: Connection, upto_import: int, participant_ids: Collection[str]) -> set[str]:
    """Everyone who ever reported, directly or not, to one of the participants (any term, any
    version): whoever roll-up crediting could pass through on some credit date."""
    seen = set(participant_ids)
    frontier = set(participant_ids)
    while frontier:
        frontier = _ids(conn, "reports_to", upto_import, frontier) - seen
        seen |= frontier
    return seen - set(participant_ids)


def read_participants(conn: Connection, upto_import: int, participant_ids: Collection[str]) -> DataSet:
    """Only these participants (their latest rows) and their org terms, as known by `upto_import`."""
    rows = _latest(conn, "participants", upto_import, participant_ids)
    return assemble_dataset(participants=[CODECS["participants"].decode(r) for r in rows], deals=(), splits=(),
                            quotas=(), observations=(), rates=())


def read_payee_dataset(conn: Connection, upto_import: int, period: Period, calendar: FiscalCalendar,
                       participant_id: str, reach: Reach = Reach()) -> DataSet:
    """The records `participant_id`'s result for `period` depends on, as known by `upto_import`
    (see the module doc): the same records `read_dataset(conn, upto_import, period)` gives for them."""
    payees = {participant_id}
    teams = set(reach.teams)
    if reach.own_team:
        teams |= teams_of(conn, upto_import, payees)
    if teams:
        payees |= team_members(conn, upto_import, teams)
    holders = payees | (reports_below(conn, upto_import, payees) if reach.rollup else set())
    start, end = widen_to_years(period, calendar)

    def decoded(kind: str, values: Collection[str], **window: date) -> list[Any]:
        return [CODECS[kind].decode(r) for r in _latest(conn, kind, upto_import, values, **window)]

    deals = decoded("deals", holders, start=start, end=end)
    deal_ids = {d.id for d in deals}
    return assemble_dataset(
        participants=decoded("participants", holders),
        deals=deals,
        splits=[s for split_set in decoded("splits", deal_ids) for s in split_set.splits],
        quotas=[q for q in decoded("quotas", payees) if _overlaps(q.period, start, end, calendar)],
        observations=[m for m in decoded("metrics", payees) if _overlaps(m.period, start, end, calendar)],
        rates=decoded("rates", {d.currency for d in deals}),
        calendar=calendar,
    )


def _overlaps(label: str, start: date, end: date, calendar: FiscalCalendar) -> bool:
    period = parse_period(label, calendar)
    return period.start < end and start < period.end
