"""The pay statement from the ledger: every figure of its JSON, HTML and PDF equals a ledger entry."""

from __future__ import annotations

import json
import re
import zlib
from decimal import Decimal
from pathlib import Path

import pytest
from pay_statement_scenario import build_april

from attain.app.statements import pay_statement, write_statements
from attain.core.errors import NotFoundError
from attain.ledger.entries import EntryKind
from attain.reports.pay_statement_html import render_pay_statement_html
from attain.reports.pay_statement_json import pay_statement_record
from attain.reports.pay_statement_pdf import render_pay_statement_pdf
from attain.storage import ledger as store


@pytest.fixture(scope="module")
def april(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("april")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ATTAIN_DATABASE_URL", f"sqlite:///{(root / 'store.db').as_posix()}")
        ws = build_april(root / "ws")
        yield ws
        ws.close()


def ledger_april(ws):
    with ws.engine.connect() as conn:
        return [e for e in store.load_entries(conn, period="2026-04") if e.participant_id == "rep-1"]


def test_the_statement_holds_every_april_entry_at_its_hand_checked_amount(april):
    s = pay_statement(april, "rep-1", "2026-04")
    assert [(line.kind.value, line.origin, line.amount) for line in s.lines] == [
        ("clawback", "2026-Q1", Decimal("-3000.00")),
        ("true_up", "2026-Q1", Decimal("1000.00")),
        ("earning", "2026-Q2", Decimal("5000.00")),
        ("draw_recovery", "2026-04", Decimal("-3000.00")),
        ("adjustment", "2026-04", Decimal("250.00")),
    ]
    assert [line.key for line in s.lines] == [e.key for e in ledger_april(april)]
    assert s.total("USD") == Decimal("250.00") == sum(e.amount for e in ledger_april(april))
    assert s.name == "Ada Park" and s.state == "open"


def test_each_entry_says_where_it_comes_from(april):
    s = pay_statement(april, "rep-1", "2026-04")
    clawback, true_up, advance, recovery, adjustment = s.lines
    assert clawback.deals[0][0] == "d1" and clawback.deals[0][2] == Decimal("-3000.00")
    assert clawback.summary == "deal d1 cancelled: paid for it on 2026-Q1, taken back"
    assert true_up.summary == "true-up for 2026-Q1: earned 3,000.00 USD, paid before 5,000.00 USD"
    ledger = true_up.sections[0]
    assert ledger.title == "From the ledger" and ledger.table is not None
    # 3,000 earned for Q1 now, 5,000 paid on January and March statements: -2,000 posted (-3,000 + 1,000).
    assert [row[1] for row in ledger.table.rows] == ["3,000.00", "-5,000.00", "-2,000.00"]
    titles = [section.title for section in true_up.sections]
    assert "What was measured" in titles and "Deals behind this line" in titles  # the explain sections
    assert advance.summary.startswith("advance on 2026-Q2 to date")
    assert "Bookings: 50,000.00 USD." in advance.sections[1].sentences
    assert recovery.kind is EntryKind.DRAW_RECOVERY
    assert [(d.before, d.change, d.after) for d in s.draws] == [
        (Decimal("10000.00"), Decimal("-3000.00"), Decimal("7000.00"))]
    assert adjustment.sections[0].sentences[1] == "Written by alice; approved by bob."


def test_json_is_the_model_and_its_figures_are_the_ledgers(april):
    s = pay_statement(april, "rep-1", "2026-04")
    record = json.loads(json.dumps(pay_statement_record(s)))
    assert [(x["key"], x["amount"]) for x in record["lines"]] == [
        (e.key, f"{e.amount:.2f}") for e in ledger_april(april)]
    assert record["totals"] == {"USD": "250.00"}
    assert record["draws"][0]["balance_after"] == "7000.00"


def test_html_shows_every_entry_amount_and_the_total(april):
    s = pay_statement(april, "rep-1", "2026-04")
    page = render_pay_statement_html(s)
    rows = re.findall(r'<tr data-key="([^"]+)">.*?<td class="num">([^<]+)</td></tr>', page, re.S)
    assert rows == [(e.key, f"{e.amount:,.2f} USD") for e in ledger_april(april)]
    assert 'id="statement-total-USD">250.00 USD<' in page
    assert "Written by alice; approved by bob." in page


def test_pdf_carries_every_entry_amount(april):
    s = pay_statement(april, "rep-1", "2026-04")
    pdf = render_pay_statement_pdf(s)
    assert pdf.startswith(b"%PDF")
    text = b"".join(zlib.decompress(m) for m in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S)
                    if m[:1] == b"x").decode("latin-1")
    for e in ledger_april(april):
        assert f"{e.amount:,.2f} USD" in text
    assert "Total for 2026-04: 250.00 USD" in text


def test_statements_writes_three_files_per_payee(april, tmp_path: Path):
    written = write_statements(april, "2026-04", tmp_path / "out")
    assert written.count == 1 and written.totals == {"USD": Decimal("250.00")}
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "statement-2026-04-rep-1.html", "statement-2026-04-rep-1.json", "statement-2026-04-rep-1.pdf"]


def test_an_unknown_participant_is_not_found(april):
    with pytest.raises(NotFoundError, match="nobody"):
        pay_statement(april, "nobody", "2026-04")


def test_a_period_not_in_the_ledger_names_the_run_to_make(april):
    with pytest.raises(NotFoundError, match="attain run --period 2026-06"):
        pay_statement(april, "rep-1", "2026-06")
