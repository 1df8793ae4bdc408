"""Options several command families share, defined once so their flags and help read the same."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

WorkspaceOption = Annotated[
    Path | None,
    typer.Option("--workspace", "-w", help="Workspace folder (default: found from here upward).",
                 envvar="ATTAIN_WORKSPACE"),
]
