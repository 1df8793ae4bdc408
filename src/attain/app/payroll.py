"""Payroll use cases: the payroll file of a closed period (safe to open in a spreadsheet) and the
accruals report for finance (earned, paid and still owed, by period)."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from attain.app.workspace import Workspace
from attain.core.errors import ConflictError, NotFoundError
from attain.core.money import ZERO
from attain.ledger.cycle import PeriodState
from attain.ledger.entries import EntryKind
from attain.ledger.payments import AccrualRow, accruals
from attain.storage import ledger as store
from attain.storage.snapshot import read_dataset
from attain.storage.versions import known_import

PAYROLL_COLUMNS = ("period", "participant_id", "name", "pay_item", "plan_id", "currency", "amount")
# A cell starting with one of these is run as a formula by spreadsheet programs.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def safe_cell(text: str) -> str:
    """Text a spreadsheet shows as text: a leading formula character is escaped with a quote."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def payroll_rows(ws: Workspace, label: str) -> list[dict[str, str]]:
    """One row per payee and pay item paid at the close of `label`; amounts as decimal strings."""
    label = ws.period(label).label
    with ws.engine.connect() as conn:
        row = store.get_period(conn, label)
        if row is None:
            raise NotFoundError(f"period {label} is not in the ledger")
        if row.state is not PeriodState.CLOSED:
            raise ConflictError(f"period {label} is {row.state.value}: payroll is exported once it is closed")
        payments = [e for e in store.load_entries(conn, period=label) if e.kind is EntryKind.PAYMENT]
        names = {p.id: p.name for p in read_dataset(conn, known_import(conn, None)).participants}
    amounts: dict[tuple[str, str, str, str], Decimal] = defaultdict(lambda: ZERO)
    for entry in payments:
        amounts[(entry.participant_id, entry.pay_item, entry.plan_id, entry.currency)] += entry.amount
    return [
        {"period": label, "participant_id": pid, "name": names.get(pid, ""), "pay_item": item,
         "plan_id": plan_id, "currency": currency, "amount": format(amount, "f")}
        for (pid, item, plan_id, currency), amount in sorted(amounts.items()) if amount
    ]


def payroll_csv(rows: list[dict[str, str]]) -> str:
    """The payroll file's text: text cells escaped against formula injection, amounts left exact."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=PAYROLL_COLUMNS, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writeheader()
    for row in rows:
        writer.writerow({k: v if k == "amount" else safe_cell(v) for k, v in row.items()})
    return out.getvalue()


def export_payroll(ws: Workspace, label: str, path: Path | None = None) -> tuple[Path, int]:
    """Write the payroll file (default: payroll-<period>.csv in the workspace); returns (path, rows)."""
    rows = payroll_rows(ws, label)
    target = path or ws.root / f"payroll-{ws.period(label).label}.csv"
    target.write_text(payroll_csv(rows), encoding="utf-8")
    return target, len(rows)


def accruals_report(ws: Workspace) -> tuple[AccrualRow, ...]:
    """Per pay period and currency: earned, paid, and accrued (earned to date minus paid to date)."""
    with ws.engine.connect() as conn:
        entries = store.load_entries(conn)
        periods = [ws.period(p.label) for p in store.list_periods(conn)]
    return accruals(entries, periods)
