"""The column algebra the vectorized form of each mechanic is written against.

A mechanic module keeps its reference evaluation (`pay`, on one payee's Decimal figures)
and its vectorized form (`vectorize`, on whole columns) side by side. The vectorized form
only calls the operations below, so the mechanic stays pure: the executor (engine.vectorized)
supplies an implementation over Ibis expressions with exact decimal arithmetic, and no
database or dataframe library is imported here.

Numbers are exact: an executor may carry them as fractions (numerator over a positive
denominator) so an attainment or a rate derived as target incentive / quota is never rounded
before the line is.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Protocol

from attain.core.plan import Basis, Rate

Num = Any
"""An exact number column (an executor's own type)."""

Flag = Any
"""A boolean column (true, false, or null for "no value")."""


class ColumnFigures(Protocol):
    """The figures of many lines at once: metric value and quota columns, one target incentive."""

    @property
    def value(self) -> Num: ...

    @property
    def quota(self) -> Num: ...

    @property
    def target_incentive(self) -> Decimal | None: ...


class ColumnOps(Protocol):
    """Exact arithmetic and choice over number columns, as the mechanics need them."""

    def const(self, value: Decimal) -> Num: ...

    def zero(self) -> Num: ...

    def add(self, left: Num, right: Num) -> Num: ...

    def sub(self, left: Num, right: Num) -> Num: ...

    def minimum(self, left: Num, right: Num) -> Num: ...

    def where(self, condition: Flag, then: Num, otherwise: Num) -> Num: ...

    def gt(self, left: Num, right: Num) -> Flag: ...

    def ge(self, left: Num, right: Num) -> Flag: ...

    def lt(self, left: Num, right: Num) -> Flag: ...

    def le(self, left: Num, right: Num) -> Flag: ...

    def eq(self, left: Num, right: Num) -> Flag: ...

    def both(self, left: Flag, right: Flag) -> Flag: ...

    def either(self, left: Flag, right: Flag) -> Flag: ...

    def position(self, figures: ColumnFigures, basis: Basis) -> Num:
        """The value on the basis: the metric amount, or attainment (value / quota)."""
        ...

    def to_value(self, figures: ColumnFigures, bound: Decimal, basis: Basis) -> Num:
        """A bound in metric units: itself, or bound x quota."""
        ...

    def times_rate(self, base: Num, rate: Rate, figures: ColumnFigures) -> Num:
        """`base` paid at `rate` (a fixed rate, or multiplier x target incentive / quota)."""
        ...
