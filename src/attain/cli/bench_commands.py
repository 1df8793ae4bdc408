"""`attain bench`: time the vectorized executor against a hand-written DuckDB baseline."""

from __future__ import annotations

import json
import tempfile
from dataclasses import asdict
from pathlib import Path

import typer

from attain.cli.consoles import stdout_console
from attain.core.errors import InputError


def register(app: typer.Typer) -> None:
    app.command("bench")(bench)


def bench(
    payees: int = typer.Option(100_000, help="Payees in the synthetic quarter."),
    rows: int = typer.Option(10_000_000, help="Credited rows (deals, with one in ten split between two payees)."),
    output_format: str = typer.Option("text", "--format", help="text or json."),
    executor: str = typer.Option("duckdb", help="duckdb, postgres or spark."),
    workdir: Path | None = typer.Option(None, help="Where the generated Parquet quarter is kept (reused)."),
    reference_payees: int = typer.Option(200, help="Payees in the reference engine's sample."),
    memory_limit: str = typer.Option("600MB", help="DuckDB memory limit for both runs (DuckDB spills joins and "
                                                   "aggregations to disk beyond it); 'none' for DuckDB's default."),
    repeat: int = typer.Option(3, min=1, help="Runs of each; the best is reported (the first compiles the plan)."),
    keys: str = typer.Option("text", help="Deal and payee ids: text (as CRM exports have them) or integer "
                                          "(a warehouse's surrogate keys)."),
    threads: int | None = typer.Option(None, min=1, help="DuckDB worker threads for the baseline and, with the "
                                                         "duckdb executor, the vectorized run (default: one "
                                                         "per core). The reference engine runs on one core "
                                                         "either way."),
) -> None:
    """Generate a quarter (splits, cancellations; milestone + marginal tiers + a gate + a cap), run it
    vectorized and as hand-written DuckDB SQL in the same process, and the reference engine on a sample."""
    from attain.engine.vectorized.bench import KEYS, run

    if output_format not in ("text", "json"):
        raise InputError(f"--format is text or json, not {output_format!r}")
    if keys not in KEYS:
        raise InputError(f"--keys is text or integer, not {keys!r}")
    if payees < 1 or rows < 1:
        raise InputError("--payees and --rows must be positive")
    folder = workdir or Path(tempfile.gettempdir()) / "attain-bench"
    result = run(payees, rows, folder, executor=executor, reference_payees=min(reference_payees, payees),
                 repeat=repeat, memory_limit=None if memory_limit.lower() == "none" else memory_limit, keys=keys,
                 threads=threads)
    if output_format == "json":
        typer.echo(json.dumps(asdict(result)))
        return
    console = stdout_console()
    console.print(f"{result.rows:,} credited rows ({result.deals:,} deals), {result.payees:,} payees, "
                  f"{result.keys} keys, executor {result.executor}, {result.threads} DuckDB thread(s)")
    if result.load_seconds is not None:
        console.print(f"the quarter copied into PostgreSQL tables in {result.load_seconds:.1f} s (not timed below; "
                      f"the baseline and the floors read the Parquet files in DuckDB)")
    console.print(f"vectorized: {result.seconds:.3f} s, {result.rows_per_second:,} rows/s "
                  f"(first run {result.first_run_seconds:.3f} s, of which compiling the plan "
                  f"{result.compile_seconds:.3f} s)")
    console.print(f"hand-written DuckDB SQL: {result.baseline_seconds:.3f} s "
                  f"(vectorized / baseline = {result.ratio_to_baseline:.2f}x); "
                  f"same amounts: {'yes' if result.agrees_with_baseline else 'NO'}")
    if result.postgres_baseline_seconds is not None:
        console.print(f"the same hand-written SQL run by PostgreSQL on its tables: "
                      f"{result.postgres_baseline_seconds:.3f} s "
                      f"(vectorized / that = {result.seconds / result.postgres_baseline_seconds:.2f}x)")
    console.print(f"one pass over the deals summed per owner (the floor): {result.scan_seconds:.3f} s "
                  f"(vectorized / floor = {result.ratio_to_scan:.2f}x)")
    console.print(f"the same pass with each deal id matched to the split deals (the floor of crediting): "
                  f"{result.credit_floor_seconds:.3f} s (vectorized / crediting floor = "
                  f"{result.ratio_to_credit_floor:.2f}x)")
    reference = max(result.reference_rows_per_second, 1)
    scan_speedup = result.rows / result.scan_seconds / reference
    credit_speedup = result.rows / result.credit_floor_seconds / reference
    console.print(f"reference engine (sample): {result.reference_rows_per_second:,} rows/s; "
                  f"vectorized is {_times(result.speedup_vs_reference)} faster (the floor: {_times(scan_speedup)}, "
                  f"the floor of crediting: {_times(credit_speedup)})")
    console.print(f"peak memory: {result.peak_rss_mb:.0f} MB")


def _times(ratio: float) -> str:
    """A speed-up as people read it: 279x, 12x, 0.35x."""
    return f"{ratio:,.0f}x" if ratio >= 10 else f"{ratio:.2f}x"
