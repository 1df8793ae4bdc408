"""Use cases over the store: workspaces, imports, as-of datasets; each owns its transaction."""
