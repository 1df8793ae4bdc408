"""`attain calc` and `attain explain`: calculate from plan files and a data folder, or from the store."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from attain.cli.consoles import stderr_console, stdout_console
from attain.cli.options import WorkspaceOption
from attain.core.errors import DataError, InputError, NotFoundError

if TYPE_CHECKING:
    from attain.core.plan import Plan
    from attain.engine.results import CalcResult

console = stdout_console()


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


PlanOption = Annotated[list[Path] | None, typer.Option(
    "--plan", "-p", help="Plan file (repeat for several plans). Without --plan and --data: the workspace's store.")]
DataOption = Annotated[Path | None, typer.Option("--data", "-d", help="Folder of CSV files (see docs/data-format.md).")]
PeriodOption = Annotated[str, typer.Option("--period", help="Period to calculate, e.g. 2026-Q1, 2026-03, 2026.")]
ExecutorOption = Annotated[str | None, typer.Option(
    "--executor", "-x", help="auto, reference, duckdb, postgres or spark (default: the workspace's, else auto).")]
AsOfOption = Annotated[datetime | None, typer.Option(
    "--as-of", help="From the store: the data as known at this UTC moment (e.g. 2026-04-02T09:00:00).")]


def compute(
    plan: list[Path] | None, data: Path | None, period: str, participant: str | None,
    workspace: Path | None, as_of: datetime | None, executor: str | None = None,
) -> tuple[list[Plan], list[CalcResult]]:
    """The plan version behind each result, and the results, from files when --plan and --data
    are given, else from the store (saying so on stderr, with a warning when plans/ differs from
    the recorded versions a run would pay)."""
    if plan or data:
        if not (plan and data):
            raise InputError("give both --plan and --data, or neither (to calculate from the workspace's store)")
        if as_of is not None:
            raise InputError("--as-of reads the store; it does not apply to --plan/--data files")
        from attain.app.calculation import calculate_folder

        loaded, results = calculate_folder(plan, data, period, participant=participant, executor=executor or "auto")
        return [p.plan for p in loaded], results
    from attain.app.calculation import calculate_workspace
    from attain.app.workspace import open_workspace

    ws = open_workspace(workspace)
    try:
        plans, results = calculate_workspace(ws, period, participant=participant, as_of=as_of, executor=executor)
        _say_source(ws, as_of)
    finally:
        ws.close()
    return plans, results


def _say_source(ws: object, as_of: datetime | None) -> None:
    """On stderr: what a calculation from the store used, and whether plans/ differs from it."""
    from attain.app.plan_versions import drift_message, plan_drift
    from attain.app.workspace import Workspace
    from attain.storage.plans import plan_versions_known
    from attain.storage.versions import known_import

    assert isinstance(ws, Workspace)
    err = stderr_console()
    with ws.engine.connect() as conn:
        upto = known_import(conn, as_of)
        recorded = bool(plan_versions_known(conn, upto))
        differences = plan_drift(conn, ws, upto) if as_of is None else []
    known = f"as known at {as_of.isoformat()}" if as_of else "as recorded now"
    if recorded:
        err.print(f"From the store: the recorded plan versions in force and the data {known} (import {upto}); "
                  "this is what `attain run` would pay.", highlight=False, markup=False, soft_wrap=True)
    else:
        err.print(f"From the store: the data {known} (import {upto}) and, as no plan version is recorded, the "
                  "plan files in plans/ (a preview).", highlight=False, markup=False, soft_wrap=True)
    if differences:
        err.print(f"warning: {drift_message(differences)}; `attain run` refuses until then.",
                  highlight=False, markup=False, soft_wrap=True)


def _refuse_errors(results: list[CalcResult]) -> None:
    """Problems of severity error (a missing exchange rate or quota, splits not summing to 100%)
    mean figures that cannot be paid: exit 2 after printing them (`attain run` refuses them too)."""
    errors = [p for r in results for p in r.problems if p.is_error]
    if errors:
        raise DataError(f"{len(errors)} problem(s) of severity error met while calculating: the figures are "
                        "incomplete and `attain run` refuses them; fix the data and calculate again", errors)


def calc(
    period: PeriodOption,
    plan: PlanOption = None,
    data: DataOption = None,
    output: Annotated[OutputFormat, typer.Option("--format", "-f", help="table, csv or json.")] = OutputFormat.table,
    participant: Annotated[str | None, typer.Option(help="Only this participant.")] = None,
    workspace: WorkspaceOption = None,
    as_of: AsOfOption = None,
    executor: ExecutorOption = None,
) -> None:
    """Calculate every covered payee's payout for a period (nothing is posted)."""
    _plans, results = compute(plan, data, period, participant, workspace, as_of, executor)
    if output is OutputFormat.json:
        from attain.formats.result_json import results_json

        typer.echo(results_json(results), nl=False)
    elif output is OutputFormat.csv:
        from attain.formats.result_table import results_csv

        typer.echo(results_csv(results), nl=False)
    else:
        from attain.formats.result_table import results_table

        console.print(results_table(results))
        _print_problems(results)
    _refuse_errors(results)


def _print_problems(results: list[CalcResult]) -> None:
    problems = [p for r in results for p in r.problems if not p.is_error]
    if problems:
        err = stderr_console()
        err.print(f"[yellow]{len(problems)} warning(s) met while calculating:[/]")
        for problem in problems[:50]:
            err.print(f"  - {problem}", highlight=False, markup=False)


def explain(
    participant: Annotated[str, typer.Option("--participant", help="The payee to explain.")],
    period: PeriodOption,
    plan: PlanOption = None,
    data: DataOption = None,
    html: Annotated[Path | None, typer.Option(help="Also write an HTML statement to this file.")] = None,
    workspace: WorkspaceOption = None,
    as_of: AsOfOption = None,
) -> None:
    """Print one payee's statement with every line explained in words and numbers."""
    from attain.app.plan_versions import version_label
    from attain.reports.explain_text import render_statement_text

    plans, results = compute(plan, data, period, participant, workspace, as_of)
    covering = [(p, r) for p, r in zip(plans, results, strict=True) if r.payee(participant)]
    for version, result in covering:
        payee = result.payee(participant)
        assert payee is not None
        typer.echo(f"Plan {version.id}, {version_label(version)}, {result.period}")
        typer.echo(render_statement_text(payee, version))
        if not (plan or data):  # a preview from the store: say where it differs from what is posted
            _print_unposted(workspace, payee)
        if html is not None:
            from attain.reports.statement_html import render_statement_html

            target = html if len(covering) == 1 else html.with_stem(f"{html.stem}-{payee.plan_id}-{result.period}")
            target.write_text(render_statement_html(payee, version), encoding="utf-8")
            console.print(f"HTML statement written to {target}")
    if not covering:
        raise NotFoundError(f"participant {participant!r} has no result for {period}")
    _refuse_errors([r for _, r in covering])


def _print_unposted(workspace: Path | None, payee: object) -> None:
    from attain.app.statements import unposted_differences
    from attain.app.workspace import open_workspace

    ws = open_workspace(workspace)
    try:
        differences = unposted_differences(ws, payee)  # type: ignore[arg-type]
    finally:
        ws.close()
    if differences:
        typer.echo("This is a preview; the ledger differs:\n" + "\n".join(f"  {d}" for d in differences))


def register(app: typer.Typer) -> None:
    app.command()(calc)
    app.command()(explain)
