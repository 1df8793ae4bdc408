"""Compile the plan's expression language (gates, reductions, deal filters) to Ibis columns.

The compiled column means exactly what core.expressions.evaluate means: SQL NULL stands for
"no value" and AND / OR / NOT are Kleene's, numbers are exact fractions, text compared with a
number is parsed with the strict decimal grammar (else no value). Types are known when the
plan is compiled, so a comparison the reference would refuse (ordering a date against a
number) is refused here before anything runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import ibis

from attain.core.expressions import (
    Binary,
    BoolOp,
    Call,
    Compare,
    Expr,
    ExpressionError,
    InList,
    Literal,
    Name,
    Unary,
)
from attain.engine.vectorized.numeric import Exact, Frac, force_cast

# The strict grammar of money.parse_decimal: sign, digits, optional fraction; nothing else.
DECIMAL_PATTERN = r"^\s*[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)\s*$"


@dataclass(frozen=True, slots=True)
class Typed:
    """A compiled value: its kind (num, str, date, bool, null) and its column (a Frac for num)."""

    kind: str
    value: Any


def parse_number(text: Any, ops: Exact) -> Frac:
    """Text as a number under the strict grammar, else no value."""
    cleaned = text.strip()
    parsed = cleaned.re_search(DECIMAL_PATTERN).ifelse(force_cast(cleaned, ops.work), ibis.null(ops.work))
    return Frac(parsed)


def _as_number(value: Typed, ops: Exact) -> Frac | None:
    if value.kind == "num":
        return value.value  # type: ignore[no-any-return]
    if value.kind == "str":
        return parse_number(value.value, ops)
    return None


class ConditionCompiler:
    """Compiles expressions against named columns of one table."""

    def __init__(self, ops: Exact, env: Mapping[str, Typed], missing: Typed | None = None) -> None:
        self.ops = ops
        self.env = env
        self.missing = missing

    def truth(self, expr: Expr) -> Any:
        """A boolean column that is true exactly where `holds(expr, ...)` would be."""
        compiled = self.compile(expr)
        if compiled.kind == "null":
            return ibis.literal(False)
        if compiled.kind != "bool":
            raise ExpressionError("a condition must be true or false")
        return compiled.value.fill_null(False)

    def compile(self, expr: Expr) -> Typed:
        if isinstance(expr, Literal):
            return self._literal(expr.value)
        if isinstance(expr, Name):
            if expr.name not in self.env:
                if self.missing is not None:
                    return self.missing
                raise ExpressionError(f"unknown name {expr.name!r}")
            return self.env[expr.name]
        if isinstance(expr, Unary):
            inner = self.compile(expr.operand)
            if expr.op == "not":
                if inner.kind == "null":
                    return inner
                if inner.kind != "bool":
                    raise ExpressionError("'not' needs true or false")
                return Typed("bool", ~inner.value)
            number = _as_number(inner, self.ops)
            return Typed("null", None) if number is None else Typed("num", self.ops.negate(number))
        if isinstance(expr, Binary):
            return self._arithmetic(expr.op, self.compile(expr.left), self.compile(expr.right))
        if isinstance(expr, Compare):
            return self._compare(expr.op, self.compile(expr.left), self.compile(expr.right))
        if isinstance(expr, BoolOp):
            operands = [self.compile(o) for o in expr.operands]
            columns = []
            for operand in operands:
                if operand.kind == "null":
                    columns.append(ibis.null("boolean"))
                elif operand.kind == "bool":
                    columns.append(operand.value)
                else:
                    raise ExpressionError(f"'{expr.op}' needs true or false on each side")
            result = columns[0]
            for column in columns[1:]:
                result = (result & column) if expr.op == "and" else (result | column)
            return Typed("bool", result)
        if isinstance(expr, InList):
            value = self.compile(expr.operand)
            if value.kind == "null":
                return value
            found = ibis.literal(False)
            for item in expr.items:
                equal = self._compare("==", value, self.compile(item))
                if equal.kind == "bool":
                    found = found | equal.value.fill_null(False)
            result = ~found if expr.negated else found
            return Typed("bool", self._null_if_missing(value).ifelse(ibis.null("boolean"), result))
        assert isinstance(expr, Call)
        return self._call(expr)

    def _literal(self, value: object) -> Typed:
        if value is None:
            return Typed("null", None)
        if isinstance(value, bool):
            return Typed("bool", ibis.literal(value))
        if isinstance(value, Decimal):
            return Typed("num", self.ops.const(value))
        if isinstance(value, str):
            return Typed("str", ibis.literal(value))
        if isinstance(value, date):
            return Typed("date", ibis.literal(value))
        raise ExpressionError(f"unsupported literal {value!r}")

    def _null_if_missing(self, value: Typed) -> Any:
        if value.kind == "num":
            return value.value.num.isnull()
        return value.value.isnull()

    def _arithmetic(self, op: str, left: Typed, right: Typed) -> Typed:
        a, b = _as_number(left, self.ops), _as_number(right, self.ops)
        if a is None or b is None:
            return Typed("null", None)
        if op == "+":
            return Typed("num", self.ops.add(a, b))
        if op == "-":
            return Typed("num", self.ops.sub(a, b))
        if op == "*":
            return Typed("num", self.ops.times(a, b))
        return Typed("num", self.ops.divide(a, b))

    def _compare(self, op: str, left: Typed, right: Typed) -> Typed:
        if left.kind == "null" or right.kind == "null":
            return Typed("null", None)
        if left.kind == "str" and right.kind == "num":
            left = Typed("num", parse_number(left.value, self.ops))
        elif right.kind == "str" and left.kind == "num":
            right = Typed("num", parse_number(right.value, self.ops))
        if left.kind == "num" and right.kind == "num":
            return Typed("bool", self.ops.compare(op, left.value, right.value))
        if left.kind == right.kind:
            a, b = left.value, right.value
            return Typed("bool", {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b,
                                  ">=": a >= b}[op])
        if {left.kind, right.kind} == {"bool", "num"} and op in ("==", "!="):
            # Python's True == 1: a boolean equals the number 1 (and False equals 0).
            flag, number = (left, right) if left.kind == "bool" else (right, left)
            as_number = Frac(flag.value.ifelse(self.ops.lit(Decimal(1)), self.ops.lit(Decimal(0))))
            return Typed("bool", self.ops.compare(op, as_number, number.value))
        if op not in ("==", "!="):
            raise ExpressionError(f"cannot order {left.kind} against {right.kind}")
        missing = self._null_if_missing(left) | self._null_if_missing(right)
        return Typed("bool", missing.ifelse(ibis.null("boolean"), ibis.literal(op == "!=")))

    def _call(self, expr: Call) -> Typed:
        args = [_as_number(self.compile(a), self.ops) for a in expr.args]
        if any(a is None for a in args):
            return Typed("null", None)
        numbers = [a for a in args if a is not None]
        if expr.func == "abs":
            return Typed("num", self.ops.absolute(numbers[0]))
        result = numbers[0]
        for number in numbers[1:]:
            if expr.func == "min":
                result = self.ops.where(self.ops.lt(number, result), number, result)
            else:
                result = self.ops.where(self.ops.gt(number, result), number, result)
        # A null argument makes the whole call null, as in the reference.
        missing = ibis.literal(False)
        for number in numbers:
            missing = missing | number.num.isnull()
        return Typed("num", Frac(missing.ifelse(ibis.null(self.ops.work), result.num), result.den))
