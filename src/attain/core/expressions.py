"""A small, safe expression language for filters, gates and formulas: parsed, never eval'd.

Grammar (lowest to highest precedence):
    or  ->  and  ->  not  ->  comparison (== != < <= > >=, in [...], not in [...])
        ->  + -  ->  * /  ->  unary -  ->  atom
atom: number (`12`, `4.2`, `70%`), string ('new_logo' or "x"), true, false, name,
      function call (min, max, abs, date('2026-03-01')), ( expression ), [list].

Values are Decimal, str, bool, date or None. None means "no value" and propagates the way
SQL NULL does (three-valued logic), so the reference engine and the vectorized executor agree:
a gate or filter holds only when its condition is exactly true.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, DivisionByZero, InvalidOperation

from attain.core.money import CALC_CONTEXT, MoneyFormatError, parse_decimal

MAX_LENGTH = 4000
MAX_DEPTH = 40
MAX_NODES = 1000

Value = Decimal | str | bool | date | None


class ExpressionError(ValueError):
    """An expression does not parse, is too large, or cannot be evaluated."""

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message if position is None else f"{message} (at character {position + 1})")
        self.position = position


@dataclass(frozen=True, slots=True)
class Literal:
    value: Value
    source: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True)
class Name:
    name: str


@dataclass(frozen=True, slots=True)
class Unary:
    op: str
    operand: Expr


@dataclass(frozen=True, slots=True)
class Binary:
    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Compare:
    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class BoolOp:
    op: str
    operands: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class InList:
    operand: Expr
    items: tuple[Expr, ...]
    negated: bool


@dataclass(frozen=True, slots=True)
class Call:
    func: str
    args: tuple[Expr, ...]


Expr = Literal | Name | Unary | Binary | Compare | BoolOp | InList | Call

_TOKEN_RE = re.compile(
    r"""(?P<ws>\s+)
      |(?P<number>[0-9]+(?:\.[0-9]+)?%?)
      |(?P<string>'[^'\\]*'|"[^"\\]*")
      |(?P<name>[A-Za-z_][A-Za-z0-9_]*)
      |(?P<op>==|!=|<=|>=|<|>|\+|-|\*|/|\(|\)|\[|\]|,)
    """,
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not", "in", "true", "false"}
FUNCTIONS = {"min": (2, 8), "max": (2, 8), "abs": (1, 1), "date": (1, 1)}
_COMPARISONS = {"==", "!=", "<", "<=", ">", ">="}


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    text: str
    position: int


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN_RE.match(text, position)
        if not match:
            raise ExpressionError(f"unexpected character {text[position]!r}", position)
        kind = match.lastgroup or ""
        if kind != "ws":
            word = match.group()
            if kind == "name" and word in _KEYWORDS:
                kind = word
            tokens.append(_Token(kind, word, position))
        position = match.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.index = 0
        self.nodes = 0
        self.depth = 0

    @property
    def current(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def expect(self, text: str) -> _Token:
        if self.current.text != text:
            found = self.current.text or "end of expression"
            raise ExpressionError(f"expected {text!r}, found {found!r}", self.current.position)
        return self.advance()

    def node(self, expr: Expr) -> Expr:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise ExpressionError(f"expression has more than {MAX_NODES} parts")
        return expr

    def nested(self, parse: Callable[[], Expr]) -> Expr:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(f"expression nests deeper than {MAX_DEPTH}", self.current.position)
        try:
            return parse()
        finally:
            self.depth -= 1

    def parse(self) -> Expr:
        expr = self.parse_or()
        if self.current.kind != "end":
            raise ExpressionError(f"unexpected {self.current.text!r}", self.current.position)
        return expr

    def parse_or(self) -> Expr:
        return self._bool_chain("or", self.parse_and)

    def parse_and(self) -> Expr:
        return self._bool_chain("and", self.parse_not)

    def _bool_chain(self, op: str, parse_operand: Callable[[], Expr]) -> Expr:
        operands = [parse_operand()]
        while self.current.kind == op:
            self.advance()
            operands.append(parse_operand())
        return operands[0] if len(operands) == 1 else self.node(BoolOp(op, tuple(operands)))

    def parse_not(self) -> Expr:
        if self.current.kind == "not":
            self.advance()
            return self.node(Unary("not", self.nested(self.parse_not)))
        return self.parse_comparison()

    def parse_comparison(self) -> Expr:
        left = self.parse_sum()
        token = self.current
        if token.kind == "op" and token.text in _COMPARISONS:
            self.advance()
            right = self.parse_sum()
            if self.current.kind == "op" and self.current.text in _COMPARISONS:
                raise ExpressionError("chained comparisons need 'and'", self.current.position)
            return self.node(Compare(token.text, left, right))
        negated = False
        if token.kind == "not" and self.tokens[self.index + 1].kind == "in":
            self.advance()
            negated = True
        if self.current.kind == "in":
            self.advance()
            self.expect("[")
            items = self._items("]")
            return self.node(InList(left, items, negated))
        if negated:
            raise ExpressionError("expected 'in' after 'not'", self.current.position)
        return left

    def _items(self, closing: str) -> tuple[Expr, ...]:
        items: list[Expr] = []
        if self.current.text != closing:
            items.append(self.nested(self.parse_or))
            while self.current.text == ",":
                self.advance()
                items.append(self.nested(self.parse_or))
        self.expect(closing)
        return tuple(items)

    def parse_sum(self) -> Expr:
        left = self.parse_product()
        while self.current.kind == "op" and self.current.text in ("+", "-"):
            op = self.advance().text
            left = self.node(Binary(op, left, self.parse_product()))
        return left

    def parse_product(self) -> Expr:
        left = self.parse_unary()
        while self.current.kind == "op" and self.current.text in ("*", "/"):
            op = self.advance().text
            left = self.node(Binary(op, left, self.parse_unary()))
        return left

    def parse_unary(self) -> Expr:
        if self.current.kind == "op" and self.current.text == "-":
            self.advance()
            return self.node(Unary("-", self.nested(self.parse_unary)))
        return self.parse_atom()

    def parse_atom(self) -> Expr:
        token = self.advance()
        if token.kind == "number":
            if token.text.endswith("%"):
                return self.node(Literal(Decimal(token.text[:-1]) / 100, token.text))
            return self.node(Literal(Decimal(token.text), token.text))
        if token.kind == "string":
            return self.node(Literal(token.text[1:-1]))
        if token.kind in ("true", "false"):
            return self.node(Literal(token.kind == "true"))
        if token.kind == "name":
            if self.current.text == "(":
                return self._call(token)
            return self.node(Name(token.text))
        if token.text == "(":
            expr = self.nested(self.parse_or)
            self.expect(")")
            return expr
        found = token.text or "end of expression"
        raise ExpressionError(f"expected a value, found {found!r}", token.position)

    def _call(self, token: _Token) -> Expr:
        if token.text not in FUNCTIONS:
            known = ", ".join(sorted(FUNCTIONS))
            raise ExpressionError(f"unknown function {token.text!r} (known: {known})", token.position)
        self.expect("(")
        args = self._items(")")
        low, high = FUNCTIONS[token.text]
        if not low <= len(args) <= high:
            raise ExpressionError(f"{token.text}() takes {low} to {high} arguments", token.position)
        if token.text == "date":
            arg = args[0]
            if not (isinstance(arg, Literal) and isinstance(arg.value, str)):
                raise ExpressionError("date() takes a quoted ISO date", token.position)
            try:
                return self.node(Literal(date.fromisoformat(arg.value)))
            except ValueError as exc:
                raise ExpressionError(f"not an ISO date: {arg.value!r}", token.position) from exc
        return self.node(Call(token.text, args))


def parse(text: str) -> Expr:
    """Parse an expression, enforcing the size and depth limits."""
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression longer than {MAX_LENGTH} characters")
    if not text.strip():
        raise ExpressionError("empty expression")
    return _Parser(text).parse()


def children(expr: Expr) -> tuple[Expr, ...]:
    """The direct sub-expressions of `expr`."""
    if isinstance(expr, Unary):
        return (expr.operand,)
    if isinstance(expr, Binary | Compare):
        return (expr.left, expr.right)
    if isinstance(expr, BoolOp):
        return expr.operands
    if isinstance(expr, InList):
        return (expr.operand, *expr.items)
    if isinstance(expr, Call):
        return expr.args
    return ()


def walk(expr: Expr) -> Iterator[Expr]:
    """Every node of `expr`, depth first."""
    yield expr
    for child in children(expr):
        yield from walk(child)


def names(expr: Expr) -> frozenset[str]:
    """The names an expression reads."""
    return frozenset(node.name for node in walk(expr) if isinstance(node, Name))


def static_faults(expr: Expr) -> list[str]:
    """What is wrong whatever the data: a division by a literal zero, or a literal number compared
    with a literal text (both would quietly evaluate to no value, and so pay nothing)."""
    faults: list[str] = []
    for node in walk(expr):
        if isinstance(node, Binary) and node.op == "/" and isinstance(node.right, Literal):
            divisor = node.right.value
            if isinstance(divisor, Decimal) and divisor == 0:
                faults.append(f"division by zero in {to_text(node)}")
        if isinstance(node, Compare) and isinstance(node.left, Literal) and isinstance(node.right, Literal):
            kinds = {type(node.left.value), type(node.right.value)}
            if kinds == {Decimal, str}:
                faults.append(f"a number compared with a text in {to_text(node)}")
    return faults


def to_text(expr: Expr) -> str:
    """Render an expression back to canonical text (for explanations and plan documents)."""
    if isinstance(expr, Literal):
        return expr.source or _literal_text(expr.value)
    if isinstance(expr, Name):
        return expr.name
    if isinstance(expr, Unary):
        inner = to_text(expr.operand)
        return f"not {inner}" if expr.op == "not" else f"-{inner}"
    if isinstance(expr, Binary | Compare):
        return f"{_wrapped(expr.left)} {expr.op} {_wrapped(expr.right)}"
    if isinstance(expr, BoolOp):
        return f" {expr.op} ".join(_wrapped(o) for o in expr.operands)
    if isinstance(expr, InList):
        items = ", ".join(to_text(i) for i in expr.items)
        return f"{to_text(expr.operand)} {'not in' if expr.negated else 'in'} [{items}]"
    return f"{expr.func}({', '.join(to_text(a) for a in expr.args)})"


def _wrapped(expr: Expr) -> str:
    text = to_text(expr)
    return f"({text})" if isinstance(expr, BoolOp | Compare | Binary) else text


def _literal_text(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, date):
        return f"date('{value.isoformat()}')"
    return "null" if value is None else str(value)


def _as_number(value: Value) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, str):
        try:
            return parse_decimal(value)
        except MoneyFormatError:
            return None
    return None


def _coerce_pair(left: Value, right: Value) -> tuple[Value, Value]:
    """Compare a text field with a number numerically (custom CSV fields arrive as text)."""
    if isinstance(left, str) and isinstance(right, Decimal):
        return _as_number(left), right
    if isinstance(right, str) and isinstance(left, Decimal):
        return left, _as_number(right)
    return left, right


def _compare(op: str, left: Value, right: Value) -> bool | None:
    left, right = _coerce_pair(left, right)
    if left is None or right is None:
        return None
    if op == "==":
        return left == right
    if op == "!=":
        return left != right
    if type(left) is not type(right) and not (isinstance(left, Decimal) and isinstance(right, Decimal)):
        raise ExpressionError(f"cannot order {type(left).__name__} against {type(right).__name__}")
    ordered = {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}  # type: ignore[operator]
    return ordered[op]


def _arithmetic(op: str, left: Value, right: Value) -> Decimal | None:
    a, b = _as_number(left), _as_number(right)
    if a is None or b is None:
        return None
    try:
        if op == "+":
            return CALC_CONTEXT.add(a, b)
        if op == "-":
            return CALC_CONTEXT.subtract(a, b)
        if op == "*":
            return CALC_CONTEXT.multiply(a, b)
        return None if b == 0 else CALC_CONTEXT.divide(a, b)
    except (InvalidOperation, DivisionByZero):
        return None


def evaluate(expr: Expr, env: Mapping[str, object], trace: list[Clause] | None = None) -> Value:
    """Evaluate with three-valued logic; unknown names raise, missing values are None.

    When `trace` is given, every comparison is appended to it with its operands and result,
    so a gate can show each clause with its value.
    """
    if isinstance(expr, Literal):
        return expr.value
    if isinstance(expr, Name):
        if expr.name not in env:
            raise ExpressionError(f"unknown name {expr.name!r}")
        value = env[expr.name]
        if value is None or isinstance(value, Decimal | str | bool | date):
            return value
        if isinstance(value, int):
            return Decimal(value)
        raise ExpressionError(f"{expr.name!r} has a value of unsupported type {type(value).__name__}")
    if isinstance(expr, Unary):
        inner = evaluate(expr.operand, env, trace)
        if expr.op == "not":
            return None if inner is None else not _truth(inner)
        number = _as_number(inner)
        return None if number is None else -number
    if isinstance(expr, Binary):
        return _arithmetic(expr.op, evaluate(expr.left, env, trace), evaluate(expr.right, env, trace))
    if isinstance(expr, Compare):
        left = evaluate(expr.left, env, trace)
        right = evaluate(expr.right, env, trace)
        result = _compare(expr.op, left, right)
        if trace is not None:
            trace.append(Clause(text=to_text(expr), left=left, right=right, result=result))
        return result
    if isinstance(expr, BoolOp):
        return _bool_op(expr, env, trace)
    if isinstance(expr, InList):
        value = evaluate(expr.operand, env, trace)
        if value is None:
            return None
        found = any(_compare("==", value, evaluate(i, env, trace)) for i in expr.items)
        return not found if expr.negated else found
    args = [_as_number(evaluate(a, env, trace)) for a in expr.args]
    if any(a is None for a in args):
        return None
    numbers = [a for a in args if a is not None]
    if expr.func == "min":
        return min(numbers)
    if expr.func == "max":
        return max(numbers)
    return abs(numbers[0])


def _truth(value: Value) -> bool:
    if isinstance(value, bool):
        return value
    raise ExpressionError(f"expected true or false, got {_literal_text(value)}")


def _bool_op(expr: BoolOp, env: Mapping[str, object], trace: list[Clause] | None) -> bool | None:
    # Kleene logic, evaluating every operand so the trace shows every clause.
    values = [evaluate(o, env, trace) for o in expr.operands]
    truths = [None if v is None else _truth(v) for v in values]
    if expr.op == "and":
        if any(t is False for t in truths):
            return False
        return None if any(t is None for t in truths) else True
    if any(t is True for t in truths):
        return True
    return None if any(t is None for t in truths) else False


def holds(expr: Expr, env: Mapping[str, object], trace: list[Clause] | None = None) -> bool:
    """True only when the condition evaluates to exactly true (no value counts as not holding)."""
    return evaluate(expr, env, trace) is True


@dataclass(frozen=True, slots=True, kw_only=True)
class Clause:
    """One evaluated comparison: its text, both operands and the result (None: no value)."""

    text: str
    left: Value
    right: Value
    result: bool | None
