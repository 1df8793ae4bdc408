"""The one-page plan document: clauses generated from the plan, worked numbers and the step graph."""

from __future__ import annotations

from pathlib import Path

import attain
from attain.formats.plan_file import load_plan, parse_plan
from attain.reports.plan_doc import render_plan_doc_html

DEMO_PLAN = Path(attain.__file__).parent / "demo" / "plans" / "account-executive.yaml"

POOL_PLAN = """
plan: partners
name: Partner Team Pool
currency: EUR
crediting: {date_basis: invoiced, partial_delivery: full, rollup: true}
payment: {timing: after_reconciliation}
cap: {amount: 90000}
draw: {amount: 2000, months: 3, recoverable: false}
metrics:
  sourced: {sum: amount, filter: "source == 'partner'", label: Partner-sourced bookings}
  quality: {average: quality_score}
components:
  - id: team_pool
    label: Team pool
    kind: pool
    metric: sourced
    period: half
    target_incentive: 60000
    funding: {kind: stepped, metric: sourced, steps: [{at: 90%, pays: 50%}, {at: 100%, pays: 100%}]}
    buckets:
      - {id: volume, share: 60%, split: contribution}
      - {id: quality, share: 30%, split: share, metric: quality}
      - {id: collaboration, share: 10%, split: equal}
    gates: [{when: "quality >= 3.5", label: quality bar}]
    reductions: [{when: "quality < 2", eliminate: true}]
clauses:
  external_factors: Quotas are revised if a partner program is withdrawn mid-period.
"""


def demo_doc() -> str:
    return render_plan_doc_html(load_plan(DEMO_PLAN))


def test_plan_doc_is_self_contained():
    html = demo_doc()
    assert "http" not in html
    assert "<link" not in html and "<script" not in html and "src=" not in html


def test_rules_come_from_each_mechanic():
    html = demo_doc()
    assert "Pays 100% of the target incentive when bookings is at or above 100.0% of quota; nothing below it." in html
    assert "Attainment above the milestone does not change this payout." in html
    assert "Above 100.0% of quota the rate is multiplied by 1.5 (on that slice only)." in html
    assert "Capped at 2x target incentive (100,000.00 USD)." in html
    assert "Pays 500 USD per qualifying deal credited from 2026-03-01 to 2026-03-31" in html


def test_worked_numbers_show_the_jump_at_100_percent():
    html = demo_doc()
    table = html[html.index("Worked numbers"):]
    table = table[:table.index("</table>")]
    rows = [r for r in table.split("<tr") if "<td" in r]
    cells = [[c.split("</td>")[0] for c in r.split('">')[1:]] for r in rows]
    # quota 1,800,000 from the plan's examples; target incentive 50,000.
    assert [c[0] for c in cells] == ["1,620,000", "1,764,000", "1,800,000", "2,160,000"]
    assert [c[1:] for c in cells] == [
        ["0.00", "0.00", "0.00"],
        ["0.00", "0.00", "0.00"],
        ["50,000.00", "0.00", "50,000.00"],
        ["50,000.00", "15,000.00", "65,000.00"],
    ]


def test_step_graph_is_drawn_once_per_metric():
    html = demo_doc()
    assert html.count("<svg") == 1
    assert 'id="payout-curve"' in html
    assert "payee-position" not in html
    assert "Drawn for a quota of 1,800,000 (as in the plan&#39;s examples or its fixed quota)" in html


def test_what_counts_timing_and_clauses():
    html = demo_doc()
    assert "A deal counts in the period of the date the deal was booked" in html
    assert "Overlay roles (se) receive full credit beside the owner." in html
    assert "A partially delivered deal is credited pro rata to what was delivered." in html
    assert "clawed back if it is cancelled within 180 days." in html
    assert "Earnings are paid after the end of each component&#39;s period." in html
    assert "Raise a dispute with RevOps within 30 days of the statement" in html
    assert "just short of quota (98%)" in html  # the plan's own worked examples


def test_pool_plan_gates_reductions_and_plan_limits():
    html = render_plan_doc_html(parse_plan(POOL_PLAN).plan)
    assert "Pays only if quality &gt;= 3.5 (quality bar)." in html
    assert "If quality &lt; 2, the payout is eliminated." in html
    assert "60.0% (volume) is split by each member&#39;s contribution to sourced." in html
    assert "counting only deals where source == &#39;partner&#39;" in html
    assert "the date the deal was invoiced" in html
    assert "Managers receive roll-up credit" in html
    assert "credited in full once it is won" in html
    assert "The total of all components is capped at 90,000 EUR." in html
    assert "non-recoverable" in html
    assert "Earnings are paid after the period is reconciled." in html
    assert "Quotas are revised if a partner program is withdrawn mid-period." in html
    # No quota anywhere in this plan: the curve says its quota is an assumption.
    assert "assumed for illustration" in html
    assert "whole team&#39;s pool" in html
    assert "Pool funding: at 90.0% of sourced: 50.0% of the target incentive." in html
