"""The pay statement as JSON: the document model itself, amounts as exact decimal text."""

from __future__ import annotations

import json
from typing import Any

from attain.core.money import MINOR_UNITS
from attain.reports.explain_text import Section
from attain.reports.pay_statement import PayStatement, StatementLine

FORMAT = "attain.pay_statement/1"


def _amount(value: Any, currency: str) -> str:
    """An amount at the currency's places (the ledger's amounts are already rounded to them)."""
    return f"{value:.{MINOR_UNITS.get(currency, 2)}f}"


def _section(section: Section) -> dict[str, Any]:
    out: dict[str, Any] = {"title": section.title, "sentences": list(section.sentences)}
    if section.status:
        out["status"] = section.status
        out["badge"] = section.badge
    if section.table is not None:
        out["table"] = {"headers": list(section.table.headers), "rows": [list(r) for r in section.table.rows]}
    return out


def _line(line: StatementLine) -> dict[str, Any]:
    return {
        "number": line.number, "key": line.key, "kind": line.kind.value, "label": line.label,
        "plan_id": line.plan_id, "component_id": line.component_id, "origin": line.origin,
        "currency": line.currency, "amount": _amount(line.amount, line.currency), "summary": line.summary,
        "deals": [{"deal_id": d, "credit_date": c.isoformat(), "amount": _amount(a, line.currency)}
                  for d, c, a in line.deals],
        "explanation": [_section(s) for s in line.sections],
    }


def pay_statement_record(statement: PayStatement) -> dict[str, Any]:
    """The statement as plain data: what the HTML and PDF show, field for field."""
    return {
        "format": FORMAT,
        "participant_id": statement.participant_id, "name": statement.name,
        "period": statement.period, "state": statement.state,
        "plans": [{"plan_id": p, "name": n} for p, n in statement.plans],
        "lines": [_line(line) for line in statement.lines],
        "payments": [_line(line) for line in statement.payments],
        "draws": [{"plan_id": d.plan_id, "currency": d.currency, "recoverable": d.recoverable,
                   "balance_before": _amount(d.before, d.currency), "change": _amount(d.change, d.currency),
                   "balance_after": _amount(d.after, d.currency)} for d in statement.draws],
        "totals": {c: _amount(statement.total(c), c) for c in statement.currencies},
        "paid": {c: _amount(statement.paid(c), c) for c in statement.currencies if statement.payments},
        "runs": list(statement.runs),
        "notes": list(statement.notes),
    }


def render_pay_statement_json(statement: PayStatement) -> str:
    return json.dumps(pay_statement_record(statement), indent=2, ensure_ascii=False) + "\n"
