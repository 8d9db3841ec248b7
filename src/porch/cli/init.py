"""``porch init``: create a company with an admin teammate and an admin API token."""

from __future__ import annotations

import argparse
import asyncio
import json

from porch import ids
from porch.cli.common import add_data_dir, fail, open_db, settings_of
from porch.domain import companies
from porch.domain.ratelimit import DEFAULT_PER_MINUTE
from porch.store.db import Database


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("init", help="create a company, its admin teammate and an API token")
    add_data_dir(p)
    p.add_argument("--company", required=True, help="the company's name")
    p.add_argument("--admin-email", default=None, help="the admin teammate's email")
    p.add_argument("--json", action="store_true", help="end with one line of JSON")
    p.set_defaults(func=run)


async def create(db: Database, name: str, admin_email: str | None) -> companies.NewCompany:
    if await companies.find_by_name(db, name=name) is not None:
        fail(f"a company named {name!r} already exists; use 'porch tokens create' for a new token")
    email = (
        admin_email
        or "admin@" + ("".join(c for c in name.lower() if c.isalnum()) or "porch") + ".example"
    )
    return await companies.do_create_company(
        db, name=name, admin_email=email, rate_limit_per_minute=DEFAULT_PER_MINUTE
    )


def summary(new: companies.NewCompany) -> dict[str, str]:
    return {
        "company_id": ids.encode(ids.COMPANY, new.company_id),
        "teammate_id": ids.encode(ids.TEAMMATE, new.teammate_id),
        "token": new.token,
    }


def run(args: argparse.Namespace) -> None:
    settings = settings_of(args)

    async def go() -> companies.NewCompany:
        db = await open_db(settings)
        try:
            return await create(db, args.company, args.admin_email)
        finally:
            await db.close()

    new = asyncio.run(go())
    out = summary(new)
    if args.json:
        print(json.dumps(out))
    else:
        print(f"Company {args.company!r} created: {out['company_id']}")
        print(f"Admin teammate: {out['teammate_id']}")
        print(f"API token (shown once): {out['token']}")
