"""`attain audit verify`, `audit head` and `audit log`: checking and reading the tamper evidence."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from attain.cli.consoles import stderr_console, stdout_console
from attain.cli.options import WorkspaceOption
from attain.core.errors import InputError

console = stdout_console()
err_console = stderr_console()

audit_app = typer.Typer(name="audit", help="The audit log and the seal chain over every row that carries money "
                                           "or state.", no_args_is_help=True)


def _parse_head(text: str) -> tuple[int, str]:
    length, _, digest = text.partition(":")
    if not length.isdigit() or len(digest) != 64:
        raise InputError(f"--expect-head {text!r}: expected LENGTH:HASH as `attain audit head` prints it")
    return int(length), digest.lower()


@audit_app.command("verify")
def audit_verify(
    expect_head: Annotated[str | None, typer.Option(
        "--expect-head", help="LENGTH:HASH from an earlier `attain audit head`; the chain must extend it.")] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Check the audit log's links and every sealed row (ledger, runs, periods, adjustments, versions)."""
    from attain.app.audit import verify_chain
    from attain.app.workspace import open_workspace
    from attain.storage.seals import verify_seals

    expected = _parse_head(expect_head) if expect_head else None
    ws = open_workspace(workspace)
    try:
        with ws.engine.connect() as conn:
            chain = verify_chain(conn)
            report = verify_seals(conn, expected)
    finally:
        ws.close()
    if chain.ok and report.ok:
        console.print(f"Audit chain intact: {chain.links} link(s). Seal chain intact: {report.length} seal(s), "
                      f"head {report.length}:{report.head}.", highlight=False, soft_wrap=True)
        return
    if not chain.ok:
        err_console.print(f"[bold red]audit chain broken[/] at link {chain.broken_at}: {escape(chain.reason)}",
                          highlight=False, soft_wrap=True)
    for problem in report.problems[:20]:
        err_console.print(f"[bold red]tampered:[/] {escape(str(problem))}", highlight=False, soft_wrap=True)
    if len(report.problems) > 20:
        err_console.print(f"... and {len(report.problems) - 20} more", highlight=False)
    raise typer.Exit(6)


@audit_app.command("head")
def audit_head(
    output_format: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
    workspace: WorkspaceOption = None,
) -> None:
    """Print the seal chain's length and head hash, for an outside party to hold."""
    from attain.app.workspace import open_workspace
    from attain.storage.seals import current_head

    ws = open_workspace(workspace)
    try:
        with ws.engine.connect() as conn:
            length, digest = current_head(conn)
    finally:
        ws.close()
    if output_format == "json":
        console.print_json(json.dumps({"length": length, "head": digest, "expect_head": f"{length}:{digest}"}))
    else:
        console.print(f"{length}:{digest}", highlight=False, soft_wrap=True)


@audit_app.command("log")
def audit_log(
    since: Annotated[str | None, typer.Option("--since", help="Only changes at or after this ISO date/time.")] = None,
    subject: Annotated[str | None, typer.Option("--subject", help="Only changes whose subject contains this.")] = None,
    output_format: Annotated[str, typer.Option("--format", help="table, json or csv.")] = "table",
    workspace: WorkspaceOption = None,
) -> None:
    """The audit trail: who changed what, when, with the before and after."""
    import csv
    import io
    from datetime import datetime

    from attain.app.workspace import open_workspace
    from attain.storage.ledger import audit_rows

    if output_format not in ("table", "json", "csv"):
        raise InputError(f"--format {output_format!r}: expected table, json or csv")
    try:
        start = datetime.fromisoformat(since) if since else None
    except ValueError as exc:
        raise InputError(f"--since {since!r}: expected an ISO date or date-time, e.g. 2026-04-01") from exc
    ws = open_workspace(workspace)
    try:
        with ws.engine.connect() as conn:
            rows = [r for r in audit_rows(conn) if (start is None or r.at >= start)
                    and (subject is None or subject in r.subject)]
    finally:
        ws.close()
    records = [{"seq": r.seq, "at": r.at.isoformat(timespec="seconds"), "who": r.actor, "what": r.action,
                "subject": r.subject, "before": r.before, "after": r.after} for r in rows]
    if output_format == "json":
        typer.echo(json.dumps(records, ensure_ascii=False, indent=2))
    elif output_format == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=["seq", "at", "who", "what", "subject", "before", "after"])
        writer.writeheader()
        writer.writerows(records)
        typer.echo(buffer.getvalue(), nl=False)
    else:
        table = Table("seq", "when", "who", "what", "subject", "before", "after")
        for r in records:
            table.add_row(*(str(r[k]) for k in ("seq", "at", "who", "what", "subject", "before", "after")))
        console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app)


__all__ = ["register"]
