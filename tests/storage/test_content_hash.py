"""A version's content hash is part of the stored format: a store written by an earlier release
must see the same content as unchanged, so the text hashed for each column is pinned here."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal

from attain.core.records import Deal, DealStatus
from attain.storage.codecs import CODECS


def test_a_deal_hashes_its_columns_as_pinned_text() -> None:
    deal = Deal(id="D-1", owner_id="ae-01", amount=Decimal("1250.50"), currency="USD", status=DealStatus.WON,
                booked_on=date(2026, 2, 1), delivered=Decimal("0.6"), fields=(("region", "emea"), ("tier", "1")))
    key, digest, columns = CODECS["deals"].row(deal)
    assert key == "D-1"
    assert columns["fields"] == '{"region": "emea", "tier": "1"}'
    # deal_id, owner_id, amount, currency, status, the five dates, delivered, fields; a missing
    # value is a NUL character; decimals in plain notation; dates in ISO form.
    text = "\x1f".join(["D-1", "ae-01", "1250.50", "USD", "won", "2026-02-01", "\x00", "\x00", "\x00", "\x00",
                        "0.6", '{"region": "emea", "tier": "1"}'])
    assert digest == hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()
    plain = Deal(id="D-2", owner_id="ae-01", amount=Decimal("1E+3"), currency="USD", status=DealStatus.OPEN)
    _, digest, columns = CODECS["deals"].row(plain)
    assert columns["fields"] == "{}"
    text = "\x1f".join(["D-2", "ae-01", "1000", "USD", "open", *["\x00"] * 5, "1", "{}"])
    assert digest == hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()
