"""The exception tree for bugs and refused operations; problems in data are values (see problems)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from attain.core.problems import Problem


class AttainError(Exception):
    """Base of every error Attain raises on purpose; entry points map it once."""

    exit_code = 1


class InputError(AttainError):
    """Input (a plan, a data file, an argument) is invalid; carries every problem found."""

    exit_code = 2

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.problems = tuple(problems)


class PlanError(InputError):
    """A plan file does not validate or fails its consistency checks."""


class DataError(InputError):
    """A data file (CSV, Parquet, JSON) has rows that cannot be accepted."""


class NotFoundError(AttainError):
    """A participant, period, plan, run or other named thing does not exist."""

    exit_code = 3


class ConflictError(AttainError):
    """An operation conflicts with recorded state (closed period, same key with other content)."""

    exit_code = 4


class UnsupportedError(AttainError):
    """An executor or adapter cannot express what was asked; refused before anything runs."""

    exit_code = 5
