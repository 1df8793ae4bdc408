"""The period cycle: open -> published -> closed, and a recorded reopen; what each state allows."""

from __future__ import annotations

from enum import Enum

from attain.core.errors import ConflictError


class PeriodState(Enum):
    """Where a pay period stands. Open periods take postings; published and closed ones never do."""

    OPEN = "open"
    PUBLISHED = "published"
    CLOSED = "closed"


class PeriodAction(Enum):
    """What may be done to a period."""

    PUBLISH = "publish"
    CLOSE = "close"
    REOPEN = "reopen"


_TRANSITIONS = {
    (PeriodState.OPEN, PeriodAction.PUBLISH): PeriodState.PUBLISHED,
    (PeriodState.PUBLISHED, PeriodAction.CLOSE): PeriodState.CLOSED,
    (PeriodState.PUBLISHED, PeriodAction.REOPEN): PeriodState.OPEN,
    (PeriodState.CLOSED, PeriodAction.REOPEN): PeriodState.OPEN,
}


def transition(period: str, state: PeriodState, action: PeriodAction, reason: str = "") -> PeriodState:
    """The state after `action`, or ConflictError saying why it is not allowed (nothing changes)."""
    if action is PeriodAction.REOPEN and not reason.strip():
        raise ConflictError(f"reopening period {period} needs a reason (--reason), which stays on record")
    after = _TRANSITIONS.get((state, action))
    if after is None:
        allowed = sorted(a.value for (s, a) in _TRANSITIONS if s is state)
        raise ConflictError(
            f"period {period} is {state.value}: cannot {action.value} it"
            + (f" (allowed: {', '.join(allowed)})" if allowed else "")
        )
    return after


def require_open(period: str, state: PeriodState) -> None:
    """Postings go only into open periods; a published statement and a closed period never change."""
    if state is PeriodState.PUBLISHED:
        raise ConflictError(f"period {period} is published: its statements are final; "
                            f"reopen it with a reason first, or post into the next open period")
    if state is PeriodState.CLOSED:
        raise ConflictError(f"period {period} is closed: late changes go into the next open period, "
                            f"pointing back to {period}")
