"""The tables a vectorized calculation reads, from a DataSet or from Parquet files.

(Ibis is imported where tables are made, not with the module: a bulk run of a plan kept
compiled derives its small tables here without it.)

Transactions (deals and splits) stay set-shaped: Arrow tables from a DataSet, or Parquet files
read by the backend itself, never Python rows at scale. The small reference tables that need
the reference's own rules (currency rates in force on a day, the management chain as of a
day, periods on the fiscal calendar) are derived once in Python, where those rules live.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from attain.core.dataset import DataSet
from attain.core.errors import UnsupportedError
from attain.core.money import decimal_places
from attain.core.periods import CALENDAR, FiscalCalendar, Period, parse_period
from attain.core.records import CurrencyRate, OrgTerm
from attain.crediting.fx import RateTable
from attain.crediting.org import Org

EARLIEST = date(1, 1, 1)
LATEST = date(9999, 12, 31)
FIELD_PREFIX = "f_"
MAX_SCALE = 16


@dataclass(slots=True, kw_only=True)
class Sources:
    """Ibis tables for one calculation, plus what the plan compiler needs to know about them."""

    deals: Any
    splits: Any
    participants: Any
    quotas: Any
    observations: Any
    fx: Any
    chain: Any | None
    field_names: frozenset[str] = frozenset()
    fx_rows: int = 0
    data: DataSet | None = None
    extras: dict[str, Any] = field(default_factory=dict)


def decimal_column(values: Sequence[Decimal | None], name: str) -> pa.Array:
    """An exact decimal Arrow column, as narrow a scale as the values need."""
    scale = decimal_places(values)
    if scale > MAX_SCALE:
        raise UnsupportedError(f"{name} has {scale} decimal places; the vectorized executor carries {MAX_SCALE}")
    return pa.array(values, type=pa.decimal128(38, scale))


def period_table(labels: Iterable[str], calendar: FiscalCalendar) -> dict[str, Period]:
    return {label: parse_period(label, calendar) for label in set(labels)}


def fx_rows(rates: Sequence[CurrencyRate], currencies: Iterable[str], currency: str) -> list[dict[str, Any]]:
    """The rate in force from each change date on, per deal currency, by the reference's RateTable.

    The table is tiny (one row per rate change), so the rule "direct rate, else the inverse of
    the reverse pair" is applied here, once, by the same code the reference uses.
    """
    table = RateTable(rates)
    rows: list[dict[str, Any]] = []
    for code in sorted(set(currencies) - {currency}):
        days = sorted({r.on for r in rates if {r.from_currency, r.to_currency} == {code, currency}})
        for index, day in enumerate(days):
            rate = table.rate(code, currency, day)
            if rate is None:
                continue
            until = days[index + 1] if index + 1 < len(days) else LATEST
            rows.append({"currency": code, "valid_from": day, "valid_to": until, "rate": rate})
    return rows


def chain_rows(terms: Sequence[OrgTerm]) -> list[dict[str, Any]]:
    """Every (participant, manager above) pair with the dates it holds, nearest manager first."""
    org = Org(terms)
    cuts = sorted({d for t in terms for d in (t.effective_from, t.effective_to) if d is not None})
    bounds = [EARLIEST, *cuts, LATEST]
    people = sorted({t.participant_id for t in terms})
    rows = []
    for start, end in itertools.pairwise(bounds):
        if start >= end:
            continue
        for pid in people:
            for depth, manager in enumerate(org.chain_above(pid, start)):
                rows.append({"participant_id": pid, "manager_id": manager, "depth": depth,
                             "valid_from": start, "valid_to": end})
    return rows


def _table(rows: list[dict[str, Any]], schema: pa.Schema) -> Any:
    columns = {}
    for name in schema.names:
        kind = schema.field(name).type
        values = [row[name] for row in rows]
        if pa.types.is_decimal(kind):
            columns[name] = decimal_column(values, name)
        else:
            columns[name] = pa.array(values, type=kind)
    import ibis

    return ibis.memtable(pa.table(columns))


PARTICIPANTS = pa.schema([("participant_id", pa.string()), ("name", pa.string()), ("role", pa.string()),
                          ("team", pa.string()), ("start_date", pa.date32()), ("end_date", pa.date32())])
SPLITS = pa.schema([("deal_id", pa.string()), ("participant_id", pa.string()), ("share", pa.decimal128(38, 0)),
                    ("role", pa.string())])
PERIODIC = [("participant_id", pa.string()), ("metric", pa.string()), ("period", pa.string()),
            ("start", pa.date32()), ("end", pa.date32()), ("months", pa.int64())]
QUOTAS = pa.schema([*PERIODIC, ("amount", pa.decimal128(38, 0))])
OBSERVATIONS = pa.schema([*PERIODIC, ("value", pa.decimal128(38, 0))])
FX = pa.schema([("currency", pa.string()), ("valid_from", pa.date32()), ("valid_to", pa.date32()),
                ("rate", pa.decimal128(38, 0))])
CHAIN = pa.schema([("participant_id", pa.string()), ("manager_id", pa.string()), ("depth", pa.int64()),
                   ("valid_from", pa.date32()), ("valid_to", pa.date32())])
DATES = ("booked_on", "signed_on", "invoiced_on", "recognized_on")


def from_dataset(data: DataSet, period: Period, currency: str, calendar: FiscalCalendar = CALENDAR,
                 rollup: bool = False) -> Sources:
    """Tables for a DataSet: deals with their custom fields as text columns, the rest as given."""
    import ibis

    org = Org(data.terms())
    people = []
    for p in data.participants:
        term = org.term_on(p.id, period.last_day)
        people.append({"participant_id": p.id, "name": p.name, "role": term.role if term else p.role,
                       "team": term.team if term else p.team, "start_date": p.start_date, "end_date": p.end_date})
    field_names = sorted({k for d in data.deals for k, _ in d.fields})
    deal_columns: dict[str, pa.Array] = {
        "deal_id": pa.array([d.id for d in data.deals], pa.string()),
        "owner_id": pa.array([d.owner_id for d in data.deals], pa.string()),
        "amount": decimal_column([d.amount for d in data.deals], "deal amount"),
        "currency": pa.array([d.currency for d in data.deals], pa.string()),
        "status": pa.array([d.status.value for d in data.deals], pa.string()),
        "delivered": decimal_column([d.delivered for d in data.deals], "delivered share"),
    }
    for name in DATES:
        deal_columns[name] = pa.array([getattr(d, name) for d in data.deals], pa.date32())
    for name in field_names:
        deal_columns[FIELD_PREFIX + name] = pa.array([d.field_map().get(name) for d in data.deals], pa.string())
    labels = period_table([q.period for q in data.quotas] + [o.period for o in data.observations], calendar)
    quota_rows = [_periodic(q.participant_id, q.metric, labels[q.period]) | {"amount": q.amount} for q in data.quotas]
    observation_rows = [_periodic(o.participant_id, o.metric, labels[o.period]) | {"value": o.value}
                        for o in data.observations]
    split_rows = [{"deal_id": s.deal_id, "participant_id": s.participant_id, "share": s.share, "role": s.role}
                  for s in data.splits]
    rates = fx_rows(data.rates, {d.currency for d in data.deals}, currency)
    return Sources(
        deals=ibis.memtable(pa.table(deal_columns)),
        splits=_table(split_rows, SPLITS),
        participants=_table(people, PARTICIPANTS),
        quotas=_table(quota_rows, QUOTAS),
        observations=_table(observation_rows, OBSERVATIONS),
        fx=_table(rates, FX),
        fx_rows=len(rates),
        chain=_table(chain_rows(data.terms()), CHAIN) if rollup else None,
        field_names=frozenset(field_names),
        data=data,
    )


# -- the small tables in two steps, for bulk runs from a store ------------------------------------------
# from_dataset derives the participants, quotas and observations tables from a DataSet for one
# period. At 100,000 payees that is seconds of Python, most of it independent of the period: the
# org terms and the resolved quotas (changes, proration, ramps) do not depend on which period is
# calculated. `resolved_tables` keeps that part as Arrow tables (a store caches them per import);
# `period_tables` derives from them, column-wise, the very tables from_dataset gives for a period.

PEOPLE = pa.schema([("participant_id", pa.string()), ("name", pa.string()), ("role", pa.string()),
                    ("team", pa.string()), ("start_date", pa.date32()), ("end_date", pa.date32())])
TERMS = pa.schema([("participant_id", pa.string()), ("role", pa.string()), ("team", pa.string()),
                   ("effective_from", pa.date32()), ("effective_to", pa.date32())])


def resolved_tables(data: DataSet) -> dict[str, pa.Table]:
    """People (latest row), org terms (in the order Org reads them), quotas and observations of
    every period, as Arrow tables: what `period_tables` needs, for any period. Each amount keeps
    its number of decimal places, so each period's column gets the scale its own values need."""
    people = data.participants
    # Grouped by participant, each one's terms in the order Org reads them (a stable sort by
    # start date, none first), as _participants_on expects.
    terms = sorted(data.terms(), key=lambda t: (t.participant_id, t.effective_from or date.min))
    return {
        "people": _records_table(people, PEOPLE, {"participant_id": "id"}),
        "terms": _records_table(terms, TERMS),
        "quotas": _periodic_records(data.quotas, "amount"),
        "observations": _periodic_records(data.observations, "value"),
    }


