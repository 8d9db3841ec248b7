"""``porch teams create|list``: teams from the command line, as the company's administrator."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import TypeVar

from porch import ids
from porch.cli.common import add_data_dir, all_companies, fail, open_db, pick_company, settings_of
from porch.domain import companies
from porch.domain import teams as teams_domain
from porch.domain.auth import principal_from
from porch.domain.errors import PorchError
from porch.domain.principal import NAMESPACES, PERMISSIONS, Principal
from porch.store.db import Database
from porch.store.teams import Team

T = TypeVar("T")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("teams", help="manage teams")
    tsub = p.add_subparsers(dest="teams_cmd", required=True)
    c = tsub.add_parser("create", help="create a team")
    add_data_dir(c)
    c.add_argument("--company", default=None, help="cmp_… or the company's name")
    c.add_argument("--name", required=True, help="the team's name")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=create)
    ls = tsub.add_parser("list", help="list the company's teams")
    add_data_dir(ls)
    ls.add_argument("--company", default=None)
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=list_)


async def admin_principal(db: Database, company_ref: str | None) -> Principal:
    """The company's administrator: every namespace and permission, as ``porch init``'s token."""
    key = await pick_company(db, company_ref)
    if key not in {k for k, _ in await all_companies(db)}:
        fail(f"no company {company_ref!r}")
    company = await companies.get(db, company_id=key)
    return principal_from(
        token_id=None,
        company_id=key,
        namespaces=list(NAMESPACES),
        permissions=list(PERMISSIONS),
        rate_limit_per_minute=company.rate_limit_per_minute,
        rate_limit_burst=False,
    )


def run_as_admin(
    args: argparse.Namespace, action: Callable[[Database, Principal], Awaitable[T]]
) -> T:
    """Open the database, act as the administrator of ``--company``, turn errors into exits."""
    settings = settings_of(args)

    async def go() -> T:
        db = await open_db(settings)
        try:
            return await action(db, await admin_principal(db, args.company))
        except PorchError as exc:
            fail(exc.message)
        finally:
            await db.close()

    return asyncio.run(go())


def team_json(team: Team) -> dict[str, object]:
    return {"id": ids.encode(ids.TEAM, team.id), "name": team.name}


def create(args: argparse.Namespace) -> None:
    async def action(db: Database, principal: Principal) -> Team:
        return await teams_domain.do_create_team(db, principal=principal, name=args.name)

    team = run_as_admin(args, action)
    if args.json:
        print(json.dumps(team_json(team)))
    else:
        print(f"Team {team.name!r} created: {ids.encode(ids.TEAM, team.id)}")


def list_(args: argparse.Namespace) -> None:
    async def action(db: Database, principal: Principal) -> list[Team]:
        return await teams_domain.list_teams(db, principal=principal)

    found = run_as_admin(args, action)
    if args.json:
        print(json.dumps([team_json(t) for t in found]))
        return
    for t in found:
        print(f"{ids.encode(ids.TEAM, t.id)}\t{t.name}")
