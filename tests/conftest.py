"""Test-session settings shared by every suite.

Hypothesis profiles: `dev` (the default) draws new examples on every run; `ci` draws the same
examples every run (derandomized), so a continuous-integration run is reproducible and its time is
known. Choose one with HYPOTHESIS_PROFILE (the CI script sets `ci`).

Required suites: with CI set, a test of a required suite (marked postgres, browser or spark) that
would be skipped, because its server, browser or Java is missing, fails instead, with the reason
naming what is missing; the summary closes with how many tests of each required suite ran.

Parallel runs: under pytest-xdist each worker uses a PostgreSQL database of its own (the name in
ATTAIN_TEST_POSTGRES_URL with the worker's id appended; the fixtures create it), so two workers
never reset each other's schema.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

settings.register_profile("dev")
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

REQUIRED_SUITES = ("postgres", "browser", "spark")
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/attain_test"


def _worker_postgres_url() -> None:
    """Give this xdist worker its own test database (before any test module reads the URL)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return
    url = os.environ.get("ATTAIN_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    base, _, name = url.rpartition("/")
    suffix = f"_{worker}"
    if not name.endswith(suffix):
        os.environ["ATTAIN_TEST_POSTGRES_URL"] = f"{base}/{name}{suffix}"


_worker_postgres_url()


# A test that leaves one of its variants out on purpose says so with this prefix in its skip reason.
DELIBERATE_SKIP = "by design:"


def required_suites_enforced() -> bool:
    """CI requires its suites; ATTAIN_REQUIRE_SUITES=0 lets a CI-like run skip them on purpose."""
    flag = os.environ.get("ATTAIN_REQUIRE_SUITES")
    if flag is not None:
        return flag not in ("", "0", "false", "no")
    return bool(os.environ.get("CI")) or bool(os.environ.get("ATTAIN_REQUIRE_POSTGRES"))


def _suites_of(keywords: object) -> list[str]:
    return [suite for suite in REQUIRED_SUITES if suite in keywords]  # type: ignore[operator]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    if not report.skipped or not required_suites_enforced() or hasattr(report, "wasxfail"):
        return
    suites = _suites_of(item.keywords)
    if not suites:
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    if DELIBERATE_SKIP in reason:  # a variant left out on purpose, not a missing server or browser
        return
    report.outcome = "failed"
    report.longrepr = (f"required suite {'/'.join(suites)} cannot be skipped in CI: {reason} "
                       "(install or start what is missing; ATTAIN_REQUIRE_SUITES=0 allows the skip)")


_ran: dict[str, int] = dict.fromkeys(REQUIRED_SUITES, 0)
_failed: dict[str, int] = dict.fromkeys(REQUIRED_SUITES, 0)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Count each required suite's tests that ran (on the controller too, from workers' reports)."""
    if report.when == "call":
        for suite in _suites_of(report.keywords):
            _ran[suite] += 1
    elif report.failed:
        for suite in _suites_of(report.keywords):
            _failed[suite] += 1


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # type: ignore[no-untyped-def]
    if hasattr(config, "workerinput"):
        return
    figures = ", ".join(f"{suite} {_ran[suite]} ran" + (f" ({_failed[suite]} failed to start)"
                                                      if _failed[suite] else "") for suite in REQUIRED_SUITES)
    terminalreporter.write_line(f"required suites: {figures}")
