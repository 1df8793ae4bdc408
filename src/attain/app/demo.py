"""The demo use case: write the demo company, calculate its quarter, and summarise who earned what."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from attain.app.calculation import calculate_folder
from attain.core.money import ZERO
from attain.demo.generate import DemoFiles, generate
from attain.engine.results import CalcResult, PayeeResult
from attain.formats.plan_file import LoadedPlan

DEMO_PERIOD = "2026-Q1"
JUST_SHORT = Decimal("0.95")


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanSummary:
    """One plan's quarter at a glance."""

    plan_id: str
    plan_name: str
    file: Path
    payees: int
    reached: tuple[tuple[str, str, Decimal], ...]
    just_short: tuple[tuple[str, str, Decimal], ...]
    cost: Decimal
    currency: str
    top: tuple[tuple[str, str, Decimal], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoOutcome:
    files: DemoFiles
    period: str
    plans: tuple[PlanSummary, ...]
    statements: tuple[Path, ...]
    plan_docs: tuple[Path, ...]
    example_participant: str
    store_url: str = ""
    run_note: str = ""

    @property
    def total_cost(self) -> Decimal:
        return sum((p.cost for p in self.plans), ZERO)


def headline_attainment(payee: PayeeResult) -> Decimal | None:
    """The attainment of the payee's first attainment-based line of the longest period."""
    readings = [line for line in payee.lines if line.metric.attainment is not None]
    if not readings:
        return None
    return max(readings, key=lambda line: len(line.period)).metric.attainment if len(
        {line.period for line in readings}) == 1 else readings[0].metric.attainment


def summarise(loaded: LoadedPlan, result: CalcResult) -> PlanSummary:
    reached, short = [], []
    for payee in result.payees:
        attainment = headline_attainment(payee)
        if attainment is None:
            continue
        entry = (payee.participant_id, payee.name, attainment)
        if attainment >= 1:
            reached.append(entry)
        elif attainment >= JUST_SHORT:
            short.append(entry)
    top = sorted(((p.participant_id, p.name, p.total) for p in result.payees), key=lambda t: (-t[2], t[0]))[:3]
    return PlanSummary(
        plan_id=loaded.plan.id, plan_name=loaded.plan.name, file=Path(loaded.path), payees=len(result.payees),
        reached=tuple(reached), just_short=tuple(short), cost=sum((p.total for p in result.payees), ZERO),
        currency=loaded.plan.currency, top=tuple(top),
    )


def run_demo(root: Path, seed: int = 2026, fresh: bool = True) -> DemoOutcome:
    """Generate the demo workspace at `root`, calculate Q1 2026, write statements and plan docs."""
    if fresh and root.exists() and (root / "data").is_dir() and (root / "plans").is_dir():
        shutil.rmtree(root / "data")
        shutil.rmtree(root / "plans")
    files = generate(root, seed)
    plans, results = calculate_folder(list(files.plans), files.data, DEMO_PERIOD)
    statements = _write_statements(root, plans, results)
    docs = _write_plan_docs(root, plans)
    summaries = tuple(summarise(p, r) for p, r in zip(plans, results, strict=True))
    example = next((s.just_short[0][0] for s in summaries if s.just_short), "ae-03")
    store_url, run_note = _load_store(root, files)
    return DemoOutcome(files=files, period=DEMO_PERIOD, plans=summaries, statements=statements, plan_docs=docs,
                       example_participant=example, store_url=store_url, run_note=run_note)


def _load_store(root: Path, files: DemoFiles) -> tuple[str, str]:
    """Make the demo folder a workspace (SQLite file, or ATTAIN_DATABASE_URL), import its data and
    post the quarter to the ledger; importing and running again changes nothing."""
    from attain.app.imports import import_file
    from attain.app.runs import run_period
    from attain.app.workspace import init_workspace, open_workspace

    ws = open_workspace(root) if (root / "attain.toml").exists() else init_workspace(root, name="attain-demo")
    try:
        for kind in ("participants", "quotas", "deals", "splits", "metrics", "rates"):
            import_file(ws, kind, files.data / f"{kind}.csv", source="demo")
        import_file(ws, "plans", root / "plans")
        report = run_period(ws, DEMO_PERIOD, user="demo")
        url = ws.settings.database_url
    finally:
        ws.close()
    if report.entries:
        note = f"run {report.run_id} posted {len(report.entries)} ledger entries"
    else:
        note = f"run {report.run_id} posted nothing new: the inputs were already posted"
    return _redact(url), note


def _redact(url: str) -> str:
    """A database URL without its password, for printing."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        credentials, host = rest.rsplit("@", 1)
        user = credentials.split(":", 1)[0]
        return f"{scheme}://{user}@{host}"
    return url


def _write_statements(root: Path, plans: list[LoadedPlan], results: list[CalcResult]) -> tuple[Path, ...]:
    try:
        from attain.reports.statement_html import render_statement_html
    except ImportError:
        return ()
    folder = root / "statements"
    folder.mkdir(exist_ok=True)
    written = []
    for loaded, result in zip(plans, results, strict=True):
        for payee in result.payees:
            target = folder / f"{payee.participant_id}-{result.period}.html"
            target.write_text(render_statement_html(payee, loaded.plan), encoding="utf-8")
            written.append(target)
    return tuple(written)


def _write_plan_docs(root: Path, plans: list[LoadedPlan]) -> tuple[Path, ...]:
    try:
        from attain.reports.plan_doc import render_plan_doc_html
    except ImportError:
        return ()
    folder = root / "plan-docs"
    folder.mkdir(exist_ok=True)
    written = []
    for loaded in plans:
        target = folder / f"{Path(loaded.path).stem}.html"
        target.write_text(render_plan_doc_html(loaded), encoding="utf-8")
        written.append(target)
    return tuple(written)
