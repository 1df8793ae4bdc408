"""What one plan's calculation for one period can see: the plan, credits, metrics, quotas, org."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from attain.core.periods import FiscalCalendar, Period
from attain.core.plan import Plan
from attain.core.problems import Problem
from attain.core.records import Participant
from attain.crediting.org import Org
from attain.engine.measures import MetricBook, QuotaBook


@dataclass(slots=True, kw_only=True)
class Scope:
    """The read side of a calculation, shared by every payee of one plan in one period.

    `payees` are the participants the plan covers in the period (pools split among them);
    `memo` caches team-level work (pools) so each team is computed once.
    """

    plan: Plan
    period: Period
    calendar: FiscalCalendar
    org: Org
    metrics: MetricBook
    quotas: QuotaBook
    payees: tuple[Participant, ...]
    problems: list[Problem] = field(default_factory=list)
    memo: dict[tuple[str, ...], object] = field(default_factory=dict)

    def team_of(self, participant_id: str, period: Period) -> str:
        team = self.org.team_of(participant_id, period.last_day)
        if team is None:
            for payee in self.payees:
                if payee.id == participant_id:
                    return payee.team
            return ""
        return team

    def note(self, problem: Problem) -> None:
        self.problems.append(problem)

    def quota_for(self, participant_id: str, metric: str, period: Period) -> tuple[Decimal | None, str]:
        return self.quotas.quota(participant_id, metric, period)
