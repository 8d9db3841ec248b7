"""What every subcommand shares: settings, a migrated database, the company it acts on."""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

import sqlalchemy as sa

from porch import config, ids
from porch.config import Settings
from porch.domain import companies
from porch.store import migrate
from porch.store.db import Database, Query, connect
from porch.store.tables import companies as companies_table

_ALL = Query(sa.select(companies_table.c.id, companies_table.c.name).order_by(companies_table.c.id))


def add_data_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data-dir", default=None, help="where Porch keeps its files (default ./porch-data)"
    )


def settings_of(args: argparse.Namespace) -> Settings:
    s = config.load(args.data_dir)
    s.data_dir.mkdir(parents=True, exist_ok=True)
    return s


async def open_db(settings: Settings) -> Database:
    """Migrate, then open the database."""
    migrate.upgrade(settings.database_url)
    return await connect(
        settings.database_url, sqlite_synchronous=settings.sqlite_synchronous, pool_size=2
    )


def fail(message: str, code: int = 1) -> NoReturn:
    print(f"porch: {message}", file=sys.stderr)
    raise SystemExit(code)


async def all_companies(db: Database) -> list[tuple[int, str]]:
    return [(r["id"], r["name"]) for r in await db.fetch_all(_ALL)]


async def pick_company(db: Database, ref: str | None) -> int:
    """The company named by ``ref`` (a ``cmp_`` id or a name), or the only one there is."""
    if ref is None:
        found = await all_companies(db)
        if len(found) != 1:
            fail("name the company with --company (cmp_… or its name)")
        return found[0][0]
    key = ids.decode(ids.COMPANY, ref)
    if key is not None:
        return key
    by_name = await companies.find_by_name(db, name=ref)
    if by_name is None:
        fail(f"no company {ref!r}")
    return by_name
