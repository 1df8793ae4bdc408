"""The safe expression language: grammar, three-valued logic, limits, and no eval."""

from decimal import Decimal

import pytest

from attain.core.expressions import ExpressionError, evaluate, holds, names, parse, to_text


def test_and_or_not_parentheses():
    expr = parse("(csat >= 4.2 or nps > 50) and not churned")
    assert names(expr) == {"csat", "nps", "churned"}
    assert holds(expr, {"csat": Decimal("4.1"), "nps": Decimal(60), "churned": False})
    assert not holds(expr, {"csat": Decimal("4.1"), "nps": Decimal(40), "churned": False})


def test_missing_value_is_unknown_not_false():
    assert evaluate(parse("csat >= 4.2"), {"csat": None}) is None
    assert evaluate(parse("not (csat >= 4.2)"), {"csat": None}) is None
    assert evaluate(parse("csat >= 4.2 or true"), {"csat": None}) is True


def test_text_fields_compare_numerically_with_numbers():
    assert holds(parse("seats > 10"), {"seats": "12"})
    assert evaluate(parse("seats > 10"), {"seats": "many"}) is None


def test_in_list_and_dates():
    assert holds(parse("product in ['a', 'b']"), {"product": "b"})
    assert holds(parse("product not in ['a']"), {"product": "b"})
    from datetime import date
    assert holds(parse("credit_date >= date('2026-03-01')"), {"credit_date": date(2026, 3, 2)})


@pytest.mark.parametrize("text", ["__import__('os')", "a.b", "a > > 1", "lambda: 1", "x = 1", "open('f')", ""])
def test_anything_outside_the_grammar_is_refused(text):
    with pytest.raises(ExpressionError):
        parse(text)


def test_size_and_depth_limits():
    with pytest.raises(ExpressionError, match="deeper"):
        parse("(" * 60 + "1" + ")" * 60)
    with pytest.raises(ExpressionError, match="longer"):
        parse("a + " * 2000 + "a")


def test_canonical_text_keeps_numbers_as_written():
    assert to_text(parse("recall > 70% and dwell_time_min > 3")) == "(recall > 70%) and (dwell_time_min > 3)"
