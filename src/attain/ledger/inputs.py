"""A run's recorded inputs: a canonical, order-free encoding of a DataSet and its fingerprint."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any

from attain.core.dataset import DataSet
from attain.core.money import to_decimal
from attain.core.periods import FiscalCalendar
from attain.core.plan import Plan
from attain.core.records import (
    CurrencyRate,
    Deal,
    DealStatus,
    MetricObservation,
    OrgTerm,
    Participant,
    Quota,
    Split,
)
from attain.ledger.entries import canonical_json

_KINDS: dict[str, type[Any]] = {
    "participants": Participant, "org_terms": OrgTerm, "deals": Deal, "splits": Split,
    "quotas": Quota, "observations": MetricObservation, "rates": CurrencyRate,
}
_ENUMS: dict[str, type[Enum]] = {"status": DealStatus}


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"d": format(value, "f")}
    if isinstance(value, date):
        return {"t": value.isoformat()}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple):
        return [_encode(v) for v in value]
    return value


def _decode(name: str, value: Any) -> Any:
    if isinstance(value, dict):
        return to_decimal(value["d"]) if "d" in value else date.fromisoformat(value["t"])
    if isinstance(value, list):
        return tuple(_decode(name, v) for v in value)
    if name in _ENUMS and isinstance(value, str):
        return _ENUMS[name](value)
    return value


def encode_dataset(data: DataSet) -> dict[str, list[Any]]:
    """Every record as canonical JSON-ready data, each kind sorted, so input order never matters."""
    encoded: dict[str, list[Any]] = {}
    for kind in _KINDS:
        records = [
            {f.name: _encode(getattr(record, f.name)) for f in dataclasses.fields(record)}
            for record in getattr(data, kind)
        ]
        encoded[kind] = sorted(records, key=canonical_json)
    return encoded


def decode_dataset(encoded: dict[str, list[Any]]) -> DataSet:
    """The inverse of `encode_dataset`."""
    parts = {
        kind: tuple(cls(**{k: _decode(k, v) for k, v in record.items()}) for record in encoded.get(kind, []))
        for kind, cls in _KINDS.items()
    }
    return DataSet(**parts)


def canonical_dataset(data: DataSet) -> DataSet:
    """The same records in canonical order: shuffled input gives an identical calculation."""
    return decode_dataset(encode_dataset(data))


def fingerprint(data: DataSet, plans: Sequence[Plan], period: str, calendar: FiscalCalendar) -> str:
    """SHA-256 over the canonical inputs of a run: data, plan content hashes, period and calendar."""
    document = {
        "data": encode_dataset(data),
        "plans": sorted([p.id, p.version, p.content_hash, list(p.assignment.roles), list(p.assignment.teams),
                         list(p.assignment.participants)] for p in plans),
        "period": period,
        "calendar": [calendar.start_month, calendar.named_by],
    }
    return hashlib.sha256(canonical_json(document)).hexdigest()
