"""`attain bulk`: every payee of the plans in force, at volume, from the workspace's store."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from attain.cli.consoles import stdout_console
from attain.cli.options import WorkspaceOption

console = stdout_console()


def bulk(
    period: Annotated[str, typer.Option("--period", help="Period to calculate, e.g. 2026-Q1.")],
    plan: Annotated[list[str] | None, typer.Option(
        "--plan", "-p", help="Plan id to calculate (repeat for several; default: every plan in force).")] = None,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Parquet file for the payout lines (default: store/bulk/ in the workspace).")] = None,
    as_of: Annotated[datetime | None, typer.Option(
        "--as-of", help="The data as known at this UTC moment (e.g. 2026-04-02T09:00:00).")] = None,
    rebuild_segments: Annotated[bool, typer.Option(
        "--rebuild-segments", help="Write the columnar segments again from the database first.")] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Calculate a period for every payee from the store at volume; payout lines go to Parquet
    (participant, plan, period, component, amount). Nothing is posted."""
    from attain.app.bulk import bulk_calculate
    from attain.app.workspace import open_workspace

    ws = open_workspace(workspace)
    try:
        with console.status("starting", spinner="dots") as status:
            report = bulk_calculate(ws, period, plan_ids=plan or (), as_of=as_of, output=output,
                                    rebuild_segments=rebuild_segments, progress=status.update)
    finally:
        ws.close()
    timings = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in report.seconds.items())
    console.print(f"{report.lines:,} payout lines for {report.payees:,} payees ({', '.join(report.plans)}), "
                  f"total {report.total:,}, as of import {report.upto_import}, written to {report.output}",
                  highlight=False)
    console.print(f"segments read: {report.segments} (rebuilt: {report.segments_rebuilt}); {timings}", highlight=False)


def rebuild_segments(workspace: WorkspaceOption = None) -> None:
    """Write the store's columnar segments (deals and splits per import) again from the database."""
    from attain.app.bulk import rebuild_segments as rebuild
    from attain.app.workspace import open_workspace

    ws = open_workspace(workspace)
    try:
        count = rebuild(ws)
    finally:
        ws.close()
    console.print(f"{count} segment(s) written")


def register(app: typer.Typer) -> None:
    app.command()(bulk)
    app.command("rebuild-segments")(rebuild_segments)
