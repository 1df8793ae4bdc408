"""`attain demo`: a sample company, its quarter calculated, and what to try next."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.panel import Panel
from rich.table import Table

from attain.cli.consoles import stdout_console
from attain.core.money import format_ratio

if TYPE_CHECKING:
    from attain.app.demo import DemoOutcome

console = stdout_console()


def demo(
    directory: Annotated[Path, typer.Argument(help="Where to create the demo workspace.")] = Path("attain-demo"),
    seed: Annotated[int, typer.Option(help="Seed of the generated company.")] = 2026,
) -> None:
    """Create a sample company, calculate its quarter, and write statements and plan documents."""
    from attain.app.demo import run_demo

    started = time.perf_counter()
    with console.status("Generating the demo company and calculating Q1 2026..."):
        outcome = run_demo(directory, seed)
    _print_summary(outcome, time.perf_counter() - started)


def _names(entries: tuple[tuple[str, str, object], ...]) -> str:
    return ", ".join(f"{name} ({format_ratio(att)})" for _, name, att in entries)  # type: ignore[arg-type]


def _print_summary(outcome: DemoOutcome, seconds: float) -> None:
    console.print(Panel.fit(
        f"[bold]Attain demo[/]: Acme Analytics, {outcome.period}\n"
        f"{sum(p.payees for p in outcome.plans)} payees on {len(outcome.plans)} plans, "
        f"calculated in {seconds:.1f} s",
        border_style="cyan"))
    table = Table(title="What each plan costs this quarter")
    for column, justify in (("Plan", "left"), ("Payees", "right"), ("Reached 100%", "right"),
                            ("Just short (95-99.9%)", "right"), ("Cost", "right")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for plan in outcome.plans:
        table.add_row(plan.plan_name, str(plan.payees), str(len(plan.reached)), str(len(plan.just_short)),
                      f"{plan.cost:,} {plan.currency}")
    table.add_row("[bold]Total[/]", "", "", "", f"[bold]{outcome.total_cost:,} USD[/]")
    console.print(table)
    for plan in outcome.plans:
        if plan.reached:
            console.print(f"[green]Reached 100%[/] on {plan.plan_name}: {_names(plan.reached)}")
        if plan.just_short:
            console.print(f"[yellow]Just short[/] on {plan.plan_name}: {_names(plan.just_short)}")
    root = outcome.files.root
    rel = os.path.relpath(root)
    plans_glob = f"{rel}/plans/*.yaml"
    who = outcome.example_participant
    console.print()
    console.print(f"[bold]Where you are[/]: the demo workspace is [cyan]{rel}/[/]")
    console.print(f"  plans as code   {rel}/plans/      ({len(outcome.files.plans)} plan files)")
    console.print(f"  input data      {rel}/data/       (participants, quotas, deals, splits, metrics, rates)")
    if outcome.statements:
        console.print(f"  statements      {rel}/statements/ ({len(outcome.statements)} HTML statements)")
    if outcome.plan_docs:
        console.print(f"  plan documents  {rel}/plan-docs/  (one page per plan, with the step graph)")
    if outcome.store_url:
        console.print(f"  system of record {outcome.store_url} ({outcome.run_note})", highlight=False)
    console.print()
    console.print("[bold]Try next[/]:")
    tries = [
        (f"attain explain --participant {who} --plan {rel}/plans/account-executive.yaml "
         f"--data {rel}/data --period {outcome.period}", "why a rep just short of quota earns no bonus"),
        (f"attain calc --plan {rel}/plans/agency.yaml --data {rel}/data --period {outcome.period}",
         "agencies: a quality gate (dwell time and recall) at work"),
        (f"attain calc --plan {rel}/plans/partner-pool.yaml --data {rel}/data --period {outcome.period} "
         "--format json", "every line with its reasons, as JSON"),
        (f"attain plan test {plans_glob}", "run the worked examples each plan carries"),
        (f"attain plan check {plans_glob}", "validate plans: tiers, metrics, curve shape"),
        (f"cd {rel} && attain statement --participant {who} --period {outcome.period}",
         "the same payee's statement, from the ledger"),
        (f"cd {rel} && attain run --period {outcome.period}", "run again: unchanged inputs post nothing"),
    ]
    for command, why in tries:
        console.print(f"  [cyan]{command}[/]\n      {why}", highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command()(demo)
