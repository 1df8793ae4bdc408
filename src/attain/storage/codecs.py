"""Per-kind codecs between core records and table columns, with the key and content hash of each.

The content hash is taken over a canonical text of the columns (decimals in plain notation,
dates in ISO form), so the same record imported again hashes the same and is a no-op.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from attain.core.money import to_decimal
from attain.core.records import (
    CurrencyRate,
    Deal,
    DealStatus,
    MetricObservation,
    Participant,
    QuotaEntry,
    Split,
)
from attain.formats.records import ParticipantRow

Columns = dict[str, Any]


def canonical(value: Any) -> str:
    """The text a column value is hashed as."""
    if value is None:
        return "\x00"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def content_hash(columns: Mapping[str, Any], names: Sequence[str]) -> str:
    # Texts (most columns) are taken as they are; anything else as `canonical` writes it.
    text = "\x1f".join(value if type(value) is str else canonical(value)
                       for value in map(columns.__getitem__, names))
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def _key(*parts: str | date | None) -> str:
    return "|".join("" if p is None else p.isoformat() if isinstance(p, date) else p
                    for p in parts)


@dataclass(frozen=True, slots=True, kw_only=True)
class Codec:
    """How one kind of record is keyed, stored and read back."""

    kind: str
    columns: tuple[str, ...]
    key: Callable[[Any], str]
    encode: Callable[[Any], tuple[str, Columns]]
    decode: Callable[[Mapping[str, Any]], Any]

    def row(self, record: Any) -> tuple[str, str, Columns]:
        """(key, content hash, columns) for a record."""
        key, columns = self.encode(record)
        return key, content_hash(columns, self.columns), columns


def _participant_key(row: ParticipantRow) -> str:
    return _key(row.participant.id, row.effective_from)


def _encode_participant(row: ParticipantRow) -> tuple[str, Columns]:
    p = row.participant
    return _participant_key(row), {
        "participant_id": p.id, "effective_from": row.effective_from, "name": p.name,
        "role": p.role, "team": p.team, "manager_id": p.manager_id,
        "start_date": p.start_date, "end_date": p.end_date, "currency": p.currency,
        "ramp": ";".join(format(s, "f") for s in p.ramp),
    }


def _decode_participant(r: Mapping[str, Any]) -> ParticipantRow:
    ramp = tuple(to_decimal(s) for s in r["ramp"].split(";")) if r["ramp"] else ()
    return ParticipantRow(
        participant=Participant(
            id=r["participant_id"], name=r["name"], role=r["role"], team=r["team"],
            manager_id=r["manager_id"], start_date=r["start_date"], end_date=r["end_date"],
            currency=r["currency"], ramp=ramp,
        ),
        effective_from=r["effective_from"],
    )


def _quota_key(q: QuotaEntry) -> str:
    return _key(q.participant_id, q.metric, q.period, q.effective_from)


def _encode_quota(q: QuotaEntry) -> tuple[str, Columns]:
    return _quota_key(q), {
        "participant_id": q.participant_id, "metric": q.metric, "period": q.period,
        "effective_from": q.effective_from, "amount": q.amount, "reason": q.reason,
    }


def _decode_quota(r: Mapping[str, Any]) -> QuotaEntry:
    return QuotaEntry(participant_id=r["participant_id"], metric=r["metric"], period=r["period"],
                      amount=r["amount"], effective_from=r["effective_from"], reason=r["reason"])


def _encode_deal(d: Deal) -> tuple[str, Columns]:
    return d.id, {
        "deal_id": d.id, "owner_id": d.owner_id, "amount": d.amount, "currency": d.currency,
        "status": d.status.value, "booked_on": d.booked_on, "signed_on": d.signed_on,
        "invoiced_on": d.invoiced_on, "recognized_on": d.recognized_on,
        "cancelled_on": d.cancelled_on, "delivered": d.delivered,
        "fields": json.dumps(dict(d.fields), sort_keys=True, ensure_ascii=False) if d.fields else "{}",
    }


def _decode_deal(r: Mapping[str, Any]) -> Deal:
    return Deal(
        id=r["deal_id"], owner_id=r["owner_id"], amount=r["amount"], currency=r["currency"],
        status=DealStatus(r["status"]), booked_on=r["booked_on"], signed_on=r["signed_on"],
        invoiced_on=r["invoiced_on"], recognized_on=r["recognized_on"],
        cancelled_on=r["cancelled_on"], delivered=r["delivered"],
        fields=tuple(sorted(json.loads(r["fields"]).items())),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class SplitSet:
    """Every split of one deal, stored and versioned together."""

    deal_id: str
    splits: tuple[Split, ...]


def _encode_splits(s: SplitSet) -> tuple[str, Columns]:
    shares = sorted([p.participant_id, format(p.share, "f"), p.role] for p in s.splits)
    return s.deal_id, {"deal_id": s.deal_id, "shares": json.dumps(shares)}


def _decode_splits(r: Mapping[str, Any]) -> SplitSet:
    return SplitSet(deal_id=r["deal_id"], splits=tuple(
        Split(deal_id=r["deal_id"], participant_id=pid, share=to_decimal(share), role=role)
        for pid, share, role in json.loads(r["shares"])
    ))


def _metric_key(m: MetricObservation) -> str:
    return _key(m.participant_id, m.metric, m.period)


def _encode_metric(m: MetricObservation) -> tuple[str, Columns]:
    return _metric_key(m), {
        "participant_id": m.participant_id, "metric": m.metric, "period": m.period,
        "value": m.value,
    }


def _decode_metric(r: Mapping[str, Any]) -> MetricObservation:
    return MetricObservation(participant_id=r["participant_id"], metric=r["metric"],
                             period=r["period"], value=r["value"])


def _rate_key(x: CurrencyRate) -> str:
    return _key(x.from_currency, x.to_currency, x.on)


def _encode_rate(x: CurrencyRate) -> tuple[str, Columns]:
    return _rate_key(x), {
        "from_currency": x.from_currency, "to_currency": x.to_currency, "on": x.on,
        "rate": x.rate,
    }


def _decode_rate(r: Mapping[str, Any]) -> CurrencyRate:
    return CurrencyRate(from_currency=r["from_currency"], to_currency=r["to_currency"],
                        on=r["on"], rate=r["rate"])


CODECS: dict[str, Codec] = {
    codec.kind: codec for codec in (
        Codec(kind="participants", key=_participant_key, encode=_encode_participant, decode=_decode_participant,
              columns=("participant_id", "effective_from", "name", "role", "team", "manager_id",
                       "start_date", "end_date", "currency", "ramp")),
        Codec(kind="quotas", key=_quota_key, encode=_encode_quota, decode=_decode_quota,
              columns=("participant_id", "metric", "period", "effective_from", "amount",
                       "reason")),
        Codec(kind="deals", key=lambda d: d.id, encode=_encode_deal, decode=_decode_deal,
              columns=("deal_id", "owner_id", "amount", "currency", "status", "booked_on",
                       "signed_on", "invoiced_on", "recognized_on", "cancelled_on",
                       "delivered", "fields")),
        Codec(kind="splits", key=lambda s: s.deal_id, encode=_encode_splits, decode=_decode_splits,
              columns=("deal_id", "shares")),
        Codec(kind="metrics", key=_metric_key, encode=_encode_metric, decode=_decode_metric,
              columns=("participant_id", "metric", "period", "value")),
        Codec(kind="rates", key=_rate_key, encode=_encode_rate, decode=_decode_rate,
              columns=("from_currency", "to_currency", "on", "rate")),
    )
}
