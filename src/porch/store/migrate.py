"""Bring a database to the newest schema with Alembic.

Both ``porch serve`` and ``porch init`` call ``upgrade`` before touching the database, so a
fresh data dir and an old one behave the same.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from porch.store.db import sqlite_path, sync_url

if TYPE_CHECKING:
    from alembic.config import Config

_HERE = Path(__file__).parent / "migrations"
# The newest revision. Checked against Alembic's own view of the scripts by the tests, so that
# a database already at it is recognised without importing Alembic (most CLI calls).
HEAD = "0019"


def _config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_HERE))
    return cfg


def _engine(url: str) -> sa.Engine:
    if url.startswith("sqlite"):
        Path(sqlite_path(url)).parent.mkdir(parents=True, exist_ok=True)
    return sa.create_engine(sync_url(url), poolclass=sa.pool.NullPool)


def current(conn: sa.Connection) -> str | None:
    """The revision the database is at, or None for an empty database."""
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(url: str) -> None:
    """Apply every migration not yet applied to the database at ``url``."""
    from alembic import command

    engine = _engine(url)
    try:
        with engine.connect() as conn:
            if current(conn) == HEAD:
                return
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # Several processes may start at once against one PostgreSQL; one migrates.
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(7411)"))
            else:
                conn.exec_driver_sql("PRAGMA journal_mode=WAL")
            cfg = _config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    finally:
        engine.dispose()


def revision(url: str, message: str) -> None:
    """Autogenerate a migration from the difference between ``tables.py`` and ``url``."""
    from alembic import command

    engine = _engine(url)
    with engine.begin() as conn:
        cfg = _config()
        cfg.attributes["connection"] = conn
        command.revision(cfg, message=message, autogenerate=True)
    engine.dispose()


def script_head() -> str | None:
    """The head revision according to the migration scripts themselves."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config()).get_current_head()
