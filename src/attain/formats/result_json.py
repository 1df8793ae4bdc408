"""Calculation results as JSON: every payout line with its reasons, amounts as decimal strings."""

from __future__ import annotations

import json
from dataclasses import fields, is_dataclass
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any

from attain.core.money import minor_unit
from attain.engine.results import CalcResult, PayeeResult, PayoutLine

# Attainment is written to 16 decimal places (half-even), the places every executor's working
# type keeps: a never-ending ratio such as 1/3 reads the same whichever executor computed it.
ATTAINMENT_PLACES = 16


def plain(value: Decimal) -> str:
    """A decimal's exact value in its shortest plain form: no trailing zeros, no exponent
    ("1216000.000" and "1216000" both read "1216000"; "0.50" reads "0.5")."""
    if not value:
        return "0"
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int), "results hold finite numbers only"
    kept = len(digits)
    while exponent < 0 and kept > 1 and digits[kept - 1] == 0:  # exactly, without a context's rounding
        kept -= 1
        exponent += 1
    return format(Decimal((sign, digits[:kept], exponent)), "f")


def to_jsonable(value: Any) -> Any:
    """Dataclasses, Decimals, dates and enums as plain JSON values. Decimals become strings of
    their exact value in shortest form (`plain`), so the same figure reads the same whichever
    executor computed it and whatever places its inputs were written with; the amounts paid
    (each line's amount, each payee's total) keep their currency's places (`line_json`)."""
    if isinstance(value, Decimal):
        return plain(value)
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    raise TypeError(f"cannot render {type(value).__name__} as JSON")


def line_json(line: PayoutLine) -> dict[str, Any]:
    """A line with its amount and each deal's part in the currency's places, attainment at
    ATTAINMENT_PLACES, and a pool's buckets as labelled objects."""
    data = to_jsonable(line)
    assert isinstance(data, dict)
    quantum = minor_unit(line.currency)
    data["amount"] = str(line.amount.quantize(quantum))
    for deal, shown in zip(line.deals, data["deals"], strict=True):
        shown["amount"] = str(deal.amount.quantize(quantum))
    if line.metric.attainment is not None:
        data["metric"]["attainment"] = attainment_text(line.metric.attainment)
    if line.pool is not None:
        data["pool"]["buckets"] = [
            {"bucket": bucket, "split": method, "bucket_amount": str(bucket_amount.quantize(quantum)),
             "weight": plain(weight), "amount": str(amount.quantize(quantum))}
            for bucket, method, bucket_amount, weight, amount in line.pool.buckets
        ]
    return data


def attainment_text(value: Decimal) -> str:
    """An attainment ratio at ATTAINMENT_PLACES, in shortest form (0.98, 0.3333333333333333)."""
    return plain(value.quantize(Decimal(1).scaleb(-ATTAINMENT_PLACES), rounding="ROUND_HALF_EVEN"))


def payee_json(payee: PayeeResult) -> dict[str, Any]:
    return {
        "participant_id": payee.participant_id, "name": payee.name, "role": payee.role, "team": payee.team,
        "plan_id": payee.plan_id, "plan_version": payee.plan_version, "period": payee.period,
        "currency": payee.currency, "total": str(payee.total),
    }


def results_json(results: list[CalcResult]) -> str:
    """One JSON document: every line, per-payee totals, and problems met, for one or more plans."""
    document = {
        "period": results[0].period if results else None,
        "lines": [line_json(line) for result in results for line in result.lines],
        "totals": [payee_json(payee) for result in results for payee in result.payees],
        "problems": [to_jsonable(p) for result in results for p in result.problems],
    }
    return json.dumps(document, indent=2, sort_keys=False, ensure_ascii=False) + "\n"