def _records_table(records: Sequence[Any], schema: pa.Schema, attributes: dict[str, str] | None = None) -> pa.Table:
    """A column per field of `schema`, read from the records' attribute of that name (or the
    one `attributes` maps it to)."""
    named = attributes or {}
    return pa.table({f.name: pa.array([getattr(r, named.get(f.name, f.name)) for r in records], f.type)
                     for f in schema}, schema=schema)


def _periodic_records(records: Sequence[Any], column: str) -> pa.Table:
    """Quotas or observations of every period: who, which metric, which period, the value and its
    number of decimal places."""
    values = [getattr(r, column) for r in records]
    return pa.table({
        **{name: pa.array([getattr(r, name) for r in records], pa.string())
           for name in ("participant_id", "metric", "period")},
        column: decimal_column(values, column), "places": _places(values),
    })


def _places(values: Sequence[Decimal]) -> pa.Array:
    return pa.array([decimal_places((value,)) for value in values], pa.int8())


def period_tables(resolved: dict[str, pa.Table], period: Period, calendar: FiscalCalendar,
                  window: tuple[date, date] | None = None) -> dict[str, pa.Table]:
    """The participants, quotas and observations tables from_dataset gives for `period`, from
    `resolved_tables` (quotas and observations only of periods overlapping `window`, if given)."""
    return {
        "participants": _participants_on(resolved["people"], resolved["terms"], period.last_day),
        "quotas": _periodic_table(resolved["quotas"], "amount", QUOTAS, calendar, window),
        "observations": _periodic_table(resolved["observations"], "value", OBSERVATIONS, calendar, window),
    }


