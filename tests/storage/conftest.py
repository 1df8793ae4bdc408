"""The store tests' fixtures (the helpers they import are in storage_support, a module name of its
own: two test folders' `conftest` modules would shadow each other on import)."""

from storage_support import store_url, workspace

__all__ = ["store_url", "workspace"]
