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


# The exit code of a failure of the machine rather than of the input: a folder that does not
# exist, a directory where a file was expected, a read-only file system or database, a full disk.
SYSTEM_EXIT_CODE = 7  # 6 is a failed audit verification


def report_system_error(error: BaseException) -> int:
    """A clear line for an OSError or a database that cannot be written; never a traceback."""
    if isinstance(error, OSError):
        import errno
        import os

        reason = error.strerror or os.strerror(error.errno or 0) or str(error)
        where = f" {error.filename}" if error.filename else ""
        hint = {errno.ENOSPC: " (the disk is full)", errno.EROFS: " (the file system is read-only)",
                errno.EACCES: " (permission denied)", errno.ENOENT: " (the folder must exist)",
                errno.EISDIR: " (a directory, not a file)"}.get(error.errno or 0, "")
        message = f"cannot use{where}: {reason}{hint}"
    else:
        detail = str(getattr(error, "orig", None) or error).splitlines()[0]
        message = f"the database cannot be written: {detail}"
    err_console.print(f"error: {message}; nothing was changed by this command", markup=False,
                      highlight=False, soft_wrap=True)
    return SYSTEM_EXIT_CODE


def _is_storage_failure(error: BaseException) -> bool:
    """A database error that is the machine's doing (read-only, full, locked file), not a bug."""
    try:
        from sqlalchemy.exc import OperationalError
    except ImportError:  # pragma: no cover - sqlalchemy is a dependency
        return False
    if not isinstance(error, OperationalError):
        return False
    text = str(error.orig).lower()
    return any(words in text for words in ("readonly", "read-only", "disk is full", "disk full",
                                           "unable to open", "disk i/o", "no space"))


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
    except OSError as exc:
        sys.exit(report_system_error(exc))
    except Exception as exc:  # click usage errors carry their own exit code
        code = getattr(exc, "exit_code", None)
        show = getattr(exc, "show", None)
        if code is not None and show is not None:
            show()
            sys.exit(code)
        if _is_storage_failure(exc):
            sys.exit(report_system_error(exc))
        raise
