"""Managers in a loop never credit each other with roll-up: the loop is a problem naming its
members and the day, whether it holds from the start or a later effective-dated term creates it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from attain.core.plan import CreditingRules
from attain.core.records import CreditRule, Deal, DealStatus, OrgTerm
from attain.crediting import Org, RateTable, credit_deals


def term(pid: str, manager: str | None, since: date | None = None, until: date | None = None) -> OrgTerm:
    return OrgTerm(participant_id=pid, role="ae", team="east", manager_id=manager,
                   effective_from=since, effective_to=until)


def deal(deal_id: str, owner: str, booked: date) -> Deal:
    return Deal(id=deal_id, owner_id=owner, amount=Decimal(1000), currency="USD", status=DealStatus.WON,
                booked_on=booked)


def test_two_managers_of_each_other_get_no_rollup_and_the_loop_is_named() -> None:
    org = Org([term("A", "B"), term("B", "A")])
    result = credit_deals([deal("D1", "A", date(2026, 2, 1)), deal("D2", "B", date(2026, 2, 2))], [], org,
                          CreditingRules(rollup=True), "USD", RateTable([]))
    assert [(c.participant_id, c.rule) for c in result.credits] == [("A", CreditRule.OWNER),
                                                                    ("B", CreditRule.OWNER)]
    messages = [p.message for p in result.problems if p.code == "manager_loop"]
    assert messages[0] == "managers form a loop on 2026-02-01: A -> B -> A; A's credit is not rolled up through it"
    assert len(messages) == 2


def test_a_loop_of_three_created_by_a_later_term_is_found_from_that_day() -> None:
    # C reports to A until July; from July 1 a new term has C managed by B, and B by C... via A:
    # A -> B -> C -> A.
    org = Org([term("A", "B"), term("B", "C"), term("C", None, until=date(2026, 7, 1)),
               term("C", "A", since=date(2026, 7, 1))])
    assert org.loops() == [(("A", "B", "C"), date(2026, 7, 1))]
    assert org.loop_on("A", date(2026, 6, 30)) == ()
    before = credit_deals([deal("D1", "A", date(2026, 6, 30))], [], org, CreditingRules(rollup=True), "USD",
                          RateTable([]))
    assert sorted(c.participant_id for c in before.credits) == ["A", "B", "C"] and not before.problems
    after = credit_deals([deal("D1", "A", date(2026, 7, 2))], [], org, CreditingRules(rollup=True), "USD",
                         RateTable([]))
    assert [c.participant_id for c in after.credits] == ["A"]
    assert [p.code for p in after.problems] == ["manager_loop"]


def test_a_chain_without_a_loop_has_none() -> None:
    assert Org([term("A", "B"), term("B", None)]).loops() == []
