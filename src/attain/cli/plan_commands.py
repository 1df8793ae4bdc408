"""`attain plan check|test|doc`: validate plan files, run their worked examples, write plan documents."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from attain.cli.consoles import stdout_console
from attain.core.errors import PlanError

console = stdout_console()
plan_app = typer.Typer(help="Check, test and document plan files.", no_args_is_help=True)

FilesArgument = Annotated[list[Path], typer.Argument(help="Plan files (YAML).", exists=False)]


@plan_app.command("check")
def check(files: FilesArgument) -> None:
    """Validate plan files: schema, tiers (gaps, overlaps, unreachable), metrics, curve shape."""
    from attain.app.plans import check_plan_files

    loaded, problems = check_plan_files(files)
    errors = [p for p in problems if p.is_error]
    for problem in problems:
        colour = "red" if problem.is_error else "yellow"
        console.print(f"[{colour}]{problem.severity}[/] {escape(str(problem))}", highlight=False)
    if errors:
        raise PlanError(f"{len(errors)} error(s) in {len(files)} plan file(s)")
    for plan in loaded:
        console.print(f"[green]ok[/] {plan.path}: plan {plan.plan.id} v{plan.plan.version}, "
                      f"{len(plan.plan.components)} component(s), {len(plan.plan.examples)} example(s)")


@plan_app.command("test")
def test(files: FilesArgument) -> None:
    """Run the worked examples carried by plan files; fail on any difference."""
    from attain.app.plans import check_plan_files, run_examples

    loaded, problems = check_plan_files(files)
    errors = [p for p in problems if p.is_error]
    if errors:
        raise PlanError(f"{len(errors)} error(s) in plan files", errors)
    table = Table(title="Plan examples")
    for column in ("Plan", "Example", "Component", "Expected", "Actual", "Result"):
        table.add_column(column)
    failed = total = 0
    for plan in loaded:
        for outcome in run_examples(plan):
            for component_id, expected, actual in outcome.rows:
                total += 1
                ok = expected == actual
                failed += not ok
                table.add_row(plan.plan.id, outcome.example, component_id, f"{expected:,}", f"{actual:,}",
                              "[green]pass[/]" if ok else "[red]FAIL[/]")
    without = [plan.path for plan in loaded if not plan.plan.examples]
    for path in without:
        console.print(f"[yellow]no examples[/] {escape(str(path))}: the plan carries no worked examples to test "
                      "(add an `examples:` list, see docs/plan-reference.md)", highlight=False)
    if total == 0:
        console.print("No examples were run: none of these plans carries worked examples.")
        return
    console.print(table)
    console.print(f"{total - failed} passed, {failed} failed")
    if failed:
        raise typer.Exit(1)


@plan_app.command("doc")
def doc(
    file: Annotated[Path, typer.Argument(help="Plan file (YAML).")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="HTML file to write.")] = None,
) -> None:
    """Write the one-page plan document (plain-language clauses, worked numbers, the step graph)."""
    from attain.app.plans import check_plan_files
    from attain.reports.plan_doc import render_plan_doc_html

    loaded, problems = check_plan_files([file])
    errors = [p for p in problems if p.is_error]
    if errors:
        raise PlanError(f"{file}: the plan does not validate", errors)
    target = output or file.with_suffix(".html")
    target.write_text(render_plan_doc_html(loaded[0]), encoding="utf-8")
    console.print(f"Plan document written to {target}")


def register(app: typer.Typer) -> None:
    app.add_typer(plan_app, name="plan")
