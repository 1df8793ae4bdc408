"""`attain calc` and `attain explain`: stateless calculation from plan files and a data folder."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from attain.app.calculation import calculate_folder
from attain.core.errors import NotFoundError
from attain.engine.results import CalcResult
from attain.formats.result_json import results_json
from attain.formats.result_table import results_csv, results_table

console = Console()


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


PlanOption = Annotated[list[Path], typer.Option("--plan", "-p", help="Plan file (repeat for several plans).")]
DataOption = Annotated[Path, typer.Option("--data", "-d", help="Folder of CSV files (see docs/data-format.md).")]
PeriodOption = Annotated[str, typer.Option("--period", help="Period to calculate, e.g. 2026-Q1, 2026-03, 2026.")]


def calc(
    plan: PlanOption,
    data: DataOption,
    period: PeriodOption,
    output: Annotated[OutputFormat, typer.Option("--format", "-f", help="table, csv or json.")] = OutputFormat.table,
    participant: Annotated[str | None, typer.Option(help="Only this participant.")] = None,
) -> None:
    """Calculate every covered payee's payout for a period from plan files and a data folder."""
    _plans, results = calculate_folder(plan, data, period, participant=participant)
    if output is OutputFormat.json:
        typer.echo(results_json(results), nl=False)
    elif output is OutputFormat.csv:
        typer.echo(results_csv(results), nl=False)
    else:
        console.print(results_table(results))
        _print_problems(results)


def _print_problems(results: list[CalcResult]) -> None:
    problems = [p for r in results for p in r.problems]
    if problems:
        err = Console(stderr=True)
        err.print(f"[yellow]{len(problems)} warning(s) met while calculating:[/]")
        for problem in problems[:50]:
            err.print(f"  - {problem}", highlight=False)


def explain(
    participant: Annotated[str, typer.Option("--participant", help="The payee to explain.")],
    plan: PlanOption,
    data: DataOption,
    period: PeriodOption,
    html: Annotated[Path | None, typer.Option(help="Also write an HTML statement to this file.")] = None,
) -> None:
    """Print one payee's statement with every line explained in words and numbers."""
    from attain.formats.explain_text import render_statement_text

    plans, results = calculate_folder(plan, data, period, participant=participant)
    by_id = {p.plan.id: p.plan for p in plans}
    found = False
    for result in results:
        payee = result.payee(participant)
        if payee is None:
            continue
        found = True
        typer.echo(render_statement_text(payee, by_id[payee.plan_id]))
        if html is not None:
            from attain.formats.statement_html import render_statement_html

            target = html if len(results) == 1 else html.with_stem(f"{html.stem}-{payee.plan_id}")
            target.write_text(render_statement_html(payee, by_id[payee.plan_id]), encoding="utf-8")
            console.print(f"HTML statement written to {target}")
    if not found:
        raise NotFoundError(f"participant {participant!r} has no result for {period}")


def register(app: typer.Typer) -> None:
    app.command()(calc)
    app.command()(explain)
