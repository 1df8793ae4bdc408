"""Team pools and per-deal rounding on DuckDB, checked by hand and against the reference engine."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import ibis
import pytest

from attain.core.dataset import DataSet
from attain.core.errors import UnsupportedError
from attain.core.periods import parse_period
from attain.core.records import Deal, DealStatus, MetricObservation, OrgTerm, Participant
from attain.demo.generate import generate
from attain.engine.reference import calculate
from attain.engine.results import CalcResult
from attain.engine.vectorized import calculate_vectorized
from attain.engine.vectorized.compiler import refuse_unsupported
from attain.formats.datafolder import load_folder
from attain.formats.plan_file import load_plan, parse_plan

from .generated import differences

Q1 = parse_period("2026-Q1")


@pytest.fixture(scope="module")
def duckdb_backend() -> object:
    return ibis.duckdb.connect()


def both(plan_text: str, data: DataSet, con: object) -> tuple[CalcResult, CalcResult]:
    plan = parse_plan(plan_text).plan
    reference = calculate(plan, data, Q1)
    vectorized = calculate_vectorized(plan, data, Q1, connection=con)
    assert differences(reference, vectorized) == []
    return reference, vectorized


def amounts(result: CalcResult) -> dict[tuple[str, str, str], Decimal]:
    return {(line.participant_id, line.component_id, line.period): line.amount for line in result.lines}


def people(*rows: tuple[str, str], start: dict[str, date] | None = None) -> tuple[Participant, ...]:
    return tuple(Participant(id=pid, name=pid.upper(), role="ae", team=team, start_date=(start or {}).get(pid))
                 for pid, team in rows)


def deal(deal_id: str, owner: str, amount: str, booked: date) -> Deal:
    return Deal(id=deal_id, owner_id=owner, amount=Decimal(amount), currency="USD", status=DealStatus.WON,
                booked_on=booked)


POOL_HEAD = """
plan: pool
name: Pool
currency: USD
metrics:
  bookings: {sum: amount}
  quality: {average: quality}
components:
"""


def test_the_demo_partner_pool_gives_the_reference_lines_on_duckdb(tmp_path: Path, duckdb_backend: object) -> None:
    demo = generate(tmp_path / "demo")
    plan = load_plan(demo.root / "plans" / "partner-pool.yaml").plan
    data = load_folder(demo.data)
    reference = calculate(plan, data, Q1)
    vectorized = calculate_vectorized(plan, data, Q1, connection=duckdb_backend)
    assert differences(reference, vectorized) == []
    assert [line.kind for line in vectorized.lines] == ["pool"] * 3
    assert sum(line.amount for line in vectorized.lines) == Decimal("60000.00")
    for line in vectorized.lines:
        assert line.pool is not None and line.pool.pool_amount == Decimal("60000.00")
        assert [bucket for bucket, *_ in line.pool.buckets] == ["volume", "quality", "collaboration"]
        assert sum(share for *_, share in line.pool.buckets) == line.amount


def test_a_pool_of_100_split_equally_among_three_gives_the_extra_cent_to_the_first_member(
        duckdb_backend: object) -> None:
    plan = POOL_HEAD + """
  - id: pool
    label: Team pool
    kind: pool
    metric: bookings
    funding: {kind: flat_rate, rate: 10%}
    buckets:
      - {id: all, share: 100%, split: equal}
"""
    data = DataSet(participants=people(("b", "t"), ("a", "t"), ("c", "t")),
                   deals=(deal("d1", "c", "1000", date(2026, 2, 1)),))
    reference, vectorized = both(plan, data, duckdb_backend)
    expected = {("a", "pool", "2026-Q1"): Decimal("33.34"), ("b", "pool", "2026-Q1"): Decimal("33.33"),
                ("c", "pool", "2026-Q1"): Decimal("33.33")}
    assert amounts(reference) == amounts(vectorized) == expected
    line = vectorized.lines[0]
    assert line.pool is not None and line.pool.members == ("a", "b", "c")
    assert line.pool.buckets == (("all", "equal", Decimal("100.00"), Decimal(1), Decimal("33.34")),)
    assert line.notes[0] == "team t: 3 member(s), pool 100.00 USD"


def test_buckets_by_contribution_and_by_share_with_a_gate_per_member(duckdb_backend: object) -> None:
    # 1,000 at 10% = 100.00: 70.00 by bookings (a 300, b 700, c nothing) and 30.00 by quality
    # (a 1, b 2 (an average of 1 and 3), c none); c's gate fails, so c is paid nothing.
    plan = POOL_HEAD + """
  - id: pool
    label: Team pool
    kind: pool
    metric: bookings
    funding: {kind: flat_rate, rate: 10%}
    gates: ["quality >= 1"]
    buckets:
      - {id: volume, share: 70%, split: contribution}
      - {id: quality, share: 30%, split: share, metric: quality}
