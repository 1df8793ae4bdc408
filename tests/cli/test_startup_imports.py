"""Start-up stays light: loading the command line imports no database, dataframe or template library;
each command imports what it needs when it runs."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("sqlalchemy", "ibis", "duckdb", "pyarrow", "pandas", "jinja2")


def test_loading_the_command_line_imports_no_heavy_library():
    probe = f"import attain.cli.main, sys; print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
