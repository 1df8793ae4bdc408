"""Turn deals into credits: who gets how much of each deal, on which date, and why."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from attain.core.money import CALC_CONTEXT, ONE, ZERO
from attain.core.periods import Period
from attain.core.plan import CreditingRules
from attain.core.problems import Problem
from attain.core.records import Credit, CreditRule, Deal, DealStatus, Split
from attain.crediting.fx import RateTable
from attain.crediting.org import Org

# Split roles whose shares divide a deal; every other role is an overlay role.
SHARED_ROLES = frozenset({"split", "owner"})


@dataclass(frozen=True, slots=True, kw_only=True)
class CreditResult:
    """Credits in (deal, participant) order, and every problem met on the way."""

    credits: tuple[Credit, ...]
    problems: tuple[Problem, ...]


def credit_deals(
    deals: Iterable[Deal],
    splits: Iterable[Split],
    org: Org,
    rules: CreditingRules,
    currency: str,
    rates: RateTable,
    window: Period | None = None,
) -> CreditResult:
    """Credit every won deal whose credit date falls in `window` (all dates when None).

    - the credit date is the deal's date on the plan's basis (booked, signed, invoiced, recognized);
    - open deals earn nothing yet; cancelled deals earn nothing (their earlier credit is reversed
      by recalculating, and the ledger claws back what was paid);
    - partial delivery is credited pro rata when the plan says so;
    - splits must sum to 100% per deal; overlay roles are credited in full beside them;
    - managers get roll-up credit through the hierarchy as of the credit date, once per deal.
    """
    splits_by_deal: dict[str, list[Split]] = defaultdict(list)
    for split in splits:
        splits_by_deal[split.deal_id].append(split)
    credits: list[Credit] = []
    problems: list[Problem] = []
    for deal in sorted(deals, key=lambda d: d.id):
        if deal.status is not DealStatus.WON:
            continue
        credit_date = deal.date_for(rules.date_basis)
        if credit_date is None:
            problems.append(Problem(
                code="credit_date_missing", subject=f"deal {deal.id}",
                message=f"won deal has no {rules.date_basis.value} date, the plan's credit date basis",
            ))
            continue
        if window is not None and not window.contains(credit_date):
            continue
        fx_rate = rates.rate(deal.currency, currency, credit_date)
        if fx_rate is None:
            problems.append(Problem(
                code="fx_rate_missing", subject=f"deal {deal.id}",
                message=f"no {deal.currency}->{currency} rate on or before {credit_date}",
            ))
            continue
        delivered = deal.delivered if rules.pro_rata_delivery else ONE
        credited = CALC_CONTEXT.multiply(CALC_CONTEXT.multiply(deal.amount, delivered), fx_rate)
        direct, problem = _direct_shares(deal, splits_by_deal.get(deal.id, []), rules)
        if problem:
            problems.append(problem)
            continue
        deal_credits = [
            _credit(deal, pid, credited, share, rule, credit_date, fx_rate, delivered, rules)
            for pid, share, rule in direct
        ]
        if rules.rollup:
            for pid, _share, _rule in direct:
                loop = org.loop_on(pid, credit_date)
                if loop:
                    problems.append(Problem(
                        code="manager_loop", subject=f"deal {deal.id}",
                        message=f"managers form a loop on {credit_date}: {' -> '.join((*loop, loop[0]))}; "
                                f"{pid}'s credit is not rolled up through it",
                    ))
            deal_credits.extend(
                _rollups(deal, direct, org, credited, credit_date, fx_rate, delivered, rules)
            )
        credits.extend(deal_credits)
    return CreditResult(credits=tuple(credits), problems=tuple(problems))


def _direct_shares(
    deal: Deal, splits: Sequence[Split], rules: CreditingRules
) -> tuple[list[tuple[str, Decimal, CreditRule]], Problem | None]:
    # Split rows share the deal (summing to 100%); rows of the plan's overlay roles are credited
    # in full beside them; rows of other roles (an SE on a plan without SE overlays) earn
    # nothing under this plan and do not disturb the shares.
    overlays = [s for s in splits if s.role in rules.overlay_roles]
    shared = [s for s in splits if s.role not in rules.overlay_roles and s.role in SHARED_ROLES]
    if not shared:
        direct = [(deal.owner_id, ONE, CreditRule.OWNER)]
    else:
        total = sum((s.share for s in shared), ZERO)
        if total != ONE:
            return [], Problem(
                code="split_sum", subject=f"deal {deal.id}",
                message=f"splits sum to {total * 100:f}%, not 100%", value=str(total),
            )
        merged: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for s in shared:
            merged[s.participant_id] += s.share
        direct = [
            (pid, share, CreditRule.OWNER if pid == deal.owner_id else CreditRule.SPLIT)
            for pid, share in sorted(merged.items())
        ]
    holders = {pid for pid, _, _ in direct}
    # an overlay is credited once per person, however many overlay rows name them
    direct.extend(
        (pid, ONE, CreditRule.OVERLAY) for pid in sorted({s.participant_id for s in overlays}) if pid not in holders
    )
    return direct, None


def _rollups(
    deal: Deal,
    direct: Sequence[tuple[str, Decimal, CreditRule]],
    org: Org,
    credited: Decimal,
    credit_date: date,
    fx_rate: Decimal,
    delivered: Decimal,
    rules: CreditingRules,
) -> list[Credit]:
    # A manager is credited once per deal: the sum of the shares of everyone below them, but
    # never more than the whole deal, and nothing if they already hold direct credit on it.
    holders = {pid for pid, _, _ in direct}
    share_below: dict[str, Decimal] = defaultdict(lambda: ZERO)
    via: dict[str, list[str]] = defaultdict(list)
    for pid, share, _rule in direct:
        if org.has_cycle(pid, credit_date):
            continue  # a loop of managers would credit its members with each other's deals
        for manager in org.chain_above(pid, credit_date):
            if manager in holders:
                continue
            share_below[manager] += share
            via[manager].append(pid)
    return [
        _credit(deal, manager, credited, min(share, ONE), CreditRule.ROLLUP, credit_date,
                fx_rate, delivered, rules, via=",".join(via[manager]))
        for manager, share in sorted(share_below.items())
    ]


def _credit(
    deal: Deal,
    participant_id: str,
    credited: Decimal,
    share: Decimal,
    rule: CreditRule,
    credit_date: date,
    fx_rate: Decimal,
    delivered: Decimal,
    rules: CreditingRules,
    via: str | None = None,
) -> Credit:
    return Credit(
        deal_id=deal.id,
        participant_id=participant_id,
        amount=CALC_CONTEXT.multiply(credited, share),
        credit_date=credit_date,
        rule=rule,
        share=share,
        basis=rules.date_basis,
        deal_amount=deal.amount,
        deal_currency=deal.currency,
        fx_rate=fx_rate,
        delivered=delivered,
        via=via,
        fields=deal.fields,
    )
