"""Run use cases: calculate a pay period and post the difference in one transaction; reproduce a
past run from its recorded inputs and confirm it is byte-identical.

A run calculates every plan with one executor (the reference engine, or the vectorized one on
DuckDB, PostgreSQL or Spark), records which, and is reproduced with that same executor. A named
executor never falls back: a plan it cannot compute exactly is refused before anything is written.
"""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache

from sqlalchemy import Connection

from attain import __version__
from attain.app.audit import record_change
from attain.app.executors import EXECUTORS, calculate_with, choose_executor
from attain.app.plan_versions import refuse_drift, refuse_error_problems, refuse_failing_check
from attain.app.workspace import Workspace, utc_now
from attain.core.dataset import DataSet
from attain.core.errors import ConflictError, InputError, NotFoundError, UnsupportedError
from attain.core.money import ZERO
from attain.core.periods import FiscalCalendar, Period
from attain.core.plan import Assignment, Plan
from attain.engine.results import CalcResult
from attain.ledger.cycle import require_open
from attain.ledger.entries import Entry, canonical_json, entries_digest, entry_record
from attain.ledger.inputs import fingerprint
from attain.ledger.period_order import LedgerPeriod, refuse_if_behind, runs_first
from attain.ledger.recalculate import Calculate, recalculate
from attain.ledger.run_checks import Check, check_run
from attain.settings import Settings
from attain.storage import ledger as store
from attain.storage.plans import plan_versions_known, plans_in_force
from attain.storage.snapshot import read_dataset
from attain.storage.versions import known_import

