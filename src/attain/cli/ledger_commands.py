"""`attain run`, `period`, `adjust`, `export payroll`, `accruals`, `reproduce` and `reconcile`:
the ledger and the monthly cycle of a comp team."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from attain.cli.consoles import stderr_console, stdout_console
from attain.cli.options import WorkspaceOption
from attain.core.money import format_money

if TYPE_CHECKING:
    from attain.app.runs import RunReport
    from attain.app.workspace import Workspace

console = stdout_console()
err_console = stderr_console()

UserOption = Annotated[
    str | None,
    typer.Option("--user", help="Who is acting (default: $ATTAIN_USER, else the OS user).", envvar="ATTAIN_USER"),
]
PeriodOption = Annotated[str, typer.Option("--period", help="Pay period, e.g. 2026-03 or 2026-Q1.")]


def _user(user: str | None) -> str:
    return user or getpass.getuser()


def _open(workspace: Path | None) -> Workspace:
    from attain.app.workspace import open_workspace

    return open_workspace(workspace)


def run(
    period: PeriodOption,
    executor: Annotated[str | None, typer.Option(
        "--executor", "-x", help="auto, reference, duckdb, postgres or spark (default: the workspace's, else auto).",
    )] = None,
    user: UserOption = None,
    workspace: WorkspaceOption = None,
    import_plans: Annotated[bool, typer.Option(
        "--import-plans", help="First record plans/ as new plan versions (as `attain import plans plans/`).",
    )] = False,
) -> None:
    """Calculate a pay period and post the difference from what is already posted (one transaction)."""
    from attain.app.runs import run_period

    ws = _open(workspace)
    try:
        if import_plans:
            from attain.app.plan_versions import import_plans as record_plans

            recorded = record_plans(ws, ws.settings.plans_dir, actor=_user(user))
            console.print(f"plans/: {recorded.new} new and {recorded.changed} changed plan version(s) recorded",
                          highlight=False)
        report = run_period(ws, period, user=_user(user), executor=executor)
    finally:
        ws.close()
    for earlier in report.earlier:
        console.print(f"First, the earlier period {earlier.period}:", highlight=False)
        _print_run(earlier)
    _print_run(report)


def _print_run(report: RunReport) -> None:
    if not report.entries:
        console.print(f"Run {report.run_id} for {report.period} ({report.executor}): nothing new to post "
                      "(every payout equals what is already posted).", highlight=False, soft_wrap=True)
    else:
        totals = ", ".join(format_money(v, k) for k, v in report.totals.items())
        console.print(f"Run {report.run_id} for {report.period} ({report.executor}): posted {len(report.entries)} "
                      f"entries ({totals}).", highlight=False)
    console.print(f"inputs {report.fingerprint[:16]}  result {report.digest[:16]}", highlight=False)
    passed = sum(c.passed for c in report.checks)
    console.print(f"checks {passed}/{len(report.checks)} passed", highlight=False)
    for check in report.failed_checks:
        err_console.print(f"check failed: {check.name}: {check.detail} (the period cannot be published until "
                          "this is resolved)", highlight=False, soft_wrap=True, markup=False)
    for problem in report.problems:
        err_console.print(f"[yellow]warning:[/] {escape(str(problem))}", highlight=False)


period_app = typer.Typer(name="period", help="The period cycle: open -> published -> closed; reopen with a reason.",
                         no_args_is_help=True)


@period_app.command("publish")
def period_publish(period: Annotated[str, typer.Argument(help="Pay period.")], user: UserOption = None,
                   workspace: WorkspaceOption = None) -> None:
    """Publish a period's statements (refused if any check fails)."""
    from attain.app.periods import publish_period

    ws = _open(workspace)
    try:
        change = publish_period(ws, period, user=_user(user))
    finally:
        ws.close()
    console.print(f"Period {change.period}: {change.before.value} -> {change.after.value}.")


