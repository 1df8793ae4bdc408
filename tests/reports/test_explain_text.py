"""The text statement explains every line in words and numbers, from the engine's reasons only."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import attain
from attain.core.dataset import DataSet
from attain.core.periods import parse_period
from attain.core.plan import Plan
from attain.core.records import Deal, DealStatus, MetricObservation, Participant, Quota
from attain.engine.reference import calculate
from attain.engine.results import PayeeResult
from attain.formats.plan_file import load_plan, parse_plan
from attain.reports.explain_text import explain_line, render_statement_text

DEMO_PLAN = Path(attain.__file__).parent / "demo" / "plans" / "account-executive.yaml"

GATED_PLAN = """
plan: csm-2026
name: Customer Success Plan
currency: USD
metrics:
  renewals: {sum: amount}
  csat: {average: csat}
  incidents: {latest: incidents}
components:
  - id: renewal_bonus
    label: Renewal bonus
    kind: tiered
    method: marginal
    metric: renewals
    period: quarter
    target_incentive: 20000
    tiers:
      - {from: 0%, to: 100%, rate: 1%}
      - {from: 100%, rate: 2%}
    gates: ["csat >= 4.2"]
    reductions:
      - {when: "incidents > 0", reduce_by: 50%, label: brand safety}
    cap: {amount: 3000}
