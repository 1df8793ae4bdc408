"""The org as of a day: who manages whom and who sits in which team, from effective-dated terms."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from attain.core.records import OrgTerm


class Org:
    """Effective-dated org terms, indexed by participant; answers "as of this day" questions."""

    def __init__(self, terms: Iterable[OrgTerm]) -> None:
        by_participant: dict[str, list[OrgTerm]] = defaultdict(list)
        for term in terms:
            by_participant[term.participant_id].append(term)
        self._terms = {
            pid: sorted(ts, key=lambda t: t.effective_from or date.min)
            for pid, ts in by_participant.items()
        }

    def __contains__(self, participant_id: str) -> bool:
        return participant_id in self._terms

    def term_on(self, participant_id: str, day: date) -> OrgTerm | None:
        """The term in force for the participant on `day` (the latest one that holds)."""
        found = None
        for term in self._terms.get(participant_id, ()):
            if term.holds_on(day):
                found = term
        return found

    def manager_of(self, participant_id: str, day: date) -> str | None:
        term = self.term_on(participant_id, day)
        return term.manager_id if term else None

    def team_of(self, participant_id: str, day: date) -> str | None:
        term = self.term_on(participant_id, day)
        return term.team if term else None

    def chain_above(self, participant_id: str, day: date) -> tuple[str, ...]:
        """Managers above the participant on `day`, nearest first; stops at a cycle."""
        chain: list[str] = []
        seen = {participant_id}
        current = self.manager_of(participant_id, day)
        while current and current not in seen:
            chain.append(current)
            seen.add(current)
            current = self.manager_of(current, day)
        return tuple(chain)

    def members(self, team: str, day: date) -> tuple[str, ...]:
        """Participants in `team` on `day`, sorted by id."""
        return tuple(
            sorted(pid for pid in self._terms if (t := self.term_on(pid, day)) and t.team == team)
        )

    def has_cycle(self, participant_id: str, day: date) -> bool:
        seen = {participant_id}
        current = self.manager_of(participant_id, day)
        while current:
            if current in seen:
                return True
            seen.add(current)
            current = self.manager_of(current, day)
        return False