@period_app.command("close")
def period_close(period: Annotated[str, typer.Argument(help="Pay period.")], user: UserOption = None,
                 workspace: WorkspaceOption = None) -> None:
    """Close a published period: lock it and post what is due to payroll."""
    from attain.app.periods import close_period

    ws = _open(workspace)
    try:
        change = close_period(ws, period, user=_user(user))
    finally:
        ws.close()
    console.print(f"Period {change.period}: {change.before.value} -> {change.after.value}; "
                  f"{len(change.payments)} payment entries. Next: attain export payroll --period {change.period}")


@period_app.command("reopen")
def period_reopen(period: Annotated[str, typer.Argument(help="Pay period.")],
                  reason: Annotated[str, typer.Option("--reason", help="Why (kept on record).")],
                  user: UserOption = None, workspace: WorkspaceOption = None) -> None:
    """Reopen a published or closed period; posted entries stay, new ones may be added."""
    from attain.app.periods import reopen_period

    ws = _open(workspace)
    try:
        change = reopen_period(ws, period, reason=reason, user=_user(user))
    finally:
        ws.close()
    console.print(f"Period {change.period}: {change.before.value} -> {change.after.value} ({reason}).")


@period_app.command("list")
def period_list(workspace: WorkspaceOption = None) -> None:
    """Every pay period the ledger knows and its state."""
    from attain.app.periods import list_periods

    ws = _open(workspace)
    try:
        rows = list_periods(ws)
    finally:
        ws.close()
    table = Table("period", "state", "since", "by")
    for row in rows:
        table.add_row(row.label, row.state.value, row.changed_at.isoformat(timespec="seconds"), row.changed_by)
    console.print(table)


adjust_app = typer.Typer(name="adjust", help="Manual adjustments: add, then approve by someone else.",
                         no_args_is_help=True)


