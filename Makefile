.PHONY: check lint contracts test test-fast mutate mutate-report

# The pure layers' tests (core, crediting, engine, ledger) without a server, the slow end-to-end
# ledger runs, or the ledger's executor tests (DuckDB compiles a plan per call): the selection the
# mutation run uses, and the quick loop while editing money code.
FAST_TESTS = tests/core tests/crediting tests/engine tests/ledger tests/mutation_gaps \
	-m "not postgres and not slow" --ignore=tests/ledger/test_run_executors.py

check: lint contracts test

lint:
	ruff check src tests

contracts:
	lint-imports

test:
	pytest

test-fast:
	pytest -q -p no:cacheprovider $(FAST_TESTS)

# Mutation testing of the money code ([tool.mutmut] in pyproject.toml; docs/testing.md).
# Run from a clean copy each time: a stale mutants/ folder keeps old source.
mutate:
	rm -rf mutants
	env -u PYTHONPATH mutmut run --max-children 2
	$(MAKE) mutate-report

mutate-report:
	mutmut results --all true | python scripts/mutation_summary.py