# Called with (phase, done) while a run writes, so a caller can show progress (or a test can pause).
Progress = Callable[[str, int], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class RunReport:
    """What a run did: its id, the entries it posted, their totals and the problems met."""

    run_id: int
    period: str
    executor: str
    entries: tuple[Entry, ...]
    totals: dict[str, Decimal]
    problems: tuple[str, ...]
    fingerprint: str
    digest: str
    # The invariant checks the run made and recorded (ledger/run_checks.py).
    checks: tuple[Check, ...] = ()
    # Earlier periods this command ran first, in order (ledger/period_order.py).
    earlier: tuple[RunReport, ...] = ()

    @property
    def failed_checks(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.passed)


@lru_cache(maxsize=256)
def parsed_plan(source_text: str, plan_id: str) -> Plan:
    """A recorded plan text, parsed once per process: a version's text never changes, and parsing
    (validation with line numbers) costs more than recomputing one payee."""
    from attain.formats.plan_file import parse_plan

    return parse_plan(source_text, plan_id).plan


def load_plans(conn: Connection, ws: Workspace, upto: int, on: date) -> list[Plan]:
    """Every plan version the store knows (assignments as in force on `on`), or else, while no
    version is recorded, the plan files of plans/ (a preview: a run refuses them until they are
    recorded, app/plan_versions.py, and `calc` says so)."""
    from attain.formats.plan_file import load_plan

    versions = plan_versions_known(conn, upto)
    if not versions:
        files = sorted(ws.settings.plans_dir.glob("*.y*ml")) if ws.settings.plans_dir.is_dir() else []
        return [load_plan(path).plan for path in files]
    assignments = {p.version.plan_id: p.assignment for p in plans_in_force(conn, upto, on)}
    plans = []
    for version in versions:
        plan = parsed_plan(version.source_text, version.plan_id)
        if version.plan_id in assignments:
            plan = dataclasses.replace(plan, assignment=assignments[version.plan_id])
        plans.append(plan)
    return plans


def plans_record(plans: Sequence[Plan]) -> list[list[str]]:
    """Each plan as run: id, version, content hash, source text and the assignment in force."""
    return sorted([p.id, p.version, p.content_hash, p.source,
                   json.dumps([list(p.assignment.roles), list(p.assignment.teams), list(p.assignment.participants)])]
                  for p in plans)


def plans_from_record(record: Sequence[Sequence[str]]) -> list[Plan]:
    plans = []
    for plan_id, _version, _hash, source, assignment in record:
        roles, teams, participants = json.loads(assignment)
        plans.append(dataclasses.replace(parsed_plan(source, plan_id), assignment=Assignment(
            roles=tuple(roles), teams=tuple(teams), participants=tuple(participants))))
    return plans


def ledger_start(conn: Connection, posted: Sequence[Entry], ws: Workspace) -> date | None:
    """The first day of the earliest pay period that was run or has entries: what a run
    recalculates from (a period run with nothing to post still belongs to the ledger)."""
    labels = {e.period for e in posted} | {r.period for r in store.list_runs(conn)}
    return min(ws.period(label).start for label in labels) if labels else None


def totals_of(entries: Sequence[Entry]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for entry in entries:
        totals[entry.currency] += entry.amount
    return dict(sorted(totals.items()))


def ensure_period(conn: Connection, ws: Workspace, period: Period, at: datetime, user: str) -> store.PeriodRow:
    """The period's row, created open (and recorded in the audit chain) on first use."""
    row = store.get_period(conn, period.label, lock=True)
    if row is None:
        row = store.add_period(conn, period, at, user)
        record_change(conn, at=at, actor=user, action="period.open", subject=f"period {period.label}",
                      before=None, after={"state": row.state.value})
    return row


def run_executor(requested: str, plans: Sequence[Plan], data: DataSet) -> str:
    """The one executor a run calculates every plan with.

    `auto` chooses DuckDB when the calculation's own choice (app/executors.py) is DuckDB for every
    plan (a large population, no plan the vectorized executor refuses), else the reference engine.
    A named vectorized executor is refused (UnsupportedError) for a plan it cannot compute exactly.
    """
    if requested not in EXECUTORS:
        raise UnsupportedError(f"unknown executor {requested!r} (known: {', '.join(EXECUTORS)})")
    if requested == "auto":
        chosen = {choose_executor("auto", plan, data, None) for plan in plans}
        return "duckdb" if chosen == {"duckdb"} else "reference"
    if requested == "reference":
        return requested
    try:
        from attain.engine.vectorized.refusals import refuse_unsupported
    except ImportError as exc:
        raise UnsupportedError(f"the {requested} executor needs the vector extra: "
                               "pip install 'attain[vector]'") from exc
    for plan in sorted(plans, key=lambda p: (p.id, p.version)):
        try:
            refuse_unsupported(plan)
        except UnsupportedError as exc:
            raise UnsupportedError(f"the {requested} executor cannot run plan {plan.id} (version {plan.version}): "
                                   f"{exc}; nothing was run or posted") from None
    return requested


def calculation(executor: str, settings: Settings) -> Calculate:
    """The ledger's calculation step on a chosen (never `auto`) executor, where the workspace's
    settings say it computes."""
    def calculate(plan: Plan, data: DataSet, period: Period, calendar: FiscalCalendar) -> CalcResult:
        return calculate_with(executor, plan, data, period, calendar, settings=settings)

    return calculate


def ledger_periods(conn: Connection, ws: Workspace) -> list[LedgerPeriod]:
    """The ledger's pay periods with their state, whether they were run and hold run entries."""
    posted, ran = store.periods_with_run_entries(conn), store.periods_run(conn)
    return [LedgerPeriod(period=ws.period(r.label), state=r.state, was_run=r.label in ran,
                         has_run_entries=r.label in posted) for r in store.list_periods(conn)]


def run_period(ws: Workspace, label: str, *, user: str, executor: str | None = None,
               clock: Callable[[], datetime] = utc_now, progress: Progress | None = None) -> RunReport:
    """Calculate pay period `label` and post the difference, all in one transaction.

    The ledger's write lock is taken first, so concurrent runs (approvals, publishes, closes) of
    one workspace happen one after the other; a second run of a period finds nothing to post.
    Earlier periods come first (ledger/period_order.py): the latest period run before `label`,
    if still open with changed inputs, and every skipped period between, each as its own run in
    the same transaction (`RunReport.earlier`). `executor` defaults to the workspace's setting.
    Everything that can refuse the run (the period's state, a later period with run entries, no
    plans, an executor that cannot compute a plan) does so before anything is written; a refused
    run leaves the store exactly as it was.
    """
    requested = executor or ws.settings.executor
    if requested not in EXECUTORS:
        raise UnsupportedError(f"unknown executor {requested!r} (known: {', '.join(EXECUTORS)})")
    try:
        period = ws.period(label)
    except ValueError as exc:
        raise InputError(f"--period: {exc}") from None
    calendar = ws.settings.calendar
    with ws.engine.begin() as conn:
        store.lock_ledger(conn)
        row = store.get_period(conn, period.label, lock=True)
        if row is not None:
            require_open(period.label, row.state)
        periods = ledger_periods(conn, ws)
        refuse_if_behind(period, periods, calendar)
        upto = known_import(conn, None)
        refuse_drift(conn, ws, upto)
        data = read_dataset(conn, upto, None, calendar)
        plans = load_plans(conn, ws, upto, period.last_day)
        if not plans:
            raise NotFoundError("no plans: record plan files with `attain import plans plans/`")
        refuse_failing_check(plans)
        run_executor(requested, plans, data)

        def changed_since_run(earlier: Period) -> bool:
            last = store.list_runs(conn, earlier.label)[-1]
            return fingerprint(data, load_plans(conn, ws, upto, earlier.last_day), earlier.label,
                               calendar) != last.input_fingerprint

        first = runs_first(period, periods, calendar, changed_since_run)
        earlier = tuple(_post_run(conn, ws, p, data=data, upto=upto, requested=requested, user=user, clock=clock,
                                  progress=progress) for p in first)
        report = _post_run(conn, ws, period, data=data, upto=upto, requested=requested, user=user, clock=clock,
                           progress=progress)
    return dataclasses.replace(report, earlier=earlier)


def _post_run(conn: Connection, ws: Workspace, period: Period, *, data: DataSet, upto: int, requested: str,
              user: str, clock: Callable[[], datetime], progress: Progress | None) -> RunReport:
    """One run of one pay period inside the caller's locked transaction: calculate, post, check."""
    calendar = ws.settings.calendar
    started = clock()
    plans = load_plans(conn, ws, upto, period.last_day)
    chosen = run_executor(requested, plans, data)
    posted = store.load_entries(conn)
    head = store.head_seq(conn)
    start = ledger_start(conn, posted, ws)
    results: list[CalcResult] = []
    calculate = calculation(chosen, ws.settings)

    def calculate_and_keep(plan: Plan, data_: DataSet, measure: Period, calendar_: FiscalCalendar) -> CalcResult:
        result = calculate(plan, data_, measure, calendar_)
        results.append(result)
        return result

    outcome = recalculate(pay_period=period, plans=plans, data=data, posted=posted,
                          calendar=calendar, ledger_start=start, calculate=calculate_and_keep)
    refuse_error_problems(outcome.problems, period.label)
    totals = totals_of(outcome.entries)
    problems = tuple(str(p) for p in outcome.problems)
    digest = entries_digest(outcome.entries)
    print_ = fingerprint(data, plans, period.label, calendar)
    # Nothing is written before this point.
    ensure_period(conn, ws, period, started, user)
    _record_plan_changes(conn, plans, started, user)
    run_id = store.insert_run(
        conn, period=period.label, started_at=started, recorded_at=clock(), user_name=user,
        executor=chosen, engine_version=__version__, plans=plans_record(plans),
        input_fingerprint=print_, upto_import=upto, ledger_head=head, ledger_start=start,
        entries_posted=len(outcome.entries), totals=totals, problems=problems, result_digest=digest,
    )
    done = 0
    for chunk_start in range(0, len(outcome.entries), 200):
        chunk = outcome.entries[chunk_start:chunk_start + 200]
        if store.append_entries(conn, chunk, run_id, started) != len(chunk):
            # Never a run claiming entries another run posted: the lock makes this unreachable.
            raise ConflictError(f"entries of this run of {period.label} were posted meanwhile by another run; "
                                "nothing was posted: run the period again")
        done += len(chunk)
        if progress:
            progress("posting", done)
    checks = check_run(results, outcome.entries, store.run_entries(conn, run_id), totals)
    store.set_run_checks(conn, run_id, [c.as_record() for c in checks])
    record_change(conn, at=started, actor=user, action="run", subject=f"period {period.label}",
                  before=None, after={"run": run_id, "fingerprint": print_, "entries": len(outcome.entries),
                                      "digest": digest, "checks_failed": [c.name for c in checks if not c.passed]})
    return RunReport(run_id=run_id, period=period.label, executor=chosen, entries=outcome.entries, totals=totals,
                     problems=problems, fingerprint=print_, digest=digest, checks=checks)


def _record_plan_changes(conn: Connection, plans: Sequence[Plan], at: datetime, user: str) -> None:
    """Plan versions first seen by a run go into the audit chain (before: the version last run)."""
    runs = store.list_runs(conn)
    last = {p[0]: p for p in runs[-1].plans} if runs else {}
    for plan in sorted(plans, key=lambda p: (p.id, p.content_hash)):
        seen = last.get(plan.id)
        if seen is not None and seen[2] == plan.content_hash:
            continue
        record_change(conn, at=at, actor=user, action="plan.version", subject=f"plan {plan.id}",
                      before=None if seen is None else {"version": seen[1], "hash": seen[2]},
                      after={"version": plan.version, "hash": plan.content_hash})


@dataclass(frozen=True, slots=True, kw_only=True)
class Reproduction:
    """A past run recomputed from its recorded inputs, compared byte for byte with what it posted."""

    run_id: int
    period: str
    executor: str
    fingerprint_matches: bool
    recorded_digest: str
    recomputed_digest: str
    entries: int
    differences: tuple[str, ...]

    @property
    def identical(self) -> bool:
        return self.fingerprint_matches and self.recorded_digest == self.recomputed_digest and not self.differences


def reproduce_run(ws: Workspace, run_id: int) -> Reproduction:
    """Recompute run `run_id` from the data as known at its import, its recorded plan texts and the
    ledger as it stood before it, with the executor it ran on; compare with the entries it posted."""
    calendar = ws.settings.calendar
    with ws.engine.connect() as conn:
        run = store.get_run(conn, run_id)
        if run is None:
            raise NotFoundError(f"no run {run_id}")
        data: DataSet = read_dataset(conn, run.upto_import, None, calendar)
        plans = plans_from_record(run.plans)
        posted = store.load_entries(conn, upto_seq=run.ledger_head)
        recorded = store.run_entries(conn, run_id)
    period = ws.period(run.period)
    outcome = recalculate(pay_period=period, plans=plans, data=data, posted=posted, calendar=calendar,
                          ledger_start=run.ledger_start, calculate=calculation(run.executor, ws.settings))
    differences = []
    old = [canonical_json(entry_record(e)) for e in recorded]
    new = [canonical_json(entry_record(e)) for e in outcome.entries]
    for index in range(max(len(old), len(new))):
        a = old[index] if index < len(old) else b"(none)"
        b = new[index] if index < len(new) else b"(none)"
        if a != b:
            differences.append(f"entry {index + 1}: recorded {a.decode()} / recomputed {b.decode()}")
    return Reproduction(
        run_id=run_id, period=run.period, executor=run.executor,
        fingerprint_matches=fingerprint(data, plans, run.period, calendar) == run.input_fingerprint,
        recorded_digest=run.result_digest, recomputed_digest=entries_digest(outcome.entries),
        entries=len(recorded), differences=tuple(differences),
    )


def run_json(report: RunReport) -> str:
    """A run's entries as canonical JSON (what byte-identity is checked on)."""
    return json.dumps([entry_record(e) for e in report.entries], sort_keys=True, separators=(",", ":"))
