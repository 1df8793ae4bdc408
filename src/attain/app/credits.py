"""The credits use case: which parts of which deals count for a participant in a period, and why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from attain.app.workspace import Workspace
from attain.core.plan import CreditingRules
from attain.core.problems import Problem
from attain.core.records import Credit
from attain.crediting import Org, RateTable, credit_deals


@dataclass(frozen=True, slots=True, kw_only=True)
class CreditListing:
    """A participant's credits in a period, the rules used (and from which plan), and problems."""

    participant_id: str
    period: str
    plan_id: str | None
    rules: CreditingRules
    currency: str
    credits: tuple[Credit, ...]
    problems: tuple[Problem, ...]


def list_credits(workspace: Workspace, participant_id: str, period_label: str,
                 as_of: datetime | None = None) -> CreditListing:
    """Credit the period's deals with the crediting rules of the participant's plan in force.

    The plan is the first (by id) plan version in force at the period's end that is assigned
    to the participant; without one, the default rules (booking date, no roll-up) apply.
    """
    from attain.formats.plan_file import parse_plan

    period = workspace.period(period_label)
    data = workspace.dataset(period, as_of)
    org = Org(data.terms())
    rules, currency, plan_id = CreditingRules(), workspace.settings.currency, None
    participant = data.participant(participant_id)
    term = org.term_on(participant_id, period.last_day)
    role = term.role if term else participant.role if participant else ""
    team = term.team if term else participant.team if participant else ""
    for in_force in workspace.plans(period.last_day, as_of):
        if in_force.assignment.covers(participant_id, role, team):
            plan = parse_plan(in_force.version.source_text, in_force.version.plan_id).plan
            rules, currency, plan_id = plan.crediting, plan.currency, plan.id
            break
    result = credit_deals(data.deals, data.splits, org, rules, currency, RateTable(data.rates),
                          window=period)
    mine = tuple(c for c in result.credits if c.participant_id == participant_id)
    deal_ids = {c.deal_id for c in mine} | {d.id for d in data.deals if d.owner_id == participant_id}
    problems = tuple(p for p in result.problems
                     if p.subject and p.subject.removeprefix("deal ") in deal_ids)
    return CreditListing(participant_id=participant_id, period=period.label, plan_id=plan_id,
                         rules=rules, currency=currency, credits=mine, problems=problems)
