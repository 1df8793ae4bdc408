"""The invariant checks every run makes and records: splits sum to 100%, per-deal parts sum to
their lines, pools sum, caps and floors hold, and the entries posted equal the run's totals.

Each check has a stable name, passes or fails, and says what it saw; `period publish` refuses a
period whose last run failed one, naming it. A check never changes what is posted: a failure is
a finding about the inputs or the engine that a person must look at before statements go out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from attain.core.money import ZERO
from attain.engine.results import CalcResult, PayoutLine
from attain.ledger.entries import Entry

# Failures listed in a check's detail before "and N more".
_SHOWN = 5

CHECK_NAMES = ("splits_sum_to_100", "deal_parts_sum_to_lines", "pools_sum", "caps_hold", "entries_equal_totals")


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    """One invariant checked by a run."""

    name: str
    passed: bool
    detail: str

    def as_record(self) -> tuple[str, bool, str]:
        return (self.name, self.passed, self.detail)


def _check(name: str, failures: Sequence[str], checked: int, what: str) -> Check:
    if not failures:
        return Check(name=name, passed=True, detail=f"{checked} {what} checked")
    shown = "; ".join(failures[:_SHOWN]) + (f"; and {len(failures) - _SHOWN} more" if len(failures) > _SHOWN else "")
    return Check(name=name, passed=False, detail=f"{len(failures)} of {checked} {what} fail: {shown}")


def _lines(results: Sequence[CalcResult]) -> list[PayoutLine]:
    return [line for result in results for line in result.lines]


def splits_sum_to_100(results: Sequence[CalcResult]) -> Check:
    """Every deal with split rows shares its credit exactly (crediting reports any that do not)."""
    refused = sorted({p.subject for r in results for p in r.problems if p.code == "split_sum"})
    credited = {d.deal_id for line in _lines(results) for d in line.deals}
    return _check("splits_sum_to_100", [f"{d}: its splits do not sum to 100%" for d in refused],
                  len(credited) + len(refused), "deals")


def deal_parts_sum_to_lines(results: Sequence[CalcResult]) -> Check:
    """A line's per-deal parts add up to the line's amount exactly."""
    lines = [line for line in _lines(results) if line.deals]
    failures = [f"{line.participant_id} {line.plan_id}/{line.component_id} {line.period}: deals sum to "
                f"{sum((d.amount for d in line.deals), ZERO)}, line is {line.amount}"
                for line in lines if sum((d.amount for d in line.deals), ZERO) != line.amount]
    return _check("deal_parts_sum_to_lines", failures, len(lines), "lines with deals")


def pools_sum(results: Sequence[CalcResult]) -> Check:
    """Each team pool is handed out exactly: its members' shares add up to the pool."""
    pools: dict[tuple[str, str, str, str], list[PayoutLine]] = defaultdict(list)
    for line in _lines(results):
        if line.pool is not None:
            pools[(line.plan_id, line.component_id, line.period, line.pool.team)].append(line)
    failures = []
    for (plan_id, component_id, period, team), lines in sorted(pools.items()):
        pool = lines[0].pool
        assert pool is not None
        if {line.participant_id for line in lines} != set(pool.members):
            continue  # a member outside this plan's population: the pool is checked where it is whole
        shares = sum((share[4] for line in lines if line.pool for share in line.pool.buckets), ZERO)
        if shares != pool.pool_amount:
            failures.append(f"{plan_id}/{component_id} {period} team {team}: shares {shares}, pool {pool.pool_amount}")
    return _check("pools_sum", failures, len(pools), "team pools")


def caps_hold(results: Sequence[CalcResult]) -> Check:
    """No amount after a cap is above it, none after a floor below it."""
    limits = [(line, limit) for line in _lines(results) for limit in line.limits]
    failures = [f"{line.participant_id} {line.plan_id}/{line.component_id} {line.period}: {limit.kind} "
                f"{limit.limit} but {limit.after}"
                for line, limit in limits
                if (limit.kind == "cap" and limit.after > limit.limit)
                or (limit.kind == "floor" and limit.after < limit.limit)]
    return _check("caps_hold", failures, len(limits), "caps and floors")


def entries_equal_totals(entries: Sequence[Entry], stored: Sequence[Entry], totals: Mapping[str, Decimal]) -> Check:
    """What the store holds for the run is what the run computed, and sums to its recorded totals."""
    failures = []
    if list(stored) != list(entries):
        failures.append(f"the store holds {len(stored)} entries for the run, it computed {len(entries)}")
    sums: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for entry in stored:
        sums[entry.currency] += entry.amount
    summed, recorded = dict(sorted(sums.items())), dict(sorted(totals.items()))
    if summed != recorded:
        failures.append(f"stored entries sum to {summed}, totals are {recorded}")
    return _check("entries_equal_totals", failures, len(entries), "entries")


def check_run(results: Sequence[CalcResult], entries: Sequence[Entry], stored: Sequence[Entry],
              totals: Mapping[str, Decimal]) -> tuple[Check, ...]:
    """Every invariant check of a run, in a fixed order (CHECK_NAMES)."""
    return (splits_sum_to_100(results), deal_parts_sum_to_lines(results), pools_sum(results),
            caps_hold(results), entries_equal_totals(entries, stored, totals))