"""
    observations = (MetricObservation(participant_id="a", metric="quality", period="2026-Q1", value=Decimal(1)),
                    MetricObservation(participant_id="b", metric="quality", period="2026-01", value=Decimal(1)),
                    MetricObservation(participant_id="b", metric="quality", period="2026-02", value=Decimal(3)))
    data = DataSet(participants=people(("a", "t"), ("b", "t"), ("c", "t")), observations=observations,
                   deals=(deal("d1", "a", "300", date(2026, 1, 5)), deal("d2", "b", "700", date(2026, 3, 5))))
    _, vectorized = both(plan, data, duckdb_backend)
    assert amounts(vectorized) == {("a", "pool", "2026-Q1"): Decimal("31.00"),
                                   ("b", "pool", "2026-Q1"): Decimal("69.00"),
                                   ("c", "pool", "2026-Q1"): Decimal("0.00")}
    c_line = vectorized.lines[2]
    assert c_line.gated_out and c_line.gross == Decimal("0.00")


def test_a_monthly_pool_follows_team_moves_and_counts_members_not_yet_started(duckdb_backend: object) -> None:
    # c moves from team u to team t on 1 February; d joins team t on 10 February. January: team t
    # is a, b and d (d takes a share of the pool but has no line before starting, as the
    # reference engine computes it), team u is c alone.
    plan = POOL_HEAD + """
  - id: pool
    label: Team pool
    kind: pool
    metric: bookings
    period: month
    funding: {kind: flat_rate, rate: 10%}
    buckets:
      - {id: all, share: 100%, split: equal}
"""
    participants = people(("a", "t"), ("b", "t"), ("c", "t"), ("d", "t"), start={"d": date(2026, 2, 10)})
    terms = (OrgTerm(participant_id="a", role="ae", team="t", manager_id=None),
             OrgTerm(participant_id="b", role="ae", team="t", manager_id=None),
             OrgTerm(participant_id="c", role="ae", team="u", manager_id=None, effective_to=date(2026, 2, 1)),
             OrgTerm(participant_id="c", role="ae", team="t", manager_id=None, effective_from=date(2026, 2, 1)),
             OrgTerm(participant_id="d", role="ae", team="t", manager_id=None))
    deals = (deal("d1", "a", "100", date(2026, 1, 10)), deal("d2", "c", "200", date(2026, 1, 20)),
             deal("d3", "c", "300", date(2026, 2, 20)))
    _, vectorized = both(plan, DataSet(participants=participants, org_terms=terms, deals=deals), duckdb_backend)
    got = amounts(vectorized)
    assert got[("a", "pool", "2026-01")] == Decimal("3.34") and got[("b", "pool", "2026-01")] == Decimal("3.33")
    assert got[("c", "pool", "2026-01")] == Decimal("20.00") and ("d", "pool", "2026-01") not in got
    assert [got[(p, "pool", "2026-02")] for p in "abcd"] == [Decimal("7.50")] * 4
    assert got[("c", "pool", "2026-03")] == Decimal("0.00")


def test_a_named_team_without_members_still_reports_its_pool(duckdb_backend: object) -> None:
    plan = POOL_HEAD + """
  - id: pool
    label: Team pool
    kind: pool
    metric: bookings
    team: nowhere
    funding: {kind: milestone, basis: amount, threshold: 0, amount: 500}
    buckets:
      - {id: all, share: 100%, split: equal}
