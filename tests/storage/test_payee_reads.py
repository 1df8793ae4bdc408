"""The narrow read: one payee's result from only the records it depends on is exactly their result
from the full read, for every payee of generated workspaces (splits, overlays, roll-ups through a
changing org, team pools, deals changing owner, splits and dates across imports, as of the past)."""

from __future__ import annotations

import gc
import random
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, func, select, text
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import make_url
from storage_support import POSTGRES_URL, postgres_available

from attain.app.calculation import calculate_payee, calculate_workspace
from attain.app.imports import import_file
from attain.app.workspace import Workspace, init_workspace, utc_now
from attain.core.errors import NotFoundError
from attain.storage.payee_reads import Reach, read_payee_dataset, reports_below, split_members
from attain.storage.snapshot import read_dataset
from attain.storage.versions import known_import
from csv_support import write_csv

PAYEE_POSTGRES_URL = make_url(POSTGRES_URL).set(
    database=f"{make_url(POSTGRES_URL).database}_payee").render_as_string(hide_password=False)
PERIODS = ("2026-Q1", "2026-02", "2026")
REPS = ("r1", "r2", "r3", "r4", "r5", "r6")
MANAGERS = ("m1", "m2")

PLANS = {
    "ae": """
plan: ae
name: AE
currency: USD
assign: {roles: [ae]}
crediting: {overlay_roles: [se], clawback_days: 90}
metrics:
  bookings: {sum: amount}
  new_logos: {count: deals, filter: "deal_type == 'new_logo'"}
components:
  - {id: commission, label: Commission, kind: tiered, method: retroactive, metric: bookings, period: quarter,
     tiers: [{from: 0%, to: 100%, rate: 4%}, {from: 100%, rate: 7%}]}
  - {id: monthly, label: Monthly, kind: flat_rate, metric: bookings, period: month, rate: 1%,
     gates: ["csat >= 4"]}
  - {id: logos, label: New logos, kind: spiff, window: {from: 2026-02-01, to: 2026-03-31},
     qualifies: "deal_type == 'new_logo'", amount_per_deal: 250}
""",
    "manager": """
plan: manager
name: Managers on roll-up
currency: USD
assign: {roles: [manager]}
crediting: {rollup: true, overlay_roles: [se]}
cap: {amount: 40000}
metrics:
  bookings: {sum: amount}
components:
  - {id: bonus, label: Team bonus, kind: milestone, metric: bookings, period: quarter, target_incentive: 20000,
     threshold: 50%, pays: 100%}
  - {id: override, label: Override, kind: tiered, method: marginal, metric: bookings, period: month,
     tiers: [{from: 0, to: 200000, rate: 1%}, {from: 200000, rate: 2%}], basis: amount}
""",
    "se": """
plan: se
name: Overlay SEs
currency: EUR
assign: {roles: [se]}
crediting: {overlay_roles: [se], date_basis: signed}
metrics:
  bookings: {sum: amount}
components:
  - {id: overlay, label: Overlay, kind: flat_rate, metric: bookings, period: quarter, rate: 0.5%}
""",
    "pool": """
plan: pool
name: Team pool
currency: USD
assign: {teams: [east, west]}
crediting: {rollup: true}
metrics:
  bookings: {sum: amount}
components:
  - id: team_pool
    label: Team pool
    kind: pool
    metric: bookings
    period: quarter
    quota: 500000
    target_incentive: 30000
    funding: {kind: stepped, steps: [{at: 50%, pays: 50%}, {at: 100%, pays: 100%}]}
    buckets:
      - {id: volume, share: 70%, split: contribution}
      - {id: even, share: 30%, split: equal}
""",
    "east": """
plan: east
name: East pool
currency: USD
assign: {roles: [ae, manager]}
metrics:
  bookings: {sum: amount}
components:
  - {id: east_pool, label: East pool, kind: pool, team: east, metric: bookings, period: month,
     funding: {kind: flat_rate, rate: 0.2%}, buckets: [{id: all, share: 100%, split: contribution}]}
""",
}


def day(rng: random.Random, first: date = date(2025, 12, 1), days: int = 150) -> str:
    return (first + timedelta(days=rng.randrange(days))).isoformat()


def person(pid: str, role: str, team: str, manager: str = "", **extra: str) -> dict[str, str]:
    return {"id": pid, "name": pid.upper(), "role": role, "team": team, "manager_id": manager, **extra}


