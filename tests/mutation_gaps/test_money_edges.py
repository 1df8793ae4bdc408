"""Every declared rounding mode on positive and negative amounts (clawbacks are negative), in
currencies of 0, 2 and 3 minor units, and the edges of parsing, allocation and formatting: values
worked out by hand (the gaps a mutation run of core/money.py left)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from attain.core.money import (
    MoneyFormatError,
    RoundingMode,
    allocate,
    check_currency,
    decimal_places,
    format_money,
    format_ratio,
    minor_unit,
    parse_decimal,
    parse_ratio,
    round_money,
    to_decimal,
)

# amount, currency -> the result under each mode, in the order of MODES.
MODES = ("half_up", "half_even", "half_down", "up", "down", "ceiling", "floor")
CASES = [
    ("2.345", "USD", ("2.35", "2.34", "2.34", "2.35", "2.34", "2.35", "2.34")),
    ("-2.345", "USD", ("-2.35", "-2.34", "-2.34", "-2.35", "-2.34", "-2.34", "-2.35")),
    ("2.355", "USD", ("2.36", "2.36", "2.35", "2.36", "2.35", "2.36", "2.35")),
    ("2.341", "USD", ("2.34", "2.34", "2.34", "2.35", "2.34", "2.35", "2.34")),
    ("-2.341", "USD", ("-2.34", "-2.34", "-2.34", "-2.35", "-2.34", "-2.34", "-2.35")),
    ("1234.5", "JPY", ("1235", "1234", "1234", "1235", "1234", "1235", "1234")),
    ("-1234.5", "JPY", ("-1235", "-1234", "-1234", "-1235", "-1234", "-1234", "-1235")),
    ("1.0005", "KWD", ("1.001", "1.000", "1.000", "1.001", "1.000", "1.001", "1.000")),
    ("-1.0015", "KWD", ("-1.002", "-1.002", "-1.001", "-1.002", "-1.001", "-1.001", "-1.002")),
]


@pytest.mark.parametrize(("amount", "currency", "expected"), CASES)
def test_every_rounding_mode_on_positive_and_negative_amounts(amount: str, currency: str,
                                                             expected: tuple[str, ...]):
    got = tuple(round_money(Decimal(amount), currency, RoundingMode(mode)) for mode in MODES)
    assert got == tuple(Decimal(e) for e in expected)
    assert all(str(g) == e for g, e in zip(got, expected, strict=True))  # the minor unit's places too


def test_half_up_is_the_default_mode():
    assert round_money(Decimal("0.125"), "USD") == Decimal("0.13")
    assert round_money(Decimal("-0.125"), "USD") == Decimal("-0.13")


def test_minor_units_of_0_2_and_3_places():
    assert (minor_unit("JPY"), minor_unit("USD"), minor_unit("BHD"), minor_unit("XYZ")) == (
        Decimal("1"), Decimal("0.01"), Decimal("0.001"), Decimal("0.01"))
    assert str(minor_unit("KWD")) == "0.001"


def test_format_money_uses_the_currencys_places_and_separators():
    assert format_money(Decimal("1234.5"), "USD") == "1,234.50 USD"
    assert format_money(Decimal("-1234567.5"), "JPY") == "-1,234,568 JPY"
    assert format_money(Decimal("1.0005"), "KWD") == "1.000 KWD"
    assert format_ratio(Decimal("0.98")) == "98.0%"
    assert format_ratio(Decimal("1.23456"), places=2) == "123.46%"


def test_parsing_is_strict():
    assert parse_decimal(" -12.50 ") == Decimal("-12.50")
    assert parse_decimal(".5") == Decimal("0.5")
    assert parse_decimal("+3.") == Decimal("3")
    for bad in ("1e3", "1,000", "", "12.5.1", "NaN", "١٢"):
        with pytest.raises(MoneyFormatError, match="not a plain decimal number"):
            parse_decimal(bad)
    assert parse_ratio("70%") == Decimal("0.70")
    assert parse_ratio(" 12.5 % ") == Decimal("0.125")
    assert parse_ratio("-5%") == Decimal("-0.05")
    assert parse_ratio("0.3") == Decimal("0.3")
    with pytest.raises(MoneyFormatError):
        parse_ratio("70%%")


def test_to_decimal_refuses_floats_booleans_and_non_finite_values():
    assert to_decimal(Decimal("1.5")) == Decimal("1.5")
    assert to_decimal(7) == Decimal(7) and isinstance(to_decimal(7), Decimal)
    assert to_decimal("2.25") == Decimal("2.25")
    with pytest.raises(MoneyFormatError, match="a boolean is not a number"):
        to_decimal(True)
    with pytest.raises(MoneyFormatError, match="money is never a float"):
        to_decimal(1.5)
    with pytest.raises(MoneyFormatError, match="not a finite number"):
        to_decimal(Decimal("Infinity"))
    with pytest.raises(MoneyFormatError, match="not a finite number"):
        to_decimal(Decimal("NaN"))


def test_check_currency():
    assert check_currency("EUR") == "EUR"
    for bad in ("eur", "EURO", "EU", "E1R"):
        with pytest.raises(MoneyFormatError, match="not a three-letter currency code"):
            check_currency(bad)


def test_decimal_places():
    assert decimal_places([]) == 0
    assert decimal_places([None, Decimal("12")]) == 0
    assert decimal_places([Decimal("1.5"), None, Decimal("0.125"), Decimal("3.10")]) == 3


def test_allocate_by_largest_remainder_with_ties_to_the_earlier_position():
    cent = Decimal("0.01")
    assert allocate(Decimal("1.00"), [Decimal(1)] * 3, cent) == (Decimal("0.34"), Decimal("0.33"), Decimal("0.33"))
    assert allocate(Decimal("10.00"), [Decimal(1), Decimal(2), Decimal(3)], cent) == (
        Decimal("1.67"), Decimal("3.33"), Decimal("5.00"))
    # negative weights (delta attributions): 3 * (2, -1) / 1 -> (6, -3)
    assert allocate(Decimal("3"), [Decimal(2), Decimal(-1)], Decimal(1)) == (Decimal(6), Decimal(-3))
    # a negative total, in a 3-place currency
    assert allocate(Decimal("-0.010"), [Decimal(1)] * 3, Decimal("0.001")) == (
        Decimal("-0.003"), Decimal("-0.003"), Decimal("-0.004"))
    assert allocate(Decimal("0"), [Decimal(1), Decimal(-1)], cent) == (Decimal("0.00"), Decimal("0.00"))


def test_allocate_refuses_what_it_cannot_split():
    cent = Decimal("0.01")
    with pytest.raises(ValueError, match="cannot allocate over no weights"):
        allocate(Decimal("1.00"), [], cent)
    with pytest.raises(ValueError, match="is not a multiple of"):
        allocate(Decimal("1.005"), [Decimal(1)], cent)
    with pytest.raises(ValueError, match="weights that sum to zero"):
        allocate(Decimal("1.00"), [Decimal(1), Decimal(-1)], cent)
