"""The CLI's consoles: one place that decides how text reaches the terminal.

Lines are never wrapped at the terminal's width (`soft_wrap`): a path, a command or a problem in
them must copy whole, and a test must be able to find it whatever the width of the pipe.
"""

from __future__ import annotations

from rich.console import Console


def stdout_console() -> Console:
    return Console(soft_wrap=True)


def stderr_console() -> Console:
    return Console(stderr=True, soft_wrap=True)
