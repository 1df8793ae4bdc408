.PHONY: check lint contracts test

check: lint contracts test

lint:
	ruff check src tests

contracts:
	lint-imports

test:
	pytest
