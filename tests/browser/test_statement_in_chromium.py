"""A rendered statement opens in headless Chromium and draws its chart (skipped without Chromium)."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

import attain
from attain.core.dataset import DataSet
from attain.core.periods import parse_period
from attain.core.records import Deal, DealStatus, Participant, Quota
from attain.engine.reference import calculate
from attain.formats.plan_file import load_plan
from attain.reports.statement_html import render_statement_html

DEMO_PLAN = Path(attain.__file__).parent / "demo" / "plans" / "account-executive.yaml"
CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed"),
]


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", *args],
        capture_output=True, text=True, timeout=120, check=False,
    )


def test_statement_renders_with_its_chart(tmp_path: Path):
    plan = load_plan(DEMO_PLAN).plan
    data = DataSet(
        participants=(Participant(id="ae-1", name="Ada Park", role="ae", team="west"),),
        quotas=(Quota(participant_id="ae-1", metric="bookings", period="2026-Q1", amount=Decimal(1_800_000)),),
        deals=(Deal(id="D-1", owner_id="ae-1", amount=Decimal(1_764_000), currency="USD", status=DealStatus.WON,
                    booked_on=date(2026, 2, 1)),),
    )
    payee = calculate(plan, data, parse_period("2026-Q1")).payee("ae-1")
    assert payee is not None
    page = tmp_path / "statement.html"
    page.write_text(render_statement_html(payee, plan), encoding="utf-8")

    dom = chromium(tmp_path, "--dump-dom", page.as_uri())
    assert "Ada Park" in dom.stdout
    assert 'id="payee-position"' in dom.stdout
    assert "you: 98.0% → 0.00 USD" in dom.stdout

    shot = tmp_path / "statement.png"
    chromium(tmp_path, f"--screenshot={shot}", "--window-size=1200,1600", page.as_uri())
    assert shot.exists() and shot.stat().st_size > 20_000  # a drawn page, not a blank one
