"""Alembic environment: runs migrations on the connection handed over by ``porch.store.migrate``."""

from __future__ import annotations

from alembic import context

from porch.store.tables import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through porch.store.migrate (porch migrate)")
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
