"""Money's one door: strict parsing, declared rounding, exact allocation."""

from decimal import Decimal, FloatOperation

import pytest

from attain.core.money import (
    MoneyFormatError,
    RoundingMode,
    allocate,
    calculation_context,
    parse_decimal,
    parse_ratio,
    round_money,
)


@pytest.mark.parametrize("text", ["NaN", "nan", "Infinity", "-inf", "1e3", "1E-2", "1,000", "1 000", "", "12.3.4",
                                  "0x10", "١٢", "$5"])
def test_strict_grammar_refuses(text):
    with pytest.raises(MoneyFormatError):
        parse_decimal(text)


@pytest.mark.parametrize(("text", "value"), [("1000", "1000"), ("-12.50", "-12.50"), (" 7 ", "7"), (".5", "0.5")])
def test_strict_grammar_accepts_plain_numbers(text, value):
    assert parse_decimal(text) == Decimal(value)


def test_percent_ratio():
    assert parse_ratio("70%") == Decimal("0.7")
    assert parse_ratio("0.7") == Decimal("0.7")


@pytest.mark.parametrize(("mode", "expected"), [
    (RoundingMode.HALF_UP, "0.13"), (RoundingMode.HALF_EVEN, "0.12"), (RoundingMode.DOWN, "0.12"),
    (RoundingMode.UP, "0.13")])
def test_rounding_modes_on_a_half_cent(mode, expected):
    assert round_money(Decimal("0.125"), "USD", mode) == Decimal(expected)


def test_yen_has_no_minor_unit():
    assert round_money(Decimal("100.5"), "JPY") == Decimal("101")


def test_allocation_gives_leftover_cents_to_largest_remainders_stably():
    assert allocate(Decimal("100.00"), [Decimal(1)] * 3, Decimal("0.01")) == (
        Decimal("33.34"), Decimal("33.33"), Decimal("33.33"))


def test_floats_never_meet_money_in_a_calculation():
    with calculation_context(), pytest.raises(FloatOperation):
        Decimal(0.1)  # noqa: RUF032 - the point: a float must be refused
    with calculation_context(), pytest.raises(FloatOperation):
        assert Decimal("1.10") < 1.2