def org(rng: random.Random) -> list[dict[str, str]]:
    """A VP over two managers over six reps, two SEs; some reps move team and manager mid-year,
    some start or leave during it."""
    rows = [person("vp", "manager", "lead"), person("m1", "manager", "east", "vp"),
            person("m2", "manager", "west", "vp"), person("se1", "se", "east"), person("se2", "se", "west", "m2")]
    for index, pid in enumerate(REPS):
        team, manager = ("east", "m1") if index % 2 == 0 else ("west", "m2")
        extra = {}
        if rng.random() < 0.25:
            extra["start_date"] = day(rng, date(2026, 1, 1), 60)
        if rng.random() < 0.15:
            extra["end_date"] = day(rng, date(2026, 3, 5), 60)
        if rng.random() < 0.4:   # a move: a second term from a date inside the year
            moved = day(rng, date(2026, 1, 15), 90)
            rows.append(person(pid, "ae", team, manager, effective_from="2025-01-01", **extra))
            new_team, new_manager = rng.choice([("east", "m1"), ("west", "m2"), ("east", "m2"), ("lead", "vp")])
            rows.append(person(pid, rng.choice(["ae", "ae", "manager"]), new_team, new_manager,
                               effective_from=moved, **extra))
        else:
            rows.append(person(pid, "ae", team, manager, **extra))
    return rows


def deal(rng: random.Random, deal_id: str, owners: Sequence[str]) -> dict[str, str]:
    status = rng.choice(["won", "won", "won", "cancelled", "open"])
    booked = day(rng)
    row = {"deal_id": deal_id, "owner_id": rng.choice(owners),
           "amount": f"{rng.randrange(1_000, 400_000)}.{rng.randrange(100):02d}",
           "currency": rng.choice(["USD", "USD", "EUR"]), "status": status, "booked_on": booked,
           "signed_on": day(rng) if rng.random() < 0.7 else "",
           "cancelled_on": day(rng, date(2026, 2, 1), 60) if status == "cancelled" else "",
           "delivered_pct": rng.choice(["100", "100", "50"]),
           "deal_type": rng.choice(["new_logo", "renewal", "expansion"])}
    if rng.random() < 0.05:
        row["booked_on"] = "2027-01-15"   # outside the fiscal year read for 2026
    return row


def splits(rng: random.Random, deal_id: str, people: Sequence[str]) -> list[dict[str, str]]:
    shape = rng.randrange(4)
    chosen = rng.sample(list(people), 3)
    if shape == 0:
        return [{"deal_id": deal_id, "participant_id": chosen[0], "share": "60", "role": "split"},
                {"deal_id": deal_id, "participant_id": chosen[1], "share": "40", "role": "split"}]
    if shape == 1:
        return [{"deal_id": deal_id, "participant_id": chosen[0], "share": "50", "role": "split"},
                {"deal_id": deal_id, "participant_id": chosen[1], "share": "25", "role": "split"},
                {"deal_id": deal_id, "participant_id": chosen[2], "share": "25", "role": "split"}]
    if shape == 2:
        return [{"deal_id": deal_id, "participant_id": rng.choice(["se1", "se2"]), "share": "", "role": "se"}]
    return [{"deal_id": deal_id, "participant_id": chosen[0], "share": "100", "role": "split"},
            {"deal_id": deal_id, "participant_id": "se1", "share": "", "role": "se"}]


def batches(rng: random.Random) -> Iterator[dict[str, list[dict[str, str]]]]:
    """The imports of a generated workspace, in order: a first load, then changes."""
    owners = [*REPS, *MANAGERS, "vp"]
    sellers = [*REPS, *MANAGERS]
    count = rng.randrange(4, 26)
    deals = {f"d{n:02d}": deal(rng, f"d{n:02d}", owners) for n in range(count)}
    first_splits = [row for deal_id in deals if rng.random() < 0.4 for row in splits(rng, deal_id, sellers)]
    quotas = []
    for pid in [*REPS, *MANAGERS]:
        if rng.random() < 0.5:
            quotas.append({"participant_id": pid, "metric": "bookings", "period": "2026-Q1",
                           "amount": str(rng.choice([200_000, 400_000, 800_000]))})
        else:
            quotas += [{"participant_id": pid, "metric": "bookings", "period": f"2026-0{m}", "amount": "150000"}
                       for m in (1, 2, 3)]
        quotas.append({"participant_id": pid, "metric": "bookings", "period": "2026", "amount": "2000000"})
    metrics = [{"participant_id": pid, "metric": "csat", "period": f"2026-0{m}", "value": rng.choice(["3.5", "4.5"])}
               for pid in REPS for m in (1, 2, 3) if rng.random() < 0.7]
    rates = [{"from_currency": "EUR", "to_currency": "USD", "date": "2025-12-01", "rate": "1.1"},
             {"from_currency": "EUR", "to_currency": "USD", "date": "2026-02-10", "rate": "1.08"}]
    yield {"participants": org(rng), "rates": rates, "quotas": quotas, "metrics": metrics,
           "deals": list(deals.values()), **({"splits": first_splits} if first_splits else {})}
    for _ in range(rng.randrange(1, 3)):
        changed = {}
        for deal_id in rng.sample(sorted(deals), min(len(deals), rng.randrange(1, 6))):
            row = dict(deals[deal_id])
            what = rng.randrange(4)
            if what == 0:
                row["owner_id"] = rng.choice(owners)
            elif what == 1:
                row["amount"] = f"{rng.randrange(1_000, 400_000)}.00"
            elif what == 2:
                row["booked_on"] = day(rng)
            else:
                row["status"], row["cancelled_on"] = "cancelled", day(rng, date(2026, 2, 1), 60)
            deals[deal_id] = changed[deal_id] = row
        start = len(deals)
        for n in range(start, start + rng.randrange(0, 4)):
            deals[f"d{n:02d}"] = changed[f"d{n:02d}"] = deal(rng, f"d{n:02d}", owners)
        later: dict[str, list[dict[str, str]]] = {"deals": list(changed.values())}
        resplit = [row for deal_id in rng.sample(sorted(deals), min(3, len(deals)))
                   for row in splits(rng, deal_id, sellers)]
        if resplit:
            later["splits"] = resplit
        if rng.random() < 0.5:   # a rep changes manager from a date (a new term)
            pid = rng.choice(REPS)
            later["participants"] = [person(pid, "ae", rng.choice(["east", "west"]), rng.choice(MANAGERS),
                                            effective_from=day(rng, date(2026, 1, 20), 60))]
        yield later


