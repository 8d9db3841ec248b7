"""Alembic environment: runs migrations on the connection handed over by ``porch.store.migrate``."""

from __future__ import annotations

from alembic import context

from porch.store.tables import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through porch.store.migrate (porch migrate)")


def _declared(name: str | None, type_: str, parent_names: object) -> bool:
    """Autogenerate leaves alone the search index's tables (migration 0008): the FTS5 table and
    its shadow tables on SQLite, the tsvector table on PostgreSQL, none of them in tables.py."""
    found = name or ""
    return not (
        type_ == "table"
        and (found.startswith("conversation_fts") or found == "conversation_search")
    )


context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    include_name=_declared,
)
with context.begin_transaction():
    context.run_migrations()
