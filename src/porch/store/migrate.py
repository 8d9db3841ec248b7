"""Bring a database to the newest schema with Alembic.

Both ``porch serve`` and ``porch init`` call ``upgrade`` before touching the database, so a
fresh data dir and an old one behave the same.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from porch.store.db import sqlite_path, sync_url

_HERE = Path(__file__).parent / "migrations"


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_HERE))
    return cfg


def _engine(url: str) -> sa.Engine:
    if url.startswith("sqlite"):
        Path(sqlite_path(url)).parent.mkdir(parents=True, exist_ok=True)
    return sa.create_engine(sync_url(url), poolclass=sa.pool.NullPool)


def upgrade(url: str) -> None:
    """Apply every migration not yet applied to the database at ``url``."""
    engine = _engine(url)
    try:
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
    engine = _engine(url)
    with engine.begin() as conn:
        cfg = _config()
        cfg.attributes["connection"] = conn
        command.revision(cfg, message=message, autogenerate=True)
    engine.dispose()