def load(ws: Workspace, rng: random.Random, plan_ids: Sequence[str]) -> list[datetime]:
    """Import the plans and every batch; the moments after each batch (for as-of reads)."""
    for plan_id in plan_ids:
        (ws.root / "plans" / f"{plan_id}.yaml").write_text(PLANS[plan_id], encoding="utf-8")
    import_file(ws, "plans", ws.root / "plans")
    moments = []
    for number, batch in enumerate(batches(rng)):
        for kind in ("participants", "rates", "quotas", "metrics", "deals", "splits"):
            if kind in batch:
                import_file(ws, kind, write_csv(ws.root / "data" / f"{kind}-{number}.csv", batch[kind]))
        moments.append(utc_now())
    return moments


def assert_narrow_equals_full(ws: Workspace, moments: Sequence[datetime]) -> int:
    """For each period and moment, every participant: the narrow result equals the full one."""
    compared = 0
    with ws.engine.connect() as conn:
        people = sorted({r[0] for r in conn.execute(text("SELECT participant_id FROM participant_versions"))})
    for as_of in (moments[0], None):
        for label in PERIODS:
            _plans, full = calculate_workspace(ws, label, as_of=as_of, executor="reference")
            for pid in people:
                expected = {p.plan_id: p for r in full for p in r.payees if p.participant_id == pid}
                if not expected:
                    with pytest.raises(NotFoundError):
                        calculate_payee(ws, label, pid, as_of=as_of, executor="reference")
                    continue
                _plans, narrow = calculate_payee(ws, label, pid, as_of=as_of, executor="reference")
                got = {p.plan_id: p for r in narrow for p in r.payees}
                assert set(got) == set(expected), (label, as_of, pid)
                for plan_id, payee in expected.items():
                    assert got[plan_id] == payee, (label, as_of, pid, plan_id)
                compared += 1
    assert gc.isenabled(), "calculate_payee pauses the cycle collector and must turn it on again"
    return compared


def assert_narrow_records_are_full_records(ws: Workspace) -> None:
    """What the narrow read returns is exactly what the full read holds for those records."""
    period = ws.period("2026-Q1")
    with ws.engine.connect() as conn:
        upto = known_import(conn, None)
        full = read_dataset(conn, upto, period, ws.settings.calendar)
        for pid in ("r1", "m1", "vp"):
            narrow = read_payee_dataset(conn, upto, period, ws.settings.calendar, pid,
                                        Reach(own_team=True, rollup=True))
            for kind in ("participants", "org_terms", "deals", "splits", "quotas", "observations", "rates"):
                assert set(getattr(narrow, kind)) <= set(getattr(full, kind)), (pid, kind)


@pytest.fixture
def sqlite_workspaces(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    counter = iter(range(10**6))

    def make() -> Workspace:
        number = next(counter)
        monkeypatch.setenv("ATTAIN_DATABASE_URL", f"sqlite:///{(tmp_path / f'store-{number}.db').as_posix()}")
        return init_workspace(tmp_path / f"ws-{number}")

    yield make


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1),
       plan_ids=st.lists(st.sampled_from(sorted(PLANS)), min_size=1, max_size=5, unique=True))
def test_every_payee_narrow_equals_full_on_sqlite(sqlite_workspaces, seed: int, plan_ids: list[str]):
    ws = sqlite_workspaces()
    try:
        moments = load(ws, random.Random(seed), plan_ids)
        assert assert_narrow_equals_full(ws, moments) > 0
        assert_narrow_records_are_full_records(ws)
    finally:
        ws.close()