def _participants_on(people: pa.Table, terms: pa.Table, day: date) -> pa.Table:
    """Each person with the role and team of their term in force on `day` (Org.term_on: the last
    of their terms, in order, that holds), else their own."""
    holds = pc.and_(pc.or_kleene(pc.is_null(terms["effective_from"]), pc.less_equal(terms["effective_from"], day)),
                    pc.or_kleene(pc.is_null(terms["effective_to"]), pc.greater(terms["effective_to"], day)))
    holding = terms.filter(holds)
    ids = holding["participant_id"].combine_chunks()
    # Terms are grouped by participant, in order: a participant's last holding term is the row
    # whose next row belongs to someone else (or the last row).
    if len(ids):
        last = pa.concat_arrays([pc.not_equal(ids.slice(0, len(ids) - 1), ids.slice(1)), pa.array([True])])
        chosen = holding.filter(last)
    else:
        chosen = holding
    term = chosen.select(["participant_id", "role", "team"]).rename_columns(["participant_id", "t_role", "t_team"])
    joined = people.join(term, "participant_id", join_type="left outer").sort_by("participant_id")
    has_term = pc.is_valid(joined["t_role"])
    return pa.table({
        "participant_id": joined["participant_id"],
        "name": joined["name"],
        "role": pc.if_else(has_term, joined["t_role"], joined["role"]),
        "team": pc.if_else(has_term, joined["t_team"], joined["team"]),
        "start_date": joined["start_date"],
        "end_date": joined["end_date"],
    }, schema=PARTICIPANTS)


