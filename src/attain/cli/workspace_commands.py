"""`attain init`, `attain db upgrade`, `attain import` and `attain credits`: the workspace and its store."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn
from rich.table import Table

from attain.cli.consoles import stderr_console, stdout_console
from attain.cli.options import WorkspaceOption
from attain.core.money import ZERO, format_money

console = stdout_console()
err_console = stderr_console()

PROGRESS_MIN_ROWS = 20_000


class ImportKind(StrEnum):
    participants = "participants"
    quotas = "quotas"
    deals = "deals"
    splits = "splits"
    metrics = "metrics"
    rates = "rates"
    plans = "plans"


def init(
    directory: Annotated[Path, typer.Argument(help="Folder to create the workspace in.")],
    name: Annotated[str | None, typer.Option(help="Workspace name (default: folder name).")] = None,
    currency: Annotated[str, typer.Option(help="Currency payouts are made in.")] = "USD",
) -> None:
    """Create a workspace: attain.toml, plans/, data/ and its store (a SQLite file by default)."""
    from attain.app.workspace import init_workspace

    workspace = init_workspace(directory, name=name, currency=currency)
    url = workspace.engine.url.render_as_string(hide_password=True)
    workspace.close()
    console.print(f"Created workspace [bold]{escape(str(directory))}[/] (store: {escape(url)})", highlight=False)
    console.print("Next: put plans in plans/, then `attain import participants FILE` ...")


def db_upgrade(workspace: WorkspaceOption = None) -> None:
    """Migrate the workspace's store to this version of Attain's schema."""
    from attain.app.workspace import upgrade_workspace

    before, after = upgrade_workspace(workspace)
    if before == after:
        console.print(f"The store is up to date (revision {after}).")
    else:
        console.print(f"Upgraded the store from revision {before or 'none'} to {after}.")


class _Bar:
    """Adapts the import progress protocol to a Rich progress bar (only for large files)."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.task: TaskID | None = None

    def start(self, phase: str, total: int | None) -> None:
        if self.progress is None:
            return
        if self.task is not None:
            self.progress.remove_task(self.task)
        self.task = self.progress.add_task(phase, total=total)

    def advance(self, count: int) -> None:
        if self.progress is not None and self.task is not None:
            self.progress.advance(self.task, count)


def import_(
    kind: Annotated[ImportKind, typer.Argument(help="What the file holds.")],
    file: Annotated[Path, typer.Argument(help="CSV, Parquet, JSON or JSON-lines file (plans: YAML file or folder).")],
    skip_invalid: Annotated[bool, typer.Option(
        "--skip-invalid", help="Import the valid rows; write the rejected ones to FILE.rejected.csv.")] = False,
    source: Annotated[str, typer.Option(help="Source system the rows come from (part of each row's key).")] = "default",
    workspace: WorkspaceOption = None,
) -> None:
    """Import a file of one kind; all or nothing unless --skip-invalid; re-importing is a no-op."""
    from attain.app.imports import import_file
    from attain.app.workspace import open_workspace

    ws = open_workspace(workspace)
    try:
        big = file.is_file() and file.stat().st_size > PROGRESS_MIN_ROWS * 40
        show = big and err_console.is_terminal
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeRemainingColumn())
        with Progress(*columns, console=err_console, transient=True, disable=not show) as progress:
            report = import_file(ws, kind.value, file, source=source, skip_invalid=skip_invalid,
                                 progress=_Bar(progress if show else None))
    finally:
        ws.close()
    verb = "Imported" if report.written else "Nothing to write from"
    console.print(
        f"{verb} {report.file} ({report.kind}, source {report.source}): "
        f"{report.new} new, {report.changed} changed, {report.unchanged} unchanged, "
        f"{report.rejected} rejected", highlight=False,
    )
    for warning in report.warnings:
        err_console.print(f"[yellow]Warning: {escape(str(warning))}[/]", highlight=False, soft_wrap=True)
    if report.reject_file is not None:
        err_console.print(f"[yellow]{report.rejected} rejected row(s) written to {escape(str(report.reject_file))}[/]",
                          highlight=False)
        for problem in report.problems[:20]:
            err_console.print(f"  - {problem}", highlight=False, soft_wrap=True, markup=False)
        if len(report.problems) > 20:
            err_console.print(f"  ... and {len(report.problems) - 20} more (see the reject file)")


def credits(
    participant: Annotated[str, typer.Option("--participant", help="Participant id.")],
    period: Annotated[str, typer.Option("--period", help="Period, e.g. 2026-Q3.")],
    workspace: WorkspaceOption = None,
) -> None:
    """List a participant's credits in a period, each with its reason (deal, rule, share, date)."""
    from attain.app.calculation import require_participant
    from attain.app.credits import list_credits
    from attain.app.workspace import open_workspace

    ws = open_workspace(workspace)
    try:
        require_participant(ws, participant)
        listing = list_credits(ws, participant, period)
    finally:
        ws.close()
    if not listing.credits and not listing.problems:
        console.print(f"No credits for {participant} in {listing.period}.")
        return
    rules = listing.rules
    console.print(
        f"Credits for [bold]{participant}[/] in {listing.period} "
        f"(plan {listing.plan_id or 'none: default rules'}; date basis {rules.date_basis.value}"
        f"{'; roll-up' if rules.rollup else ''}"
        f"{'; overlays ' + ', '.join(rules.overlay_roles) if rules.overlay_roles else ''})",
        highlight=False,
    )
    table = Table()
    for header in ("deal", "rule", "share", "date", "credited", "reason"):
        table.add_column(header, justify="right" if header in ("share", "credited") else "left")
    total = sum((c.amount for c in listing.credits), ZERO)
    for credit in listing.credits:
        table.add_row(credit.deal_id, credit.rule.value, f"{credit.share * 100:.4g}%",
                      f"{credit.basis.value} {credit.credit_date}",
                      format_money(credit.amount, listing.currency), credit.describe())
    console.print(table)
    if listing.credits:
        console.print(f"Total credited: {format_money(total, listing.currency)}", highlight=False)
    for problem in listing.problems:
        err_console.print(f"[yellow]warning:[/] {escape(str(problem))}", highlight=False)


def register(app: typer.Typer) -> None:
    app.command()(init)
    db = typer.Typer(name="db", help="The workspace's store: schema migrations.", no_args_is_help=True)
    db.command("upgrade")(db_upgrade)
    app.add_typer(db)
    app.command("import")(import_)
    app.command()(credits)