def payee_postgres() -> None:
    """An empty schema in the narrow-read tests' own database (created once, never dropped: DROP
    DATABASE waits for every backend of the server to answer, a busy one included)."""
    url = make_url(PAYEE_POSTGRES_URL)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": url.database}).first():
            conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    admin.dispose()
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("seed", [11, 2026])
def test_every_payee_narrow_equals_full_on_postgres(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int):
    if not postgres_available():
        pytest.skip("no PostgreSQL server at ATTAIN_TEST_POSTGRES_URL")
    payee_postgres()
    monkeypatch.setenv("ATTAIN_DATABASE_URL", PAYEE_POSTGRES_URL)
    ws = init_workspace(tmp_path / "ws")
    try:
        moments = load(ws, random.Random(seed), sorted(PLANS))
        assert assert_narrow_equals_full(ws, moments) > 0
        assert_narrow_records_are_full_records(ws)
    finally:
        ws.close()


def test_split_members_are_written_with_every_split_version(tmp_path: Path, store_url: str):
    ws = init_workspace(tmp_path / "ws")
    try:
        import_file(ws, "participants", write_csv(tmp_path / "p.csv", [person(p, "ae", "east") for p in ("a", "b")]
                                                  + [person("s", "se", "east")]))
        import_file(ws, "deals", write_csv(tmp_path / "d.csv", [
            {"deal_id": "d1", "owner_id": "a", "amount": "100", "currency": "USD", "status": "won",
             "booked_on": "2026-01-05"}]))
        import_file(ws, "splits", write_csv(tmp_path / "s1.csv", [
            {"deal_id": "d1", "participant_id": "a", "share": "50", "role": "split"},
            {"deal_id": "d1", "participant_id": "b", "share": "50", "role": "split"},
            {"deal_id": "d1", "participant_id": "s", "share": "", "role": "se"}]))
        import_file(ws, "splits", write_csv(tmp_path / "s2.csv", [
            {"deal_id": "d1", "participant_id": "a", "share": "100", "role": "split"}]))
        with ws.engine.connect() as conn:
            rows = sorted(tuple(r) for r in conn.execute(select(
                split_members.c.import_id, split_members.c.deal_id, split_members.c.participant_id)))
            upto = known_import(conn, None)
            period = ws.period("2026-Q1")
            # b was split d1 by import 3 only; as known now, d1 is a's alone but b still reads d1
            # (a superset), whose latest version credits b nothing.
            b = read_payee_dataset(conn, upto, period, ws.settings.calendar, "b")
            assert [d.id for d in b.deals] == ["d1"] and [s.participant_id for s in b.splits] == ["a"]
            assert reports_below(conn, upto, {"a"}) == set()
        assert rows == [(3, "d1", "a"), (3, "d1", "b"), (3, "d1", "s"), (4, "d1", "a")]
    finally:
        ws.close()


def test_upgrading_an_older_store_fills_in_the_split_members_and_downgrading_removes_them(store_url: str):
    from alembic import command

    from attain.core.records import Split
    from attain.storage import database
    from attain.storage.codecs import CODECS, SplitSet
    from attain.storage.schema import split_versions
    from attain.storage.versions import Counts, append_versions, begin_import, finish_import

    engine = database.connect(store_url)
    try:
        database.upgrade(engine, "0002_ledger")   # a store made before the narrow read
        with engine.begin() as conn:
            import_id = begin_import(conn, kind="splits", source="crm", file_name="s.csv", file_sha256="0" * 64,
                                     started_at=utc_now())
            sets = [SplitSet(deal_id="d1", splits=(Split(deal_id="d1", participant_id="a", share=Decimal("0.5")),
                                                   Split(deal_id="d1", participant_id="b", share=Decimal("0.5")))),
                    SplitSet(deal_id="d2", splits=(Split(deal_id="d2", participant_id="s", share=Decimal(1),
                                                         role="se"),))]
            append_versions(conn, split_versions, "crm", import_id, [CODECS["splits"].row(s) for s in sets])
            finish_import(conn, import_id, Counts(new=2), 0, utc_now())
        database.upgrade(engine)
        with engine.connect() as conn:
            members = sorted(tuple(r) for r in conn.execute(select(
                split_members.c.source, split_members.c.deal_id, split_members.c.participant_id)))
        assert members == [("crm", "d1", "a"), ("crm", "d1", "b"), ("crm", "d2", "s")]
        with engine.begin() as conn:
            config = database.alembic_config()
            config.attributes["connection"] = conn
            command.downgrade(config, "0002_ledger")
        with engine.connect() as conn:
            assert "split_members" not in sa_inspect(conn).get_table_names()
        database.upgrade(engine)
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(split_members)).scalar_one() == 3
    finally:
        engine.dispose()