"""


def ae_statement(*amounts: int) -> tuple[PayeeResult, Plan]:
    """An AE with a 1,800,000 quarterly quota and one booked deal per amount (the last one a new logo in March)."""
    plan = load_plan(DEMO_PLAN).plan
    deals = tuple(
        Deal(id=f"D-{i}", owner_id="ae-1", amount=Decimal(amount), currency="USD", status=DealStatus.WON,
             booked_on=date(2026, 2, 1) if i < len(amounts) else date(2026, 3, 5),
             fields=(("deal_type", "new_logo" if i == len(amounts) else "expansion"),))
        for i, amount in enumerate(amounts, 1)
    )
    data = DataSet(
        participants=(Participant(id="ae-1", name="Ada Park", role="ae", team="west"),),
        quotas=(Quota(participant_id="ae-1", metric="bookings", period="2026-Q1", amount=Decimal(1_800_000)),),
        deals=deals,
    )
    payee = calculate(plan, data, parse_period("2026-Q1")).payee("ae-1")
    assert payee is not None
    return payee, plan


def csm_statement(csat: str, incidents: str) -> tuple[PayeeResult, Plan]:
    """A CSM at 120% of a 500,000 renewal quota, with a CSAT gate and a brand-safety reduction."""
    plan = parse_plan(GATED_PLAN).plan
    data = DataSet(
        participants=(Participant(id="c-1", name="Cy Rowe", role="csm"),),
        quotas=(Quota(participant_id="c-1", metric="renewals", period="2026-Q1", amount=Decimal(500_000)),),
        deals=(Deal(id="R-1", owner_id="c-1", amount=Decimal(600_000), currency="USD", status=DealStatus.WON,
                    booked_on=date(2026, 2, 1)),),
        observations=(
            MetricObservation(participant_id="c-1", metric="csat", period="2026-Q1", value=Decimal(csat)),
            MetricObservation(participant_id="c-1", metric="incidents", period="2026-Q1", value=Decimal(incidents)),
        ),
    )
    payee = calculate(plan, data, parse_period("2026-Q1")).payee("c-1")
    assert payee is not None
    return payee, plan


def section_text(text: str, start: str, end: str) -> str:
    return text[text.index(start):text.index(end, text.index(start))]


def test_milestone_at_98_percent_says_not_reached_and_pays_zero():
    payee, plan = ae_statement(1_000_000, 764_000)
    text = render_statement_text(payee, plan)
    bonus = section_text(text, "1. Quarterly quota bonus", "2. Accelerator")
    assert "Attainment: 1,764,000 / 1,800,000 = 98.0%." in bonus
    assert "Milestone 100.0% not reached: earned 0.00 USD." in bonus
    assert "Paid: 0.00 USD" in bonus
    assert "Quota: 1,800,000.00 USD." in bonus


def test_statement_header_and_total_come_from_the_payee():
    payee, plan = ae_statement(1_000_000, 764_000)
    text = render_statement_text(payee, plan)
    assert text.startswith("Payout statement: Ada Park (ae-1)")
    assert "Plan     Account Executive Plan 2026 (ae-2026, version 2026.1)" in text
    assert "Period   2026-Q1" in text
    # Only the March new-logo SPIFF pays at 98%.
    assert text.rstrip().endswith("Total for 2026-Q1: 500.00 USD")


def test_accelerator_slice_shows_base_times_rate_equals_amount():
    payee, plan = ae_statement(1_000_000, 1_160_000)
    text = render_statement_text(payee, plan)
    accelerator = section_text(text, "2. Accelerator above quota", "3. March")
    # 360,000 above quota at 1.5 x 50,000 / 1,800,000 = 4.1667% pays 15,000.
    assert "360,000.00 USD" in accelerator
    assert "4.1667%" in accelerator
    assert "15,000.00" in accelerator
    assert "Rate from target: 50,000.00 / 1,800,000 = 2.7778% per unit." in accelerator
    assert "component cap (2x target incentive = 100,000.00 USD) was not reached" in accelerator
    assert "Total for 2026-Q1: 65,500.00 USD" in text


def test_deals_behind_a_line_add_up_to_it():
    payee, plan = ae_statement(1_000_000, 1_160_000)
    text = render_statement_text(payee, plan)
    bonus = section_text(text, "1. Quarterly quota bonus", "2. Accelerator")
    assert "Deals behind this line" in bonus
    # The second deal took the payee over quota, so the delta method gives it the whole bonus.
    assert [row.split()[:4] for row in bonus.splitlines() if row.strip().startswith(("D-1", "D-2"))] == [
        ["D-1", "2026-02-01", "1,000,000", "0.00"], ["D-2", "2026-03-05", "1,160,000", "50,000.00"]]


def test_gate_clause_shows_its_value_and_result():
    payee, plan = csm_statement(csat="4.5", incidents="0")
    text = render_statement_text(payee, plan)
    assert "Gate csat >= 4.2 [holds]" in text
    assert any(row.split() == ["csat", ">=", "4.2", "4.5", "4.2", "true"] for row in text.splitlines())


def test_failed_gate_pays_nothing_and_says_why():
    payee, plan = csm_statement(csat="3.9", incidents="0")
    text = render_statement_text(payee, plan)
    assert "Gate csat >= 4.2 [does not hold]" in text
    assert "The condition csat >= 4.2 does not hold, so the line pays nothing." in text
    assert any(row.split() == ["csat", ">=", "4.2", "3.9", "4.2", "false"] for row in text.splitlines())
    assert "gate not met: csat >= 4.2" in text
    assert "Total for 2026-Q1: 0.00 USD" in text


def test_reduction_and_cap_are_explained_with_before_and_after():
    payee, plan = csm_statement(csat="4.5", incidents="2")
    text = render_statement_text(payee, plan)
    # Marginal tiers: 500,000 x 1% + 100,000 x 2% = 7,000; halved to 3,500; capped at 3,000.
    assert "Earned 7,000.00 USD before gates, reductions and limits." in text
    assert "Reduction brand safety: incidents > 0 [applied]" in text
    assert "cuts the payout by 50%: 7,000.00 USD becomes 3,500.00 USD." in text
    assert "The component cap (3,000.00 USD) applied: 3,500.00 USD becomes 3,000.00 USD." in text
    assert "Total for 2026-Q1: 3,000.00 USD" in text


def test_reduction_not_triggered_cuts_nothing():
    payee, plan = csm_statement(csat="4.5", incidents="0")
    text = render_statement_text(payee, plan)
    assert "incidents > 0 does not hold, so nothing is cut" in text


def test_explanation_sections_follow_the_engine_order():
    payee, plan = csm_statement(csat="4.5", incidents="2")
    titles = [s.title for s in explain_line(payee.lines[0], plan).sections]
    assert titles == ["What was measured", "The rule", "What it earned", "Gate csat >= 4.2",
                      "Reduction brand safety: incidents > 0", "Component cap", "Deals behind this line",
                      "What is paid"]
