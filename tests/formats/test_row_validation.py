"""Row validation per kind: strict numbers, dates and periods, duplicates, references, split sums."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from attain.core.records import DealStatus
from attain.formats.records import (
    ImportMapping,
    KnownIds,
    check_references,
    parse_rows,
)
from attain.formats.tables import RawRow


def rows(*dicts: dict[str, str | None]) -> list[RawRow]:
    return [RawRow(number=i, values=d) for i, d in enumerate(dicts, start=2)]


DEAL = {"deal_id": "D1", "owner_id": "R1", "amount": "1000.00", "currency": "USD",
        "status": "won", "booked_on": "2026-03-01"}


def codes(table) -> list[tuple[int | None, str | None, str]]:
    return [(p.row, p.column, p.code) for p in table.problems]


def test_deal_row_becomes_a_deal_with_custom_fields_and_delivered_ratio() -> None:
    table = parse_rows("deals", rows({**DEAL, "delivered_pct": "60%", "product": "saas",
                                      "region": None}), "deals.csv")
    (deal,) = table.records()
    assert deal.amount == Decimal("1000.00")
    assert deal.status is DealStatus.WON
    assert deal.delivered == Decimal("0.6")
    assert deal.booked_on == date(2026, 3, 1)
    assert deal.fields == (("product", "saas"),)


def test_delivered_pct_without_percent_sign_is_a_percentage() -> None:
    (deal,) = parse_rows("deals", rows({**DEAL, "delivered_pct": "60"}), "d.csv").records()
    assert deal.delivered == Decimal("0.6")


def test_strict_numbers_reject_exponent_nan_infinity_and_separators() -> None:
    bad = ["1e3", "NaN", "Infinity", "1,000", "1 000", "$5", "0x10", ""]
    table = parse_rows("deals", rows(*[{**DEAL, "deal_id": f"D{i}", "amount": v or None}
                                       for i, v in enumerate(bad)]), "d.csv")
    assert table.rows == ()
    assert [(p.row, p.column) for p in table.problems] == [(n, "amount") for n in range(2, 10)]
    assert [p.code for p in table.problems] == ["bad_number"] * 7 + ["missing_value"]


def test_thousands_separator_is_accepted_only_when_the_mapping_says_so() -> None:
    mapping = ImportMapping(thousands=",")
    (deal,) = parse_rows("deals", rows({**DEAL, "amount": "1,000.50"}), "d.csv",
                         mapping).records()
    assert deal.amount == Decimal("1000.50")


def test_every_problem_of_a_row_is_reported() -> None:
    table = parse_rows("deals", rows({**DEAL, "amount": "1e3", "currency": "usd",
                                      "booked_on": "2026-02-30", "status": "closed"}), "d.csv")
    assert codes(table) == [
        (2, "amount", "bad_number"), (2, "currency", "bad_currency"),
        (2, "status", "bad_choice"), (2, "booked_on", "bad_date"),
    ]


def test_duplicate_key_is_reported_on_the_later_row_even_if_the_first_was_rejected() -> None:
    table = parse_rows("deals", rows({**DEAL, "amount": "x"}, DEAL, {**DEAL, "deal_id": "D2"}),
                       "d.csv")
    assert codes(table) == [(2, "amount", "bad_number"), (3, "deal_id", "duplicate_key")]
    assert [r.record.id for r in table.rows] == ["D2"]


def test_column_mapping_renames_translates_and_reports_source_names() -> None:
    mapping = ImportMapping(
        columns={"Opportunity ID": "deal_id", "Owner": "owner_id", "Amount": "amount",
                 "Stage": "status", "Close Date": "booked_on"},
        values={"status": {"Closed Won": "won", "Closed Lost": "cancelled"}},
        defaults={"currency": "USD"},
    )
    raw = [{"Opportunity ID": "O-1", "Owner": "R1", "Amount": "10", "Stage": "Closed Won",
            "Close Date": "2026-03-01"},
           {"Opportunity ID": "O-2", "Owner": "R1", "Amount": "1e3", "Stage": "Closed Won",
            "Close Date": "2026-03-01"}]
    table = parse_rows("deals", rows(*raw), "crm.csv", mapping)
    (deal,) = table.records()
    assert (deal.id, deal.status, deal.currency) == ("O-1", DealStatus.WON, "USD")
    assert codes(table) == [(3, "Amount", "bad_number")]


def test_missing_required_column_is_one_problem_for_the_file() -> None:
    table = parse_rows("quotas", rows({"participant_id": "R1", "metric": "bookings",
                                       "period": "2026-Q1"}), "quotas.csv")
    assert codes(table) == [(1, "amount", "missing_column")]


def test_unknown_column_outside_deals_is_a_problem() -> None:
    table = parse_rows("metrics", rows({"participant_id": "R1", "metric": "csat",
                                        "period": "2026-Q1", "value": "4.5", "extra": "x"}),
                       "metrics.csv")
    assert codes(table) == [(1, "extra", "unknown_column")]


def test_period_labels_and_quota_change_needs_a_reason() -> None:
    table = parse_rows("quotas", rows(
        {"participant_id": "R1", "metric": "bookings", "period": "2026-Q5", "amount": "1"},
        {"participant_id": "R1", "metric": "bookings", "period": "2026-Q1", "amount": "1",
         "effective_from": "2026-02-01"},
    ), "quotas.csv")
    assert codes(table) == [(2, "period", "bad_period"), (3, "reason", "missing_value")]


def test_split_shares_accept_percent_with_or_without_sign_and_overlays_default_to_full() -> None:
    table = parse_rows("splits", rows(
        {"deal_id": "D1", "participant_id": "R1", "share": "60"},
        {"deal_id": "D1", "participant_id": "R2", "share": "40%"},
        {"deal_id": "D1", "participant_id": "S1", "role": "se"},
    ), "splits.csv")
    checked = check_references(table, KnownIds(participants=frozenset({"R1", "R2", "S1"}),
                                               deals=frozenset({"D1"})))
    assert checked.problems == ()
    assert [(s.participant_id, s.share, s.role) for s in checked.records()] == [
        ("R1", Decimal("0.6"), "split"), ("R2", Decimal("0.4"), "split"),
        ("S1", Decimal("1"), "se"),
    ]


def test_splits_of_ninety_percent_are_rejected_naming_the_deal() -> None:
    table = parse_rows("splits", rows(
        {"deal_id": "D1", "participant_id": "R1", "share": "50"},
        {"deal_id": "D1", "participant_id": "R2", "share": "40"},
        {"deal_id": "D2", "participant_id": "R1", "share": "100"},
    ), "splits.csv")
    checked = check_references(table, KnownIds(participants=frozenset({"R1", "R2"}),
                                               deals=frozenset({"D1", "D2"})))
    assert [(p.row, p.code, p.subject) for p in checked.problems] == [
        (2, "split_sum", "deal D1"), (3, "split_sum", "deal D1"),
    ]
    assert "90%" in checked.problems[0].message
    assert [s.deal_id for s in checked.records()] == ["D2"]


def test_a_rejected_split_row_rejects_the_rest_of_its_deal() -> None:
    table = parse_rows("splits", rows(
        {"deal_id": "D1", "participant_id": "R1", "share": "50"},
        {"deal_id": "D1", "participant_id": "R2", "share": "5O"},
    ), "splits.csv")
    checked = check_references(table, KnownIds(participants=frozenset({"R1", "R2"}),
                                               deals=frozenset({"D1"})))
    assert [(p.row, p.code) for p in checked.problems] == [(2, "split_sum"), (3, "bad_number")]
    assert checked.rows == ()


def test_unknown_participant_and_deal_ids_are_rejected() -> None:
    table = parse_rows("splits", rows(
        {"deal_id": "D9", "participant_id": "R9", "share": "100"},
    ), "splits.csv")
    checked = check_references(table, KnownIds(participants=frozenset({"R1"}),
                                               deals=frozenset({"D1"})))
    assert [(p.column, p.code, p.value) for p in checked.problems] == [
        ("deal_id", "unknown_deal", "D9"), ("participant_id", "unknown_participant", "R9"),
    ]


def test_participant_ramp_and_effective_from() -> None:
    (row,) = parse_rows("participants", rows(
        {"id": "R1", "name": "Ann", "role": "ae", "start_date": "2026-08-01",
         "ramp": "25%;50%;75%", "effective_from": "2026-08-01"},
    ), "participants.csv").records()
    assert row.participant.ramp == (Decimal("0.25"), Decimal("0.5"), Decimal("0.75"))
    assert row.effective_from == date(2026, 8, 1)


def test_rates_must_be_positive_between_two_currencies() -> None:
    table = parse_rows("rates", rows(
        {"from_currency": "EUR", "to_currency": "USD", "date": "2026-01-01", "rate": "0"},
        {"from_currency": "EUR", "to_currency": "EUR", "date": "2026-01-01", "rate": "1"},
    ), "rates.csv")
    assert codes(table) == [(2, "rate", "out_of_range"), (3, "to_currency", "out_of_range")]
