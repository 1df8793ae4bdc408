"""The `attain` command: the Typer app, its sub-command groups, and the one place errors are mapped."""

from __future__ import annotations

import importlib
import sys

import typer
from rich.markup import escape

from attain.cli.consoles import stderr_console
from attain.core.errors import AttainError, InputError

app = typer.Typer(
    name="attain",
    help="Attain: exact, explainable, reproducible incentive compensation.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err_console = stderr_console()

# Each module holds one family of commands and exposes `register(app)`; keeping the list here
# lets families be developed side by side without touching each other.
COMMAND_MODULES = (
    "attain.cli.calc_commands",
    "attain.cli.plan_commands",
    "attain.cli.demo_commands",
    "attain.cli.workspace_commands",
    "attain.cli.ledger_commands",
    "attain.cli.statement_commands",
    "attain.cli.audit_commands",
    "attain.cli.bench_commands",
    "attain.cli.bulk_commands",
    "attain.cli.web_commands",
)


def _register_all() -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(app)


_register_all()


def report_error(error: AttainError) -> int:
    """Print an Attain error (with every problem it carries) and return its exit code."""
    err_console.print(f"[bold red]error:[/] {escape(str(error))}", highlight=False, soft_wrap=True)
    if isinstance(error, InputError):
        for problem in error.problems[:200]:
            err_console.print(f"  - {problem}", highlight=False, soft_wrap=True, markup=False)
        if len(error.problems) > 200:
            err_console.print(f"  ... and {len(error.problems) - 200} more problems")
    return error.exit_code


def run() -> None:
    """Entry point: run the app, mapping Attain errors to messages and exit codes."""
    try:
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except AttainError as error:
        sys.exit(report_error(error))
    except typer.Exit as exit_:
        sys.exit(exit_.exit_code)
    except typer.Abort:
        err_console.print("aborted")
        sys.exit(130)
    except Exception as exc:  # click usage errors carry their own exit code
        code = getattr(exc, "exit_code", None)
        show = getattr(exc, "show", None)
        if code is not None and show is not None:
            show()
            sys.exit(code)
        raise
