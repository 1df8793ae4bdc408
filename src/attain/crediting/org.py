"""The org as of a day: who manages whom and who sits in which team, from effective-dated terms."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from attain.core.problems import Problem
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
        return bool(self.loop_on(participant_id, day))

    def loop_on(self, participant_id: str, day: date) -> tuple[str, ...]:
        """The managers' loop the participant's chain runs into on `day` (its members in chain
        order, starting from the smallest id), or () when the chain ends."""
        path = [participant_id]
        current = self.manager_of(participant_id, day)
        while current:
            if current in path:
                loop = path[path.index(current):]
                start = loop.index(min(loop))
                return tuple(loop[start:] + loop[:start])
            path.append(current)
            current = self.manager_of(current, day)
        return ()

    def loops(self) -> list[tuple[tuple[str, ...], date | None]]:
        """Every managers' loop with the first day it holds (None: from the beginning), checked on
        each day the org changes, so a loop created by a later effective-dated term is found."""
        days: set[date | None] = {None}
        for terms in self._terms.values():
            for term in terms:
                days.add(term.effective_from)
                days.add(term.effective_to)
        found: dict[frozenset[str], tuple[tuple[str, ...], date | None]] = {}
        for day in sorted(days, key=lambda d: d or date.min):
            for pid in sorted(self._terms):
                loop = self.loop_on(pid, day or date.min)
                if loop and frozenset(loop) not in found:
                    found[frozenset(loop)] = (loop, day)
        return sorted(found.values(), key=lambda item: (item[1] or date.min, item[0]))


def loop_problems(terms: Iterable[OrgTerm], file: str | None = None) -> list[Problem]:
    """Each managers' loop among `terms` as a problem naming its members and the day it starts."""
    problems = []
    for loop, since in Org(terms).loops():
        when = f"from {since}" if since else "from the start"
        problems.append(Problem(
            code="manager_loop", file=file, column="manager_id", value=",".join(loop),
            subject=f"participants {', '.join(loop)}",
            message=f"managers form a loop {when}: {' -> '.join((*loop, loop[0]))}; with rollup each would be "
                    "credited with the others' deals",
        ))
    return problems
