"""The ledger in a store (SQLite and PostgreSQL): the cycle, refusals, payroll, reconcile, audit."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from ledger_support import MONTHLY_PLAN, deal_row, import_rows, new_workspace
from sqlalchemy import update

from attain.app.adjustments import add_adjustment, decide_adjustment, list_adjustments
from attain.app.audit import verify_chain
from attain.app.payroll import accruals_report, export_payroll, payroll_csv
from attain.app.periods import close_period, list_periods, publish_period, reopen_period
from attain.app.reconcile import reconcile
from attain.app.runs import reproduce_run, run_period
from attain.app.statements import statement
from attain.core.errors import ConflictError, InputError, NotFoundError
from attain.ledger.cycle import PeriodState
from attain.storage import ledger as store
from attain.storage.ledger_tables import audit_log, ledger_entries

PEOPLE = [{"id": "rep-1", "name": "=HYPERLINK(\"http://x\")", "role": "ae"},
          {"id": "rep-2", "name": "Bo", "role": "ae"}]


@pytest.fixture
def ws(tmp_path: Path, ledger_url: str):
    workspace = new_workspace(tmp_path / "ws", MONTHLY_PLAN.replace("CLAWBACK", "90"))
    import_rows(workspace, "participants", PEOPLE)
    import_rows(workspace, "deals", [deal_row("d1", 50_000, "2026-01-10"),
                                     deal_row("d2", 12_345, "2026-01-12", owner="rep-2")])
    yield workspace
    workspace.close()


def snapshot(ws):
    with ws.engine.connect() as conn:
        return (store.load_entries(conn), [(p.label, p.state) for p in store.list_periods(conn)],
                len(store.audit_rows(conn)), store.list_adjustments(conn))


def test_run_posts_once_and_the_statement_is_the_sum_of_its_entries(ws):
    first = run_period(ws, "2026-01", user="alice")
    assert first.totals == {"USD": Decimal("6234.50")}  # 10% of 50,000 + 10% of 12,345
    again = run_period(ws, "2026-01", user="alice")
    assert again.entries == () and again.run_id == first.run_id + 1
    stmt = statement(ws, "rep-2", "2026-01")
    assert stmt.total == Decimal("1234.50") and [e.kind.value for e in stmt.lines] == ["earning"]


def test_full_cycle_with_adjustment_payroll_reconcile_and_reproduce(ws, tmp_path):
    run_period(ws, "2026-01", user="alice")
    adjustment = add_adjustment(ws, participant_id="rep-2", period="2026-01", amount="250.00",
                                reason="missed split", user="alice")
    with pytest.raises(ConflictError, match="cannot approve"):
        decide_adjustment(ws, adjustment.id, approve=True, user="alice")
    decide_adjustment(ws, adjustment.id, approve=True, user="bob")
    publish_period(ws, "2026-01", user="alice")
    change = close_period(ws, "2026-01", user="carol")
    assert sorted((p.participant_id, p.pay_item, p.amount) for p in change.payments) == [
        ("rep-1", "earnings", Decimal("5000.00")), ("rep-2", "adjustment", Decimal("250.00")),
        ("rep-2", "earnings", Decimal("1234.50"))]
    path, rows = export_payroll(ws, "2026-01", tmp_path / "payroll.csv")
    text = path.read_text(encoding="utf-8")
    assert rows == 3
    assert text.splitlines()[1] == "2026-01,rep-1,\"'=HYPERLINK(\"\"http://x\"\")\",earnings,monthly,USD,5000.00"
    assert reconcile(ws, "2026-01", path) == ()
    (tmp_path / "paid.csv").write_text(
        "participant_id,currency,amount\nrep-1,USD,5000.00\nrep-2,USD,1400.00\nrep-3,USD,10\n", encoding="utf-8")
    differences = reconcile(ws, "2026-01", tmp_path / "paid.csv")
    assert [(d.participant_id, d.ledger, d.paid, d.difference) for d in differences] == [
        ("rep-2", Decimal("1484.50"), Decimal("1400.00"), Decimal("-84.50")),
        ("rep-3", Decimal("0"), Decimal("10"), Decimal("10"))]
    assert reproduce_run(ws, 1).identical
    accruals = accruals_report(ws)
    assert [(r.period, r.earned, r.paid, r.accrued) for r in accruals] == [
        ("2026-01", Decimal("6484.50"), Decimal("6484.50"), Decimal("0.00"))]
    assert verify_chain_ok(ws)


def verify_chain_ok(ws) -> bool:
    with ws.engine.connect() as conn:
        return verify_chain(conn).ok


def test_publishing_with_failed_invariants_is_refused_and_changes_nothing(ws):
    euro = deal_row("d9", 1_000, "2026-01-05") | {"currency": "EUR"}  # no EUR->USD rate is known
    import_rows(ws, "deals", [euro], name="euro")
    before = snapshot(ws)
    with pytest.raises(InputError, match="nothing was run or posted") as refused:  # an error is not payable
        run_period(ws, "2026-01", user="alice")
    assert {p.code for p in refused.value.problems} == {"fx_rate_missing"}
    assert snapshot(ws) == before
    with pytest.raises(NotFoundError, match="run it first"):
        publish_period(ws, "2026-01", user="alice")
    assert snapshot(ws) == before


def test_publishing_a_tampered_run_is_refused(ws):
    run_period(ws, "2026-01", user="alice")
    with ws.engine.begin() as conn:
        conn.execute(update(ledger_entries).where(ledger_entries.c.participant_id == "rep-1")
                     .values(amount=Decimal("9999.00")))
    with pytest.raises(InputError) as error:
        publish_period(ws, "2026-01", user="alice")
    assert [p.code for p in error.value.problems] == ["run_total_mismatch"]


def test_publishing_after_inputs_changed_asks_for_a_new_run(ws):
    run_period(ws, "2026-01", user="alice")
    import_rows(ws, "deals", [deal_row("d3", 1_000, "2026-01-15")], name="more")
    with pytest.raises(InputError) as error:
        publish_period(ws, "2026-01", user="alice")
    assert [p.code for p in error.value.problems] == ["inputs_changed"]


def test_closing_with_an_unapproved_adjustment_is_refused_and_changes_nothing(ws):
    run_period(ws, "2026-01", user="alice")
    add_adjustment(ws, participant_id="rep-1", period="2026-01", amount="-100", reason="overpaid", user="alice")
    publish_period(ws, "2026-01", user="alice")
    before = snapshot(ws)
    with pytest.raises(ConflictError, match="ADJ-00001 await approval"):
        close_period(ws, "2026-01", user="alice")
    assert snapshot(ws) == before


def test_approving_ones_own_adjustment_is_refused_and_changes_nothing(ws):
    adjustment = add_adjustment(ws, participant_id="rep-1", period="2026-01", amount="50", reason="x", user="alice")
    before = snapshot(ws)
    with pytest.raises(ConflictError, match="approver must be someone other than the author"):
        decide_adjustment(ws, adjustment.id, approve=True, user="alice")
    assert snapshot(ws) == before
    assert list_adjustments(ws)[0].status == "pending"


def test_closed_periods_take_no_runs_and_reopen_needs_a_reason(ws):
    run_period(ws, "2026-01", user="alice")
    publish_period(ws, "2026-01", user="alice")
    with pytest.raises(ConflictError, match="published"):
        run_period(ws, "2026-01", user="alice")
    close_period(ws, "2026-01", user="alice")
    with pytest.raises(ConflictError, match="closed"):
        run_period(ws, "2026-01", user="alice")
    with pytest.raises(ConflictError, match="needs a reason"):
        reopen_period(ws, "2026-01", reason=" ", user="alice")
    reopen_period(ws, "2026-01", reason="payroll bounced", user="bob")
    assert list_periods(ws)[0].state is PeriodState.OPEN
    with ws.engine.connect() as conn:
        reopen = [r for r in store.audit_rows(conn) if r.action == "period.reopen"]
    assert len(reopen) == 1 and '"reason":"payroll bounced"' in reopen[0].after and reopen[0].actor == "bob"


def test_late_deal_and_cancellation_after_close_go_to_the_next_period(ws):
    run_period(ws, "2026-01", user="alice")
    publish_period(ws, "2026-01", user="alice")
    close_period(ws, "2026-01", user="alice")
    closed = statement(ws, "rep-1", "2026-01")
    import_rows(ws, "deals", [deal_row("d1", 50_000, "2026-01-10", cancelled="2026-02-02"),
                              deal_row("late", 3_000, "2026-01-31")], name="changes")
    report = run_period(ws, "2026-02", user="alice")
    assert sorted((e.kind.value, e.origin, e.amount) for e in report.entries) == [
        ("clawback", "2026-01", Decimal("-5000.00")), ("true_up", "2026-01", Decimal("300.00"))]
    assert statement(ws, "rep-1", "2026-01") == closed
    assert reproduce_run(ws, report.run_id).identical


def test_audit_verify_finds_an_edited_link(ws):
    run_period(ws, "2026-01", user="alice")
    add_adjustment(ws, participant_id="rep-1", period="2026-01", amount="10", reason="x", user="alice")
    assert verify_chain_ok(ws)
    with ws.engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.action == "adjustment.add").values(actor="mallory"))
    with ws.engine.connect() as conn:
        report = verify_chain(conn)
    assert not report.ok and "edited" in report.reason


def test_reproduce_detects_a_changed_entry(ws):
    report = run_period(ws, "2026-01", user="alice")
    with ws.engine.begin() as conn:
        conn.execute(update(ledger_entries).where(ledger_entries.c.participant_id == "rep-2")
                     .values(explanation="rewritten"))
    result = reproduce_run(ws, report.run_id)
    assert not result.identical and result.differences


def test_payroll_cells_are_escaped_against_formula_injection():
    text = payroll_csv([{"period": "2026-01", "participant_id": "@rep", "name": "+cmd|' /C calc'!A0",
                         "pay_item": "-x", "plan_id": "p", "currency": "USD", "amount": "-12.50"}])
    assert text.splitlines()[1] == "2026-01,'@rep,'+cmd|' /C calc'!A0,'-x,p,USD,-12.50"
