"""Problems in input data as values: a stable code, where it was found, and what is wrong."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """One thing wrong with one piece of input; many are collected and reported together."""

    code: str
    message: str
    file: str | None = None
    row: int | None = None
    line: int | None = None
    column: str | None = None
    key: str | None = None
    value: str | None = None
    subject: str | None = None
    severity: str = "error"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def location(self) -> str:
        """Where the problem is, as `file:line key` or `file row N column C`."""
        parts: list[str] = []
        if self.file:
            parts.append(self.file + (f":{self.line}" if self.line is not None else ""))
        elif self.line is not None:
            parts.append(f"line {self.line}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column {self.column}")
        if self.key:
            parts.append(f"key {self.key}")
        if self.subject:
            parts.append(self.subject)
        return " ".join(parts)

    def __str__(self) -> str:
        where = self.location()
        shown = f" (value {self.value!r})" if self.value is not None else ""
        return f"{where}: {self.message}{shown} [{self.code}]" if where else f"{self.message}{shown} [{self.code}]"
