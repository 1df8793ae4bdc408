"""Calculation results as a terminal table or CSV (one row per payout line)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from rich.table import Table

from attain.core.money import format_ratio
from attain.engine.results import CalcResult
from attain.formats.terminal_text import user_text as _user

CSV_COLUMNS = ("participant_id", "name", "plan_id", "plan_version", "component_id", "period", "metric", "value",
               "quota", "attainment", "amount", "currency")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(text: str) -> str:
    """Neutralise text a spreadsheet would run as a formula (numbers stay numbers)."""
    if text.startswith(_FORMULA_START):
        try:
            Decimal(text)
            return text
        except ArithmeticError:
            return "'" + text
    return text


def results_csv(results: list[CalcResult]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for result in results:
        for payee in result.payees:
            for line in payee.lines:
                m = line.metric
                writer.writerow([safe_cell(str(v)) for v in (
                    payee.participant_id, payee.name, line.plan_id, line.plan_version, line.component_id,
                    line.period, m.name, "" if m.value is None else m.value, "" if m.quota is None else m.quota,
                    "" if m.attainment is None else m.attainment.quantize(Decimal("0.000001")), line.amount,
                    line.currency,
                )])
    return out.getvalue()


def results_table(results: list[CalcResult]) -> Table:
    table = Table(title=f"Payouts for {results[0].period}" if results else "Payouts", show_lines=False)
    for column, justify in (("Payee", "left"), ("Plan", "left"), ("Component", "left"), ("Period", "left"),
                            ("Attainment", "right"), ("Amount", "right")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for result in results:
        for payee in result.payees:
            for index, line in enumerate(payee.lines):
                attainment = "" if line.metric.attainment is None else format_ratio(line.metric.attainment)
                flag = " (gate failed)" if line.gated_out else ""
                table.add_row(_user(f"{payee.participant_id} {payee.name}") if index == 0 else "",
                              _user(f"{payee.plan_id} v{line.plan_version}") if index == 0 else "",
                              _user(line.component_label + flag), _user(line.period),
                              attainment, f"{line.amount:,}")
            table.add_row("", "", "[bold]Total[/]", "", "", f"[bold]{payee.total:,} {payee.currency}[/]",
                          end_section=True)
    return table
