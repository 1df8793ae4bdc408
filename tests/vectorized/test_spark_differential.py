"""The vectorized executor on Spark (local mode) equals the reference engine, line by line, to the cent.

Spark rounds a DECIMAL silently when a result is cast to fewer places, so its profile takes products
in parts and fails the query where a product needs more places than DECIMAL(38, 16) holds: every
number is exact, or there is an error. Here: that arithmetic on values at its bounds, a hand-checked
quarter, generated plans and data against the reference engine, and the bulk run over Parquet
against DuckDB.
"""

from __future__ import annotations

from datetime import date
from decimal import Context, Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, reject, settings

from attain.core.dataset import DataSet
from attain.core.errors import UnsupportedError
from attain.core.money import RoundingMode
from attain.core.periods import parse_period
from attain.core.plan import Plan
from attain.core.records import Deal, DealStatus, Participant, Quota, Split
from attain.engine.reference import calculate
from attain.engine.vectorized import calculate_vectorized, run_bulk, spark_sql_parser
from attain.engine.vectorized.bench import PERIOD, bench_plan, generate
from attain.engine.vectorized.numeric import SPARK, SPARK_SETTINGS, Exact, Frac

from .generated import datasets, differences, plans

pytestmark = pytest.mark.spark
Q1 = parse_period("2026-Q1")
CENT = Decimal("0.01")


def test_connect_sets_what_exactness_needs_and_a_session_without_it_is_refused(spark_backend: Any) -> None:
    conf = spark_backend._session.conf
    assert {key: conf.get(key) for key in SPARK_SETTINGS} == SPARK_SETTINGS
    for key in SPARK_SETTINGS:
        conf.set(key, {"true": "false", "false": "true"}[SPARK_SETTINGS[key]])
        try:
            with pytest.raises(UnsupportedError, match=key):
                calculate_vectorized(bench_plan(), DataSet(), Q1, connection=spark_backend)
        finally:
            conf.set(key, SPARK_SETTINGS[key])


def _round_fraction(value: Fraction, mode: RoundingMode) -> Decimal:
    """`value` to the cent by `mode` (half even, or half up: ties away from zero), exactly."""
    cents = value * 100
    floor = cents.numerator // cents.denominator
    rest = cents - floor
    up = {RoundingMode.HALF_EVEN: rest > Fraction(1, 2) or (rest == Fraction(1, 2) and floor % 2 == 1),
          RoundingMode.HALF_UP: rest >= Fraction(1, 2) if value >= 0 else rest > Fraction(1, 2)}[mode]
    return Decimal(floor + up) / 100


def _table(rows: list[tuple[Decimal, Decimal]]) -> Any:
    kind = pa.decimal128(38, 16)
    columns = {"a": pa.array([a for a, _ in rows], kind), "b": pa.array([b for _, b in rows], kind)}
    return ibis.memtable(pa.table(columns))


def test_products_are_exact_up_to_the_working_type_and_fail_beyond_it(spark_backend: Any) -> None:
    rows = [
        (Decimal("12345678901234.1234567"), Decimal("98765.4321")),  # 19 integer digits, 11 places
        (Decimal("-9999999999.99"), Decimal("999999999999.99")),  # just under 10^22
        (Decimal("0.12345678"), Decimal("-0.87654321")),  # 16 places, no whole part
        (Decimal("-7.5"), Decimal("-0.0004")),
        (Decimal("333333.33"), Decimal("3")),
    ]
    ops = Exact(SPARK)
    t = _table(rows)
    rate = Decimal("0.035")
    no_value = (t.b != 0).ifelse(ibis.null(SPARK.work), t.b)  # null, computed
    query = t.select(ab=ops.mul(t.a, t.b), a_rate=ops.mul(t.a, ops.lit(rate)), rate_b=ops.mul(ops.lit(rate), t.b),
                     a_none=ops.mul(t.a, no_value),
                     ab_half_even=ops.round(Frac(t.a, t.b.abs()), CENT, RoundingMode.HALF_EVEN),
                     ab_half_up=ops.round(Frac(t.a, t.b.abs()), CENT, RoundingMode.HALF_UP))
    got = spark_backend.to_pyarrow(query).to_pylist()
    exact = Context(prec=80)
    for (a, b), row in zip(rows, got, strict=True):
        assert row["a_none"] is None
        assert (row["ab"], row["a_rate"], row["rate_b"]) == (exact.multiply(a, b), exact.multiply(a, rate),
                                                             exact.multiply(rate, b))
        ratio = Fraction(a) / abs(Fraction(b))
        assert row["ab_half_even"] == _round_fraction(ratio, RoundingMode.HALF_EVEN)
        assert row["ab_half_up"] == _round_fraction(ratio, RoundingMode.HALF_UP)

    too_precise = _table([(Decimal("0.123456789"), Decimal("0.123456789"))])  # 18 places
    with pytest.raises(Exception, match="more than 16 decimal places"):
        spark_backend.to_pyarrow(too_precise.select(p=ops.mul(too_precise.a, too_precise.b)))
    too_large = _table([(Decimal("1000000000000"), Decimal("100000000000"))])  # 10^23
    with pytest.raises(Exception, match="NUMERIC_VALUE_OUT_OF_RANGE"):
        spark_backend.to_pyarrow(too_large.select(p=ops.mul(too_large.a, too_large.b)))
    beyond_double = _table([(Decimal("22517998136852.48"), Decimal(1))])  # 2^51 cents
    with pytest.raises(Exception, match="beyond 2\\^50 minor units"):
        spark_backend.to_pyarrow(beyond_double.select(p=ops.round(Frac(beyond_double.a), CENT, RoundingMode.HALF_UP)))