def _periodic_table(table: pa.Table, column: str, schema: pa.Schema, calendar: FiscalCalendar,
                    window: tuple[date, date] | None) -> pa.Table:
    labels = period_table(pc.unique(table["period"]).to_pylist(), calendar)
    keep = sorted(label for label, p in labels.items() if window is None or (p.start < window[1] and window[0] < p.end))
    kept = table.filter(pc.is_in(table["period"], pa.array(keep, pa.string()))) if len(keep) < len(labels) else table
    bounds = pa.table({
        "period": pa.array(keep, pa.string()),
        "start": pa.array([labels[k].start for k in keep], pa.date32()),
        "end": pa.array([labels[k].end for k in keep], pa.date32()),
        "months": pa.array([labels[k].kind.months for k in keep], pa.int64()),
    })
    joined = kept.join(bounds, "period", join_type="inner").sort_by(
        [("participant_id", "ascending"), ("metric", "ascending"), ("period", "ascending")])
    # The scale from_dataset would give: the most places among this period's own values (each
    # row keeps its value's places; the cast drops only zeros, so it is exact).
    places = pc.max(joined["places"]).as_py() if joined.num_rows else 0
    values = joined[column].cast(pa.decimal128(38, places or 0))
    return pa.table({name: values if name == column else joined[name] for name in schema.names})


def _periodic(pid: str, metric: str, period: Period) -> dict[str, Any]:
    return {"participant_id": pid, "metric": metric, "period": period.label, "start": period.start,
            "end": period.end, "months": period.kind.months}


def from_parquet(con: Any, folder: Path, calendar: FiscalCalendar = CALENDAR) -> Sources:
    """Tables read by the backend from `deals.parquet`, `splits.parquet`, `participants.parquet`
    and `quotas.parquet` (participant_id, metric, period, amount) in `folder`.

    Deals carry the standard columns (deal_id, owner_id, amount, currency, status, the four
    dates, delivered); any other column is a custom field.
    """
    return from_tables(con, {name: con.read_parquet(str(folder / f"{name}.parquet")) for name in BULK_TABLES},
                       calendar)


BULK_TABLES = ("deals", "splits", "participants", "quotas")


def from_tables(con: Any, tables: dict[str, Any], calendar: FiscalCalendar = CALENDAR) -> Sources:
    """Sources over tables the backend already has (Ibis tables, or names of tables in `con`):
    `deals`, `splits`, `participants` and `quotas`, with the columns of the Parquet files
    `from_parquet` reads (a Spark or warehouse table of transactions, for instance)."""
    missing = [name for name in BULK_TABLES if name not in tables]
    if missing:
        raise UnsupportedError(f"a bulk run needs the tables {', '.join(BULK_TABLES)}; missing: {', '.join(missing)}")
    resolved = {name: con.table(t) if isinstance(t, str) else t for name, t in tables.items()}
    deals, quota_table = resolved["deals"], resolved["quotas"]
    labels = period_table(quota_table.period.as_table().distinct().to_pyarrow().column(0).to_pylist(), calendar)
    import ibis

    meta = ibis.memtable(pa.table({
        "period": list(labels), "start": [p.start for p in labels.values()],
        "end": [p.end for p in labels.values()], "months": [p.kind.months for p in labels.values()],
    }))
    quotas = quota_table.join(meta, "period")
    empty_obs = _table([], OBSERVATIONS)
    standard = {"deal_id", "owner_id", "amount", "currency", "status", "delivered", *DATES}
    fields = frozenset(c for c in deals.columns if c not in standard)
    deals = deals.rename({FIELD_PREFIX + c: c for c in fields}) if fields else deals
    return Sources(deals=deals, splits=resolved["splits"], participants=resolved["participants"], quotas=quotas,
                   observations=empty_obs, fx=_table([], FX), chain=None, field_names=fields)
