"""Migrations: a fresh database reaches the newest schema, and the schema matches tables.py."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from porch.store import migrate
from porch.store.db import sync_url
from porch.store.tables import metadata


def test_head_constant_is_the_newest_migration() -> None:
    assert migrate.script_head() == migrate.HEAD


def _declarable(name: str | None, type_: str, parent_names: object) -> bool:
    """Leave out the search index's FTS5 tables (migration 0008): tables.py cannot declare
    virtual tables."""
    return not (type_ == "table" and (name or "").startswith("conversation_fts"))


# Alembic cannot compare expression indexes (uq_tags_sibling_name) and says so; the index is
# checked by its behaviour in tests/test_tags.py instead.
@pytest.mark.filterwarnings("ignore:autogenerate skipping:UserWarning")
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection:sqlalchemy.exc.SAWarning")
def test_migrated_schema_matches_the_table_definitions(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    url = f"sqlite:///{tmp_path / 'm.db'}"
    migrate.upgrade(url)
    migrate.upgrade(url)  # a second run is a no-op
    engine = sa.create_engine(sync_url(url))
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": _declarable})
        diff = compare_metadata(context, metadata)
        assert migrate.current(conn) == migrate.HEAD
    engine.dispose()
    assert diff == [], f"tables.py and the migrations disagree: {diff}"
