"""``porch teammates create|list``: teammates from the command line, as the administrator."""

from __future__ import annotations

import argparse
import getpass
import json
import sys

from porch import ids
from porch.cli.common import add_data_dir, fail
from porch.cli.teams import run_as_admin
from porch.domain import passwords
from porch.domain import teammates as teammates_domain
from porch.domain.principal import Principal
from porch.domain.teams import access_team
from porch.store import teammates as store
from porch.store.db import Database


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("teammates", help="manage teammates")
    tsub = p.add_subparsers(dest="teammates_cmd", required=True)
    c = tsub.add_parser("create", help="create a teammate")
    add_data_dir(c)
    c.add_argument("--company", default=None, help="cmp_… or the company's name")
    c.add_argument("--email", required=True)
    c.add_argument("--username", default=None, help="default: from the email's local part")
    c.add_argument("--first-name", default="")
    c.add_argument("--last-name", default="")
    c.add_argument("--admin", action="store_true", help="make the teammate a company admin")
    c.add_argument(
        "--team", action="append", default=[], help="a team (tim_…) to join (repeatable)"
    )
    c.add_argument(
        "--allow-private-api-access",
        action="store_true",
        help="let private-scoped API tokens reach this teammate's private resources",
    )
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=create)
    ls = tsub.add_parser("list", help="list the company's teammates")
    add_data_dir(ls)
    ls.add_argument("--company", default=None)
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=list_)
    pw = tsub.add_parser(
        "set-password", help="set a teammate's web sign-in password (OAuth consent page)"
    )
    add_data_dir(pw)
    pw.add_argument("--company", default=None)
    pw.add_argument("teammate", help="tea_… or the teammate's email")
    pw.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    pw.set_defaults(func=set_password)


def teammate_json(tm: store.Teammate, team_ids: list[int]) -> dict[str, object]:
    return {
        "id": ids.encode(ids.TEAMMATE, tm.id),
        "email": tm.email,
        "username": tm.username,
        "first_name": tm.first_name,
        "last_name": tm.last_name,
        "is_admin": tm.is_admin,
        "allow_private_api_access": tm.api_private_access,
        "team_ids": [ids.encode(ids.TEAM, t) for t in sorted(team_ids)],
    }


def create(args: argparse.Namespace) -> None:
    for ref in args.team:
        if ids.decode(ids.TEAM, ref) is None:
            fail(f"not a team id: {ref!r}")

    async def action(db: Database, principal: Principal) -> dict[str, object]:
        teams = [(await access_team(db, principal=principal, ref=ref)).id for ref in args.team]
        tm = await teammates_domain.do_create_teammate(
            db,
            principal=principal,
            email=args.email,
            username=args.username,
            first_name=args.first_name,
            last_name=args.last_name,
            is_admin=args.admin,
            api_private_access=args.allow_private_api_access,
            team_ids=teams,
        )
        return teammate_json(tm, teams)

    out = run_as_admin(args, action)
    if args.json:
        print(json.dumps(out))
    else:
        print(f"Teammate {out['email']} created: {out['id']}")


def list_(args: argparse.Namespace) -> None:
    async def action(db: Database, principal: Principal) -> list[dict[str, object]]:
        found = await teammates_domain.list_teammates(db, principal=principal)
        return [teammate_json(t, await store.team_ids_of(db, key=t.id)) for t in found]

    rows = run_as_admin(args, action)
    if args.json:
        print(json.dumps(rows))
        return
    for r in rows:
        admin = "admin" if r["is_admin"] else "-"
        teams = ",".join(r["team_ids"])  # type: ignore[arg-type]
        print(f"{r['id']}\t{r['email']}\t{r['username']}\t{admin}\t{teams}")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("New password: ")
    if getpass.getpass("Again: ") != first:
        fail("the passwords differ")
    return first


def set_password(args: argparse.Namespace) -> None:
    password = _read_password(args.password_stdin)

    async def action(db: Database, principal: Principal) -> str:
        tm = await teammates_domain.access_teammate(db, principal=principal, ref=args.teammate)
        await passwords.do_set_password(
            db, principal=principal, teammate_id=tm.id, password=password
        )
        return tm.email

    print(f"Password of {run_as_admin(args, action)} set; their open sessions are signed out.")
