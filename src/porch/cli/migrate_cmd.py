"""``porch migrate``: bring the database to the newest schema and stop."""

from __future__ import annotations

import argparse

from porch.cli.common import add_data_dir, settings_of
from porch.store import migrate


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("migrate", help="apply database migrations")
    add_data_dir(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> None:
    settings = settings_of(args)
    migrate.upgrade(settings.database_url)
    print("Database is at the newest schema.")
