"""The HTML statement: self-contained, the same explanations as the text, and the curve with the payee on it."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import attain
from attain.core.dataset import DataSet
from attain.core.periods import parse_period
from attain.core.plan import Plan
from attain.core.records import Deal, DealStatus, Participant, Quota
from attain.engine.reference import calculate
from attain.engine.results import PayeeResult
from attain.reports.statement_html import render_statement_html

DEMO_PLAN = Path(attain.__file__).parent / "demo" / "plans" / "account-executive.yaml"


def ae_statement(*amounts: int) -> tuple[PayeeResult, Plan]:
    from attain.formats.plan_file import load_plan

    plan = load_plan(DEMO_PLAN).plan
    deals = tuple(
        Deal(id=f"D-{i}", owner_id="ae-1", amount=Decimal(amount), currency="USD", status=DealStatus.WON,
             booked_on=date(2026, 3, 5), fields=(("deal_type", "new_logo"),))
        for i, amount in enumerate(amounts, 1)
    )
    data = DataSet(
        participants=(Participant(id="ae-1", name="Ada <Park>", role="ae", team="west"),),
        quotas=(Quota(participant_id="ae-1", metric="bookings", period="2026-Q1", amount=Decimal(1_800_000)),),
        deals=deals,
    )
    payee = calculate(plan, data, parse_period("2026-Q1")).payee("ae-1")
    assert payee is not None
    return payee, plan


class Outline(HTMLParser):
    """Collects what a reader would look for: tags with a src/href, the details sections, visible text."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.details = 0
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.links.append(value)
        if tag == "details":
            self.details += 1

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.text.append(" ".join(data.split()))


def outline(html: str) -> Outline:
    parser = Outline()
    parser.feed(html)
    return parser


def test_statement_is_self_contained():
    payee, plan = ae_statement(1_764_000)
    html = render_statement_html(payee, plan)
    assert "http" not in html
    assert "<link" not in html and "<script" not in html
    assert all(link.startswith("#") for link in outline(html).links)
    assert "<style>" in html and "@media print" in html


def test_header_shows_payee_plan_period_and_total():
    payee, plan = ae_statement(1_764_000)
    html = render_statement_html(payee, plan)
    text = outline(html).text
    assert "Ada <Park>" in text  # escaped in the markup, readable on the page
    assert "Ada &lt;Park&gt;" in html
    assert "Account Executive Plan 2026" in text
    assert re.search(r'id="statement-total">500\.00 USD<', html)


def test_each_line_has_an_explanation_section():
    payee, plan = ae_statement(1_764_000)
    page = outline(render_statement_html(payee, plan))
    assert page.details == len(payee.lines) >= 3
    assert "Milestone 100.0% not reached: earned 0.00 USD." in page.text
    assert "Attainment: 1,764,000 / 1,800,000 = 98.0%." in page.text


def test_curve_marks_the_payee_at_their_attainment():
    payee, plan = ae_statement(2_160_000)
    html = render_statement_html(payee, plan)
    assert html.count("<svg") == 1  # milestone and accelerator share one bookings curve; the SPIFF has none
    assert '<g id="payee-position">' in html
    # Both bookings lines: 50,000 bonus + 15,000 accelerator.
    assert "you: 120.0% → 65,000.00 USD" in html
    assert "You are at bookings 2,160,000 against a quota of 1,800,000: 120.0% of quota" in html


def test_summary_table_lists_every_line_with_its_reason():
    payee, plan = ae_statement(1_764_000)
    html = render_statement_html(payee, plan)
    summary = html[html.index('<table class="summary">'):html.index("</table>")]
    assert summary.count("<tr>") == 1 + len(payee.lines)
    assert "milestone 100.0% not reached" in summary
    assert "nothing earned at 98.0% attainment" in summary
