"""Per-module figures of a mutation run: reads `mutmut results --all true` and the list of
equivalent mutants (docs/mutation-equivalents.txt), prints mutants, killed, survived, untested,
equivalent and the share of non-equivalent mutants killed, per module and in all.

    mutmut results --all true | python scripts/mutation_summary.py [--min 90]

`--min` makes the exit status 1 when the share killed in all is below the given percentage.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

EQUIVALENTS = Path(__file__).resolve().parent.parent / "docs" / "mutation-equivalents.txt"
COLUMNS = ("mutants", "killed", "survived", "no tests", "timeout", "equivalent")


def equivalent_names(path: Path = EQUIVALENTS) -> set[str]:
    """The mutant names listed as equivalent (one a line, name then its reason; # comments)."""
    if not path.exists():
        return set()
    names = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            names.add(line.split()[0])
    return names


def module_of(mutant: str) -> str:
    return re.split(r"\.x_|\.xǁ", mutant, maxsplit=1)[0]


def tally(lines: list[str], equivalent: set[str]) -> dict[str, Counter[str]]:
    figures: dict[str, Counter[str]] = defaultdict(Counter)
    for raw in lines:
        name, sep, status = raw.strip().rpartition(": ")
        if not sep:
            continue
        row = figures[module_of(name)]
        row["mutants"] += 1
        if status != "killed" and name in equivalent:
            row["equivalent"] += 1
        else:
            row[status] += 1
    return figures


def share_killed(row: Counter[str]) -> float:
    counted = row["mutants"] - row["equivalent"]
    return 100.0 * (row["killed"] + row["timeout"]) / counted if counted else 100.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min", type=float, default=None, help="fail below this share killed (percent)")
    args = parser.parse_args()
    figures = tally(sys.stdin.read().splitlines(), equivalent_names())
    total: Counter[str] = Counter()
    print(f"{'module':<40}" + "".join(f"{c:>11}" for c in COLUMNS) + f"{'killed %':>10}")
    for module in sorted(figures):
        row = figures[module]
        total.update(row)
        print(f"{module:<40}" + "".join(f"{row[c]:>11}" for c in COLUMNS) + f"{share_killed(row):>9.1f}%")
    print(f"{'all':<40}" + "".join(f"{total[c]:>11}" for c in COLUMNS) + f"{share_killed(total):>9.1f}%")
    if args.min is not None and share_killed(total) < args.min:
        print(f"mutation: {share_killed(total):.1f}% of non-equivalent mutants killed, below {args.min}%")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
