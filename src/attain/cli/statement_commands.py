"""`attain statement` and `attain statements`: pay statements from the ledger, on the terminal or as files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from attain.cli.consoles import stdout_console
from attain.cli.options import WorkspaceOption

console = stdout_console()

PeriodOption = Annotated[str, typer.Option("--period", help="Pay period, e.g. 2026-03 or 2026-Q1.")]


def statement(participant: Annotated[str, typer.Option("--participant", help="Participant id.")],
              period: PeriodOption, workspace: WorkspaceOption = None) -> None:
    """A payee's statement for a pay period, from the ledger: every entry with its explanation."""
    from attain.app.calculation import require_participant
    from attain.app.statements import pay_statement
    from attain.app.workspace import open_workspace
    from attain.reports.explain_text import money

    ws = open_workspace(workspace)
    try:
        require_participant(ws, participant)
        result = pay_statement(ws, participant, period)
    finally:
        ws.close()
    console.print(f"Statement for [bold]{escape(result.name)}[/] ({escape(participant)}), {result.period} "
                  f"({result.state})", highlight=False)
    if not result.lines:
        console.print("No entries: nothing was earned, adjusted or paid in this period. "
                      f"`attain explain --participant {participant} --period {result.period}` shows why.",
                      highlight=False)
        return
    table = Table("#", "kind", "entry", "for", "amount", "why")
    for line in result.lines:
        table.add_row(str(line.number), line.kind.value, line.label, line.origin, money(line.amount, line.currency),
                      escape(line.summary))
    console.print(table)
    for d in result.draws:
        console.print(f"Draw ({d.plan_id}, {'recoverable' if d.recoverable else 'non-recoverable'}): "
                      f"{money(d.before, d.currency)} carried in, {money(d.change, d.currency)} this period, "
                      f"{money(d.after, d.currency)} carried forward", highlight=False)
    for currency in result.currencies:
        console.print(f"Total: {money(result.total(currency), currency)}", highlight=False)
    if result.payments:
        console.print(f"Paid at close: {', '.join(money(p.amount, p.currency) for p in result.payments)}",
                      highlight=False)
    console.print(f"Every entry explained: `attain statements --period {result.period} --participant "
                  f"{participant} --output statements/`", highlight=False)


def statements(
    period: PeriodOption,
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder to write the statements into.")],
    participant: Annotated[list[str] | None, typer.Option(
        "--participant", help="Only this participant (repeat for several). Default: every payee with entries.")] = None,
    formats: Annotated[str, typer.Option("--format", help="Comma-separated: html, pdf, json.")] = "html,pdf,json",
    workspace: WorkspaceOption = None,
) -> None:
    """Write every payee's pay statement for a pay period as HTML, PDF and JSON, from the ledger."""
    from attain.app.statements import write_statements
    from attain.app.workspace import open_workspace
    from attain.reports.explain_text import money

    ws = open_workspace(workspace)
    try:
        written = write_statements(ws, period, output, participants=participant,
                                   formats=[f.strip() for f in formats.split(",") if f.strip()])
    finally:
        ws.close()
    totals = ", ".join(money(v, k) for k, v in sorted(written.totals.items())) or "nothing"
    console.print(f"Wrote {written.count} statement(s) for {written.period} ({len(written.files)} files) to "
                  f"{output}; total {totals}.", highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command()(statement)
    app.command()(statements)
