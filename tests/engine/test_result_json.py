"""The calc JSON: amounts and deal parts in the currency's places, attainment at 16 places, pool
buckets as labelled objects."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from attain.engine.results import DealAttribution, MetricReading, PayoutLine, PoolShare
from attain.formats.result_json import line_json


def test_a_line_reads_with_labelled_buckets_places_and_a_declared_attainment_precision():
    line = PayoutLine(
        participant_id="pm-1", plan_id="p", plan_version="1", component_id="pool", component_label="Pool",
        kind="pool", period="2026-Q1", currency="USD", amount=Decimal("500"), gross=Decimal("500"),
        metric=MetricReading(name="bookings", value=Decimal(100), quota=Decimal(300),
                             attainment=Decimal(1) / Decimal(3)),
        deals=(DealAttribution(deal_id="D1", credit_date=date(2026, 1, 5), credit=Decimal(100),
                               amount=Decimal("500.00"), reason="owner"),),
        pool=PoolShare(team="east", members=("pm-1", "pm-2"), team_value=Decimal(100), team_quota=Decimal(300),
                       pool_amount=Decimal("1000.00"),
                       buckets=(("volume", "contribution", Decimal("600.00"), Decimal("0.5"), Decimal("300.00")),
                                ("quality", "equal", Decimal("400.00"), Decimal(1), Decimal("200.00")))),
    )
    data = line_json(line)
    assert data["amount"] == "500.00"
    assert data["deals"][0]["amount"] == "500.00"
    assert data["metric"]["attainment"] == "0.3333333333333333"
    assert data["pool"]["buckets"] == [
        {"bucket": "volume", "split": "contribution", "bucket_amount": "600.00", "weight": "0.5", "amount": "300.00"},
        {"bucket": "quality", "split": "equal", "bucket_amount": "400.00", "weight": "1", "amount": "200.00"},
    ]
