"""The ledger tests' fixture (the plans, deals and helpers they import are in ledger_support, a
module name of its own: two test folders' `conftest` modules would shadow each other on import)."""

from ledger_support import ledger_url

__all__ = ["ledger_url"]
