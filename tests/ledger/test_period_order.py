"""The period order: earlier periods run first, a period behind the frontier is refused with the
command to run, a late import never wedges an open period, adjustments are checked against the
workspace, self-approval compares normalised identities, and runs record their checks."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from ledger_support import MONTHLY_PLAN, deal_row, import_rows, new_workspace

from attain.app.adjustments import add_adjustment, decide_adjustment
from attain.app.periods import close_period, publish_period
from attain.app.runs import run_period
from attain.core.errors import ConflictError, InputError, NotFoundError
from attain.ledger.identities import same_person
from attain.ledger.run_checks import CHECK_NAMES
from attain.storage import ledger as store


def _clock() -> datetime:
    return datetime(2026, 2, 15, 12, 0)


@pytest.fixture
def ws(tmp_path: Path, ledger_url: str):
    workspace = new_workspace(tmp_path / "ws", MONTHLY_PLAN.replace("CLAWBACK", "null"))
    import_rows(workspace, "participants", [{"id": "rep-1", "name": "A", "role": "ae"}])
    import_rows(workspace, "deals", [deal_row("d1", 10_000, "2026-01-10"), deal_row("d2", 20_000, "2026-02-10"),
                                     deal_row("d3", 30_000, "2026-03-10")])
    yield workspace
    workspace.close()


def _snapshot(ws):
    with ws.engine.connect() as conn:
        return (store.load_entries(conn), store.list_periods(conn), len(store.audit_rows(conn)),
                store.list_adjustments(conn), store.list_runs(conn))


def test_a_skipped_month_is_run_first_in_its_own_period(ws):
    run_period(ws, "2026-01", user="alice")
    report = run_period(ws, "2026-03", user="alice")
    assert [r.period for r in report.earlier] == ["2026-02"]
    assert [(e.period, e.amount) for e in report.earlier[0].entries] == [("2026-02", Decimal("2000.00"))]
    assert [(e.period, e.amount) for e in report.entries] == [("2026-03", Decimal("3000.00"))]
    assert [c.name for c in report.checks] == list(CHECK_NAMES) and not report.failed_checks


def test_an_open_earlier_period_with_new_data_is_run_first(ws):
    run_period(ws, "2026-01", user="alice")
    import_rows(ws, "deals", [deal_row("late", 500, "2026-01-20")], name="late")
    report = run_period(ws, "2026-02", user="alice")
    assert [(r.period, [e.amount for e in r.entries]) for r in report.earlier] == [("2026-01", [Decimal("50.00")])]


def test_a_period_behind_the_frontier_is_refused_with_the_command_and_still_publishes_after_a_late_import(ws):
    run_period(ws, "2026-01", user="alice")
    run_period(ws, "2026-02", user="alice")
    import_rows(ws, "deals", [deal_row("late", 500, "2026-01-20")], name="late")
    before = _snapshot(ws)
    with pytest.raises(ConflictError, match=r"`attain run --period 2026-02`"):
        run_period(ws, "2026-01", user="alice")
    assert _snapshot(ws) == before
    publish_period(ws, "2026-01", user="alice")
    close_period(ws, "2026-01", user="alice")
    report = run_period(ws, "2026-02", user="alice")
    assert [(e.kind.value, e.origin, e.amount) for e in report.entries] == [("true_up", "2026-01", Decimal("50.00"))]
    publish_period(ws, "2026-02", user="alice")
    close_period(ws, "2026-02", user="alice")


def test_adjustments_are_checked_against_the_workspace(ws):
    run_period(ws, "2026-01", user="alice")
    before = _snapshot(ws)
    cases = [
        ({"period": "2099-Q2"}, InputError, "too far ahead"),
        ({"period": "2026-13"}, InputError, "--period"),
        ({"participant_id": "nobody"}, NotFoundError, "not a participant"),
        ({"plan_id": "typo"}, NotFoundError, "not a plan"),
        ({"currency": "EUR"}, InputError, "not a currency of this workspace"),
        ({"plan_id": "monthly", "currency": "GBP"}, InputError, "pays in USD"),
    ]
    for change, error, message in cases:
        args = {"participant_id": "rep-1", "period": "2026-01", "amount": "10", "reason": "x", "user": "alice",
                "clock": _clock, **change}
        with pytest.raises(error, match=message):
            add_adjustment(ws, **args)
        assert _snapshot(ws) == before, change
    add_adjustment(ws, participant_id="rep-1", period="2026-03", amount="10", reason="next", user="alice",
                   clock=_clock)


def test_an_approved_adjustment_ahead_does_not_block_the_current_periods(ws):
    run_period(ws, "2026-01", user="alice")
    adjustment = add_adjustment(ws, participant_id="rep-1", period="2026-03", amount="10", reason="x", user="alice",
                                clock=_clock)
    decide_adjustment(ws, adjustment.id, approve=True, user="bob")
    report = run_period(ws, "2026-02", user="alice")
    assert [e.amount for e in report.entries] == [Decimal("2000.00")]


@pytest.mark.parametrize("author, approver", [("Alice", "alice"), ("bob ", "bob"), ("\uff43arol", "carol"),
                                              ("Dana  Lee", "dana lee")])
def test_self_approval_compares_normalised_identities(ws, author, approver):
    assert same_person(author, approver)
    adjustment = add_adjustment(ws, participant_id="rep-1", period="2026-01", amount="10", reason="x",
                                user=author, clock=_clock)
    before = _snapshot(ws)
    with pytest.raises(ConflictError, match="approver must be someone other than the author"):
        decide_adjustment(ws, adjustment.id, approve=True, user=approver)
    assert _snapshot(ws) == before


def test_publish_refuses_a_failed_check_by_name(ws):
    report = run_period(ws, "2026-01", user="alice")
    with ws.engine.begin() as conn:
        store.set_run_checks(conn, report.run_id, [("caps_hold", False, "rep-1 capped at 10 but 20")])
    before = _snapshot(ws)
    with pytest.raises(InputError, match=r"check_failed:caps_hold") as refused:
        publish_period(ws, "2026-01", user="alice")
    assert any("caps_hold" in p.message for p in refused.value.problems)
    assert _snapshot(ws) == before
