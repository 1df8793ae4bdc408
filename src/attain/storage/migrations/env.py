"""Alembic environment: migrate the connection handed over by attain.storage.database."""

from __future__ import annotations

from alembic import context

from attain.storage.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True,
                  compare_type=True)
with context.begin_transaction():
    context.run_migrations()
