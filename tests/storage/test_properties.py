"""Hypothesis over the store: re-importing any file changes nothing; as-of equals then."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from attain.app.imports import import_file
from attain.app.workspace import Workspace
from attain.core.dataset import DataSet
from attain.core.plan import CreditingRules
from attain.crediting import Org, RateTable, credit_deals
from attain.storage.schema import VERSIONED, imports

RUN = itertools.count()
HEADER = "deal_id,owner_id,amount,currency,booked_on,status,delivered_pct,region\n"
PROPERTY = settings(max_examples=12, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])

deal_rows = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=49),                      # owner
        st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False),
        st.integers(min_value=0, max_value=364),                     # day of 2026
        st.sampled_from(["open", "won", "cancelled"]),
        st.integers(min_value=0, max_value=100),                     # delivered %
        st.sampled_from(["", "emea", "amer", "Zürich, \"HQ\""]),     # custom field
    ),
    min_size=1, max_size=30,
)


def count_all(ws: Workspace) -> int:
    with ws.engine.connect() as conn:
        return sum(int(conn.execute(select(func.count()).select_from(t)).scalar_one())
                   for t in (imports, *VERSIONED.values()))


def participants_file(folder: Path) -> Path:
    path = folder / "participants.csv"
    path.write_text("id,name,role\n" + "".join(f"R{i},Rep {i},ae\n" for i in range(50)),
                    encoding="utf-8")
    return path


def write_deals(path: Path, prefix: str, rows: list[tuple]) -> Path:  # type: ignore[type-arg]
    lines = [HEADER]
    for i, (owner, amount, day, status, delivered, region) in enumerate(rows):
        booked = date(2026, 1, 1) + timedelta(days=day)
        quoted = '"' + region.replace('"', '""') + '"' if region else ""
        lines.append(f"{prefix}{i},R{owner},{amount},USD,{booked},{status},{delivered},{quoted}\n")
    path.write_text("".join(lines), encoding="utf-8")
    return path


def mine(data: DataSet, prefix: str) -> DataSet:
    return DataSet(participants=data.participants, org_terms=data.org_terms,
                   deals=tuple(d for d in data.deals if d.id.startswith(prefix)))


def calculate(data: DataSet):  # type: ignore[no-untyped-def]
    return credit_deals(data.deals, data.splits, Org(data.terms()), CreditingRules(rollup=True),
                        "USD", RateTable(data.rates)).credits


def test_reimporting_any_deal_file_twice_changes_nothing(workspace: Workspace,
                                                         tmp_path: Path) -> None:
    import_file(workspace, "participants", participants_file(tmp_path))

    @PROPERTY
    @given(rows=deal_rows)
    def check(rows: list[tuple]) -> None:  # type: ignore[type-arg]
        prefix = f"X{next(RUN)}-"
        path = write_deals(tmp_path / "deals.csv", prefix, rows)
        first = import_file(workspace, "deals", path)
        assert first.new == len(rows)
        before = count_all(workspace)
        snapshot = workspace.dataset()
        again = import_file(workspace, "deals", path)
        assert (again.new, again.changed, again.unchanged, again.written) == (
            0, 0, len(rows), False)
        assert count_all(workspace) == before
        assert workspace.dataset() == snapshot

    check()


def test_a_calculation_as_of_a_past_moment_equals_the_one_made_then(workspace: Workspace,
                                                                    tmp_path: Path) -> None:
    import_file(workspace, "participants", participants_file(tmp_path))

    @PROPERTY
    @given(versions=st.lists(deal_rows, min_size=2, max_size=4))
    def check(versions: list[list[tuple]]) -> None:  # type: ignore[type-arg]
        prefix = f"Y{next(RUN)}-"
        seen = []
        for rows in versions:
            report = import_file(workspace, "deals",
                                 write_deals(tmp_path / "deals.csv", prefix, rows))
            moment = report.recorded_at or max(at for at, _ in seen)
            seen.append((moment, calculate(mine(workspace.dataset(), prefix))))
        for moment, then in seen:
            assert calculate(mine(workspace.dataset(as_of=moment), prefix)) == then

    check()


def test_exact_amounts_survive_the_round_trip(workspace: Workspace, tmp_path: Path) -> None:
    import_file(workspace, "participants", participants_file(tmp_path))

    @PROPERTY
    @given(amounts=st.lists(st.decimals(min_value=-(10**15), max_value=10**15, places=6,
                                        allow_nan=False), min_size=1, max_size=10))
    def check(amounts: list[Decimal]) -> None:
        prefix = f"Z{next(RUN)}-"
        rows = [(1, a, 0, "won", 100, "") for a in amounts]
        import_file(workspace, "deals", write_deals(tmp_path / "deals.csv", prefix, rows))
        stored = {d.id: d.amount for d in mine(workspace.dataset(), prefix).deals}
        assert [stored[f"{prefix}{i}"] for i in range(len(amounts))] == amounts

    check()
