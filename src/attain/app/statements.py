"""Statement use case: a payee's statement for a pay period, read from the ledger's entries."""

from __future__ import annotations

from attain.app.workspace import Workspace
from attain.core.errors import NotFoundError
from attain.ledger.statements import Statement, build_statement
from attain.storage import ledger as store


def statement(ws: Workspace, participant_id: str, label: str) -> Statement:
    """The entries of `participant_id` posted in pay period `label`, with their explanations."""
    label = ws.period(label).label
    with ws.engine.connect() as conn:
        row = store.get_period(conn, label)
        if row is None:
            raise NotFoundError(f"period {label} is not in the ledger")
        entries = store.load_entries(conn, period=label)
    return build_statement(entries, participant_id, label, row.state.value)
