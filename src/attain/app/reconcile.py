"""Reconciliation: what payroll actually paid (a file) against the ledger's payments, difference by
difference."""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from attain.app.workspace import Workspace
from attain.core.errors import DataError, NotFoundError
from attain.core.money import ZERO, MoneyFormatError, parse_decimal
from attain.core.problems import Problem
from attain.ledger.entries import EntryKind
from attain.storage import ledger as store


@dataclass(frozen=True, slots=True, kw_only=True)
class Difference:
    """One payee (and pay item, when the file gives it) where payroll and the ledger disagree."""

    participant_id: str
    pay_item: str
    currency: str
    ledger: Decimal
    paid: Decimal

    @property
    def difference(self) -> Decimal:
        return self.paid - self.ledger


def _read_paid(path: Path) -> tuple[dict[tuple[str, str, str], Decimal], bool]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise NotFoundError(f"{path}: no such file") from None
    reader = csv.DictReader(text.splitlines())
    columns = set(reader.fieldnames or ())
    missing = {"participant_id", "currency", "amount"} - columns
    if missing:
        raise DataError(f"{path.name}: missing column(s) {', '.join(sorted(missing))}")
    by_item = "pay_item" in columns
    paid: dict[tuple[str, str, str], Decimal] = defaultdict(lambda: ZERO)
    problems = []
    for number, row in enumerate(reader, start=2):
        try:
            amount = parse_decimal((row["amount"] or "").lstrip("'"))
        except MoneyFormatError as exc:
            problems.append(Problem(code="bad_amount", file=path.name, row=number, column="amount",
                                    value=row["amount"], message=str(exc)))
            continue
        pid = (row["participant_id"] or "").removeprefix("'")
        item = (row.get("pay_item") or "").removeprefix("'") if by_item else ""
        paid[(pid, item, row["currency"] or "")] += amount
    if problems:
        raise DataError(f"{path.name}: {len(problems)} row(s) cannot be read", problems)
    return dict(paid), by_item


def reconcile(ws: Workspace, label: str, paid_file: Path) -> tuple[Difference, ...]:
    """Every payee whose paid amount differs from the ledger's payments for pay period `label`."""
    label = ws.period(label).label
    paid, by_item = _read_paid(paid_file)
    with ws.engine.connect() as conn:
        if store.get_period(conn, label) is None:
            raise NotFoundError(f"period {label} is not in the ledger")
        payments = [e for e in store.load_entries(conn, period=label) if e.kind is EntryKind.PAYMENT]
    ledger: dict[tuple[str, str, str], Decimal] = defaultdict(lambda: ZERO)
    for entry in payments:
        ledger[(entry.participant_id, entry.pay_item if by_item else "", entry.currency)] += entry.amount
    return tuple(
        Difference(participant_id=key[0], pay_item=key[1], currency=key[2], ledger=ledger.get(key, ZERO),
                   paid=paid.get(key, ZERO))
        for key in sorted(set(ledger) | set(paid))
        if ledger.get(key, ZERO) != paid.get(key, ZERO)
    )
