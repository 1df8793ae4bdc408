"""A stateful test: random sequences of import, cancel, change, adjust, approve, run (out of order,
skipping months), publish, close and reopen (late imports fall between publish and close) against
a simple model of a 10% monthly commission, with invariants after every step; and the deadlock
invariant: from any reachable state, every open period is brought to closed by the documented
commands (reject what is pending, run when publish asks for it, publish, close), totals still tying."""

from __future__ import annotations

import os
import shutil
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from ledger_support import MONTHLY_PLAN, deal_row, import_rows, new_workspace

from attain.app.adjustments import add_adjustment, decide_adjustment
from attain.app.periods import close_period, publish_period, reopen_period
from attain.app.runs import run_period
from attain.app.statements import statement
from attain.core.errors import AttainError, InputError
from attain.core.money import ZERO
from attain.ledger.entries import EntryKind
from attain.storage import ledger as store

MONTHS = ("2026-01", "2026-02", "2026-03", "2026-04")
REPS = ("rep-1", "rep-2")


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        os.environ.pop("ATTAIN_DATABASE_URL", None)
        self.dir = Path(tempfile.mkdtemp())
        self.ws = new_workspace(self.dir / "ws", MONTHLY_PLAN.replace("CLAWBACK", "null"))
        import_rows(self.ws, "participants", [{"id": r, "name": r, "role": "ae"} for r in REPS])
        self.deals: dict[str, tuple[str, int, int, bool]] = {}  # id -> owner, amount, month, cancelled
        self.changed_since_run = True
        self.last_run: str | None = None
        self.first_run: int | None = None
        self.closed: dict[str, list] = {}  # period -> its entries when it was closed
        self.count = 0

    def teardown(self) -> None:
        try:
            self._bring_every_open_period_to_closed()
            self.entries_sum_to_statements_and_runs()
        finally:
            self.ws.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _import(self) -> None:
        rows = [deal_row(i, amount, f"{MONTHS[month]}-{10 + month:02d}", owner=owner,
                         cancelled=f"{MONTHS[month]}-25" if cancelled else "")
                for i, (owner, amount, month, cancelled) in sorted(self.deals.items())]
        import_rows(self.ws, "deals", rows)
        self.changed_since_run = True

    def _state(self):
        with self.ws.engine.connect() as conn:
            return (store.load_entries(conn), {p.label: p.state.value for p in store.list_periods(conn)},
                    len(store.audit_rows(conn)), store.list_adjustments(conn))

    def _refused_or_done(self, action) -> bool:
        before = self._state()
        try:
            action()
        except AttainError:
            assert self._state() == before, "a refused operation changed something"
            return False
        return True

    @rule(owner=st.sampled_from(REPS), amount=st.integers(1, 90_000), month=st.integers(0, 3))
    def import_deal(self, owner: str, amount: int, month: int) -> None:
        self.count += 1
        self.deals[f"d{self.count}"] = (owner, amount, month, False)
        self._import()

    @rule(data=st.data())
    def cancel_deal(self, data: st.DataObject) -> None:
        live = sorted(i for i, d in self.deals.items() if not d[3])
        if live:
            deal_id = data.draw(st.sampled_from(live))
            owner, amount, month, _ = self.deals[deal_id]
            self.deals[deal_id] = (owner, amount, month, True)
            self._import()

    @rule(data=st.data(), amount=st.integers(1, 90_000))
    def change_deal(self, data: st.DataObject, amount: int) -> None:
        if self.deals:
            deal_id = data.draw(st.sampled_from(sorted(self.deals)))
            owner, _, month, cancelled = self.deals[deal_id]
            self.deals[deal_id] = (owner, amount, month, cancelled)
            self._import()

    @rule(period=st.sampled_from(MONTHS), owner=st.sampled_from(REPS), cents=st.integers(-50_000, 50_000))
    def adjust(self, period: str, owner: str, cents: int) -> None:
        self._refused_or_done(lambda: add_adjustment(
            self.ws, participant_id=owner, period=period, amount=str(Decimal(cents) / 100), reason="dispute",
            user="alice"))

    @rule(approver=st.sampled_from(["alice", "bob"]), approve=st.booleans())
    def decide(self, approver: str, approve: bool) -> None:
        with self.ws.engine.connect() as conn:
            pending = [a for a in store.list_adjustments(conn) if a.status == "pending"]
        if pending:
            done = self._refused_or_done(
                lambda: decide_adjustment(self.ws, pending[0].id, approve=approve, user=approver))
            assert not (done and approver == "alice"), "the author decided their own adjustment"

    @rule(period=st.sampled_from(MONTHS))
    def run(self, period: str) -> None:
        result = []
        if not self._refused_or_done(lambda: result.append(run_period(self.ws, period, user="alice"))):
            return
        report = result[0]
        if not self.changed_since_run and self.last_run == period:
            assert report.entries == (), "a rerun with no new input posted something"
        self.changed_since_run, self.last_run = False, period
        if self.first_run is None:
            self.first_run = MONTHS.index(period)
        with self.ws.engine.connect() as conn:
            entries = store.load_entries(conn)
        # The ledger covers pay periods from its first run on.
        for index, month in list(enumerate(MONTHS))[self.first_run:MONTHS.index(period) + 1]:
            earned = sum((e.amount for e in entries if e.kind.earned and e.origin == month), ZERO)
            expected = sum((Decimal(a) for (_o, a, m, c) in self.deals.values() if m == index and not c), ZERO)
            assert earned == expected / 10, f"{month}: earned {earned}, model {expected / 10}"

    @rule(period=st.sampled_from(MONTHS))
    def publish(self, period: str) -> None:
        self._refused_or_done(lambda: publish_period(self.ws, period, user="alice"))

    @rule(period=st.sampled_from(MONTHS))
    def close(self, period: str) -> None:
        with self.ws.engine.connect() as conn:
            pending = [a for a in store.list_adjustments(conn, period) if a.status == "pending"]
        if self._refused_or_done(lambda: close_period(self.ws, period, user="carol")):
            assert not pending, "a period closed with adjustments awaiting approval"
            with self.ws.engine.connect() as conn:
                self.closed[period] = store.load_entries(conn, period=period)

    @rule(period=st.sampled_from(MONTHS))
    def reopen(self, period: str) -> None:
        if self._refused_or_done(lambda: reopen_period(self.ws, period, reason="dispute", user="bob")):
            self.closed.pop(period, None)

    def _bring_every_open_period_to_closed(self) -> None:
        """The documented way out of any state, in period order; every step must succeed."""
        with self.ws.engine.connect() as conn:
            open_periods = [p.label for p in store.list_periods(conn) if p.state.value == "open"]
        for period in open_periods:
            with self.ws.engine.connect() as conn:
                pending = [a.id for a in store.list_adjustments(conn, period) if a.status == "pending"]
            for adjustment_id in pending:
                decide_adjustment(self.ws, adjustment_id, approve=False, user="bob")
            try:
                publish_period(self.ws, period, user="alice")
            except InputError as refused:
                codes = {p.code for p in refused.problems}
                assert codes <= {"never_run", "inputs_changed"}, refused.problems
                assert f"attain run --period {period}" in " ".join(p.message for p in refused.problems)
                run_period(self.ws, period, user="alice")
                if self.first_run is None:
                    self.first_run = MONTHS.index(period)
                publish_period(self.ws, period, user="alice")
            close_period(self.ws, period, user="carol")
            with self.ws.engine.connect() as conn:
                self.closed[period] = store.load_entries(conn, period=period)
        self.changed_since_run = True
        with self.ws.engine.connect() as conn:
            assert all(p.state.value == "closed" for p in store.list_periods(conn))

    @rule()
    def bring_every_open_period_to_closed(self) -> None:
        self._bring_every_open_period_to_closed()

    @invariant()
    def entries_sum_to_statements_and_runs(self) -> None:
        with self.ws.engine.connect() as conn:
            entries = store.load_entries(conn)
            runs = store.list_runs(conn)
            for run in runs:
                posted = store.run_entries(conn, run.id)
                assert len(posted) == run.entries_posted
                for currency, amount in run.totals.items():
                    assert sum((e.amount for e in posted if e.currency == currency), ZERO) == amount
            periods = {p.label: p.state for p in store.list_periods(conn)}
            adjustments = store.list_adjustments(conn)
        for period in periods:
            for rep in REPS:
                mine = [e for e in entries if e.period == period and e.participant_id == rep]
                stmt = statement(self.ws, rep, period)
                assert stmt.total == sum((e.amount for e in mine if e.kind is not EntryKind.PAYMENT), ZERO)
        approved = sum((a.amount for a in adjustments if a.status == "approved"), ZERO)
        assert approved == sum((e.amount for e in entries if e.kind is EntryKind.ADJUSTMENT), ZERO)

    @invariant()
    def closed_periods_never_change(self) -> None:
        with self.ws.engine.connect() as conn:
            for period, entries in self.closed.items():
                assert store.load_entries(conn, period=period) == entries


TestLedgerMachine = LedgerMachine.TestCase
TestLedgerMachine.settings = settings(max_examples=20, stateful_step_count=20, deadline=None,
                                      suppress_health_check=[HealthCheck.too_slow])
pytestmark = pytest.mark.slow