"""
    data = DataSet(participants=people(("a", "t")), deals=(deal("d1", "a", "100", date(2026, 1, 10)),))
    _, vectorized = both(plan, data, duckdb_backend)
    (line,) = vectorized.lines
    assert line.amount == Decimal("0.00") and line.pool is not None
    assert line.pool.team == "nowhere" and line.pool.members == () and line.pool.pool_amount == Decimal("500.00")


def test_a_fixed_quota_with_attainment_bounds_gives_the_reference_lines(duckdb_backend: object) -> None:
    plan = POOL_HEAD + """
  - id: tiers
    label: Tiers
    kind: tiered
    method: marginal
    metric: bookings
    quota: 250000
    tiers:
      - {from: 0%, to: 80%, rate: 2%}
      - {from: 80%, rate: 5%}
"""
    data = DataSet(participants=people(("a", "t")), deals=(deal("d1", "a", "300000", date(2026, 1, 5)),))
    _, vectorized = both(plan, data, duckdb_backend)
    # 200,000 x 2% + 100,000 x 5%
    assert vectorized.lines[0].amount == Decimal("9000.00")


DEAL_PLAN = """
plan: per-deal
name: Rounded per deal
currency: USD
rounding: {mode: MODE, point: deal}
metrics:
  bookings: {sum: amount}
components:
  - {id: commission, label: Commission, kind: flat_rate, metric: bookings, rate: 10%}
"""


@pytest.mark.parametrize(("mode", "line", "each"), [("half_up", "0.03", "0.01"), ("half_even", "0.00", "0.00"),
                                                    ("down", "0.00", "0.00"), ("up", "0.03", "0.01")])
def test_rounding_per_deal_rounds_each_deals_share_and_sums_them(mode: str, line: str, each: str,
                                                                  duckdb_backend: object) -> None:
    # Three deals of 0.05 at 10%: each share is 0.005; rounded once per line 0.015 would be 0.02.
    data = DataSet(participants=people(("rep", "t")),
                   deals=tuple(deal(f"d{n}", "rep", "0.05", date(2026, 1, n + 1)) for n in range(3)))
    _, vectorized = both(DEAL_PLAN.replace("MODE", mode), data, duckdb_backend)
    (result,) = vectorized.lines
    assert result.amount == Decimal(line)
    assert [d.amount for d in result.deals] == [Decimal(each)] * 3


def test_rounding_per_deal_with_a_cap_rounds_the_capped_shares(duckdb_backend: object) -> None:
    plan = DEAL_PLAN.replace("MODE", "half_up").replace("rate: 10%}", "rate: 10%, cap: {amount: 100}}")
    data = DataSet(participants=people(("rep", "t")),
                   deals=tuple(deal(f"d{n}", "rep", amount, date(2026, 1, n + 1))
                               for n, amount in enumerate(["333.33", "333.33", "666.67"])))
    _, vectorized = both(plan, data, duckdb_backend)
    (result,) = vectorized.lines
    # 133.333 capped to 100: shares 25, 25, 50.000375.. of 100 -> 25.00 + 25.00 + 50.00
    assert [d.amount for d in result.deals] == [Decimal("25.00"), Decimal("25.00"), Decimal("50.00")]
    assert result.amount == Decimal("100.00")


def test_what_cannot_be_computed_exactly_is_refused_before_anything_runs() -> None:
    average_pool = parse_plan(POOL_HEAD + """
  - id: pool
    label: Team pool
    kind: pool
    metric: quality
    funding: {kind: flat_rate, rate: 10%}
    buckets:
      - {id: all, share: 100%, split: equal}
""").plan
    with pytest.raises(UnsupportedError, match="an average or a ratio"):
        refuse_unsupported(average_pool)
    mixed = parse_plan(POOL_HEAD + """
  - id: pool
    label: Team pool
    kind: pool
    metric: bookings
    target_incentive: 1000
    funding:
      kind: tiered
      method: marginal
      basis: amount
      tiers:
        - {from: 0, to: 100000, rate: 2%}
        - {from: 100000, rate: derived}
    buckets:
      - {id: all, share: 100%, split: equal}
""").plan
    with pytest.raises(UnsupportedError, match="mixes fixed and derived tier rates"):
        refuse_unsupported(mixed)
    derived = parse_plan(DEAL_PLAN.replace("MODE", "half_up").replace(
        "rate: 10%}", "rate: derived, target_incentive: 1000}")).plan
    with pytest.raises(UnsupportedError, match="rounding per deal a rate derived"):
        calculate_vectorized(derived, DataSet(participants=people(("rep", "t"))), Q1, connection=object())