def _deal(deal_id: str, owner: str, amount: str, booked: date = date(2026, 2, 1),
          status: DealStatus = DealStatus.WON) -> Deal:
    return Deal(id=deal_id, owner_id=owner, amount=Decimal(amount), currency="USD", status=status, booked_on=booked)


def hand_checked_quarter() -> DataSet:
    """Four payees on the bench plan (milestone at 100% of quota; 2% / 5% / 8% on the bands 0-50%,
    50-100% and above 100% of quota, only with three deals or more, capped at 60,000)."""
    return DataSet(
        participants=tuple(Participant(id=pid, name=pid.upper(), role="ae") for pid in ("p1", "p2", "p3", "p4")),
        deals=(
            _deal("d01", "p1", "600000.00"), _deal("d02", "p1", "300000.00"), _deal("d03", "p1", "250000.55"),
            _deal("d04", "p1", "100000.00"),  # split 25% p1, 75% p2
            _deal("d05", "p2", "300000.00"), _deal("d06", "p2", "90000.03"), _deal("d07", "p2", "10000.00"),
            _deal("d08", "p3", "1500000.00"), _deal("d09", "p3", "1200000.00"), _deal("d10", "p3", "900000.10"),
            _deal("d11", "p3", "5000000.00", booked=date(2026, 4, 1)),  # next quarter
            _deal("d12", "p4", "100000.01"), _deal("d13", "p4", "99999.99"),
            _deal("d14", "p4", "700000.00", status=DealStatus.CANCELLED),
        ),
        splits=(Split(deal_id="d04", participant_id="p1", share=Decimal("0.25")),
                Split(deal_id="d04", participant_id="p2", share=Decimal("0.75"))),
        quotas=tuple(Quota(participant_id=pid, metric="bookings", period=PERIOD, amount=Decimal(amount))
                     for pid, amount in (("p1", "1000000"), ("p2", "333333.33"), ("p3", "2000000"), ("p4", "400000"))),
    )


# Worked by hand (half up to the cent):
# p1: 1,150,000.55 + 25% of 100,000 = 1,175,000.55 on a 1,000,000 quota, four deals: the milestone;
#     2% x 500,000 + 5% x 500,000 + 8% x 175,000.55 = 10,000 + 25,000 + 14,000.044 = 49,000.04.
# p2: 400,000.03 + 75,000 = 475,000.03 on 333,333.33 (half of it: 166,666.665), four deals: the milestone;
#     2% x 166,666.665 + 5% x 166,666.665 + 8% x 141,666.70 = 3,333.3333 + 8,333.33325 + 11,333.336
#     = 23,000.00255 -> 23,000.00.
# p3: 3,600,000.10 on 2,000,000: the milestone; 20,000 + 50,000 + 8% x 1,600,000.10 = 198,000.008 -> cap 60,000.
# p4: 200,000.00 on 400,000 (the cancelled deal does not count), two deals: nothing.
HAND_CHECKED = {
    "p1": {"milestone": Decimal("10000.00"), "commission": Decimal("49000.04")},
    "p2": {"milestone": Decimal("10000.00"), "commission": Decimal("23000.00")},
    "p3": {"milestone": Decimal("10000.00"), "commission": Decimal("60000.00")},
    "p4": {"milestone": Decimal("0.00"), "commission": Decimal("0.00")},
}


def test_the_bench_plan_on_a_hand_checked_quarter(spark_backend: Any) -> None:
    data = hand_checked_quarter()
    vectorized = calculate_vectorized(bench_plan(), data, Q1, connection=spark_backend)
    amounts: dict[str, dict[str, Decimal]] = {}
    for line in vectorized.lines:
        amounts.setdefault(line.participant_id, {})[line.component_id] = line.amount
    assert amounts == HAND_CHECKED
    assert differences(calculate(bench_plan(), data, Q1), vectorized) == []
    # The calculation's long statements leave nothing in Spark's SQL parser caches.
    assert parser_cache_states(spark_backend) == 0
    spark_backend._session.sql("SELECT 1 + 2 AS three").collect()
    assert parser_cache_states(spark_backend) > 0


def parser_cache_states(backend: Any) -> int:
    """The states held in the DFA caches of Spark's SQL parser (shared by every parser)."""
    from py4j.java_gateway import get_field

    _lexer, parser = spark_sql_parser(backend._session)
    return sum(get_field(dfa, "states").size() for dfa in get_field(parser.getInterpreter(), "decisionToDFA"))


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                HealthCheck.too_slow])
@given(plan=plans(), data=datasets())
def test_vectorized_equals_reference_on_spark(plan: Plan, data: DataSet, spark_backend: Any) -> None:
    reference = calculate(plan, data, Q1)
    try:
        vectorized = calculate_vectorized(plan, data, Q1, connection=spark_backend)
    except UnsupportedError:
        reject()  # refused before anything runs, as on every backend: never a different number
    assert differences(reference, vectorized) == []


def test_bulk_run_from_parquet_pays_what_duckdb_pays(spark_backend: Any, tmp_path_factory: pytest.TempPathFactory
                                                     ) -> None:
    folder: Path = tmp_path_factory.mktemp("spark-quarter")
    generate(folder, 200, 5000)
    on_spark = run_bulk(bench_plan(), folder, parse_period(PERIOD), connection=spark_backend).to_pylist()
    on_duckdb = run_bulk(bench_plan(), folder, parse_period(PERIOD), connection=ibis.duckdb.connect()).to_pylist()

    def by_payee(rows: list[dict[str, Any]]) -> dict[str, tuple[Decimal, Decimal]]:
        return {r["participant_id"]: (r["milestone"], r["commission"]) for r in rows}

    assert len(on_spark) == 200
    assert by_payee(on_spark) == by_payee(on_duckdb)
    assert any(m == Decimal(10000) for m, _ in by_payee(on_spark).values())
