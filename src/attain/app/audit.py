"""The audit chain: every change to plans, adjustments and period states, with who, when, before and
after, each link hashing the previous one; `verify_chain` finds the first broken link."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from attain.ledger.entries import canonical_json
from attain.storage import ledger as store


def link_hash(prev_hash: str, at: datetime, actor: str, action: str, subject: str, before: str,
              after: str) -> str:
    """The hash of one link: the previous link's hash and this change, canonically encoded."""
    return hashlib.sha256(canonical_json(
        [prev_hash, at.isoformat(timespec="microseconds"), actor, action, subject, before, after]
    )).hexdigest()


def record_change(conn: Connection, *, at: datetime, actor: str, action: str, subject: str,
                  before: Any, after: Any) -> None:
    """Append a change to the chain, inside the caller's transaction."""
    before_text = canonical_json(before).decode("utf-8")
    after_text = canonical_json(after).decode("utf-8")
    prev = store.last_audit_hash(conn)
    digest = link_hash(prev, at, actor, action, subject, before_text, after_text)
    store.append_audit(conn, at=at, actor=actor, action=action, subject=subject, before=before_text,
                       after=after_text, prev_hash=prev, digest=digest)


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainReport:
    """How many links were checked, and the first broken one (None when the chain holds)."""

    links: int
    broken_at: int | None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify_chain(conn: Connection) -> ChainReport:
    """Recompute every link; an edited, inserted or deleted row breaks the chain where it happened."""
    prev = ""
    rows = store.audit_rows(conn)
    for row in rows:
        if row.prev_hash != prev:
            return ChainReport(links=len(rows), broken_at=row.seq,
                               reason="does not point to the previous link (a link was removed or inserted)")
        expected = link_hash(prev, row.at, row.actor, row.action, row.subject, row.before, row.after)
        if expected != row.hash:
            return ChainReport(links=len(rows), broken_at=row.seq,
                               reason="its content does not match its hash (the row was edited)")
        prev = row.hash
    return ChainReport(links=len(rows), broken_at=None)