@adjust_app.command("add")
def adjust_add(
    participant: Annotated[str, typer.Option("--participant", help="Participant id.")],
    period: PeriodOption,
    amount: Annotated[str, typer.Option("--amount", help="Amount, e.g. 250.00 or -100.")],
    reason: Annotated[str, typer.Option("--reason", help="Why.")],
    plan: Annotated[str, typer.Option("--plan", help="Plan id it relates to.")] = "",
    currency: Annotated[str | None, typer.Option("--currency", help="Default: the workspace's.")] = None,
    user: UserOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Record a pending adjustment."""
    from attain.app.adjustments import add_adjustment
    from attain.app.calculation import require_participant

    ws = _open(workspace)
    try:
        require_participant(ws, participant)
        adjustment = add_adjustment(ws, participant_id=participant, period=period, amount=amount, reason=reason,
                                    user=_user(user), plan_id=plan, currency=currency)
    finally:
        ws.close()
    console.print(f"Adjustment {adjustment.id}: {format_money(adjustment.amount, adjustment.currency)} for "
                  f"{adjustment.participant_id} in {adjustment.period}, awaiting approval by someone other "
                  f"than {adjustment.author}.", highlight=False)


def _decide(adjustment_id: str, approve: bool, user: str | None, note: str, workspace: Path | None) -> None:
    from attain.app.adjustments import decide_adjustment

    ws = _open(workspace)
    try:
        adjustment, entry = decide_adjustment(ws, adjustment_id, approve=approve, user=_user(user), note=note)
    finally:
        ws.close()
    posted = f"; posted as {entry.key}" if entry else ""
    console.print(f"Adjustment {adjustment.id} {adjustment.status} by {adjustment.decided_by}{posted}.",
                  highlight=False)


@adjust_app.command("approve")
def adjust_approve(adjustment_id: Annotated[str, typer.Argument(help="Adjustment id, e.g. ADJ-00001.")],
                   user: UserOption = None, workspace: WorkspaceOption = None) -> None:
    """Approve an adjustment (not your own) and post it."""
    _decide(adjustment_id, True, user, "", workspace)


@adjust_app.command("reject")
def adjust_reject(adjustment_id: Annotated[str, typer.Argument(help="Adjustment id.")],
                  reason: Annotated[str, typer.Option("--reason", help="Why.")] = "",
                  user: UserOption = None, workspace: WorkspaceOption = None) -> None:
    """Reject an adjustment (not your own)."""
    _decide(adjustment_id, False, user, reason, workspace)


@adjust_app.command("list")
def adjust_list(period: Annotated[str | None, typer.Option("--period")] = None,
                workspace: WorkspaceOption = None) -> None:
    """Adjustments and their status."""
    from attain.app.adjustments import list_adjustments

    ws = _open(workspace)
    try:
        rows = list_adjustments(ws, period)
    finally:
        ws.close()
    table = Table("id", "participant", "period", "amount", "status", "author", "decided by", "reason")
    for a in rows:
        table.add_row(a.id, a.participant_id, a.period, format_money(a.amount, a.currency), a.status, a.author,
                      a.decided_by or "", a.reason)
    console.print(table)


export_app = typer.Typer(name="export", help="Files for other systems.", no_args_is_help=True)


@export_app.command("payroll")
def export_payroll(period: PeriodOption,
                   out: Annotated[Path | None, typer.Option("--out", help="File to write.")] = None,
                   workspace: WorkspaceOption = None) -> None:
    """Write the payroll file of a closed period: one row per payee and pay item."""
    from attain.app.payroll import export_payroll as export

    ws = _open(workspace)
    try:
        path, rows = export(ws, period, out)
    finally:
        ws.close()
    console.print(f"Wrote {rows} payroll row(s) to {path}.", highlight=False)


def accruals(workspace: WorkspaceOption = None) -> None:
    """Earned, paid and accrued (earned to date minus paid to date) by pay period, for finance."""
    from attain.app.payroll import accruals_report

    ws = _open(workspace)
    try:
        rows = accruals_report(ws)
    finally:
        ws.close()
    table = Table("period", "currency", "earned", "paid", "accrued at end")
    for row in rows:
        table.add_row(row.period, row.currency, f"{row.earned:,}", f"{row.paid:,}", f"{row.accrued:,}")
    console.print(table)


def reproduce(run_id: Annotated[int, typer.Option("--run", help="Run id.")],
              workspace: WorkspaceOption = None) -> None:
    """Recompute a past run from its recorded inputs and confirm it is byte-identical."""
    from attain.app.runs import reproduce_run

    ws = _open(workspace)
    try:
        result = reproduce_run(ws, run_id)
    finally:
        ws.close()
    if result.identical:
        console.print(f"Run {run_id} ({result.period}, {result.executor}) reproduced byte-identically: "
                      f"{result.entries} entries, result {result.recomputed_digest}.", highlight=False)
        return
    err_console.print(f"[bold red]run {run_id} does not reproduce[/]", highlight=False)
    if not result.fingerprint_matches:
        err_console.print("  the inputs as known at the run no longer hash to the recorded fingerprint")
    err_console.print(f"  recorded {result.recorded_digest}, recomputed {result.recomputed_digest}")
    for line in result.differences[:20]:
        err_console.print(f"  - {line}", highlight=False, soft_wrap=True, markup=False)
    raise typer.Exit(6)


def reconcile(period: PeriodOption,
              paid: Annotated[Path, typer.Option("--paid", help="What payroll paid (CSV: participant_id, "
                                                                "[pay_item,] currency, amount).")],
              workspace: WorkspaceOption = None) -> None:
    """Compare what payroll paid with the ledger and list every difference."""
    from attain.app.reconcile import reconcile as compare

    ws = _open(workspace)
    try:
        differences = compare(ws, period, paid)
    finally:
        ws.close()
    if not differences:
        console.print(f"Payroll for {period} matches the ledger.")
        return
    table = Table("participant", "pay item", "currency", "ledger", "paid", "difference")
    for d in differences:
        table.add_row(d.participant_id, d.pay_item, d.currency, f"{d.ledger:,}", f"{d.paid:,}", f"{d.difference:,}")
    console.print(table)
    err_console.print(f"{len(differences)} difference(s).")
    raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command()(run)
    app.add_typer(period_app)
    app.add_typer(adjust_app)
    app.add_typer(export_app)
    app.command()(accruals)
    app.command()(reproduce)
    app.command()(reconcile)
