"""``porch tokens create|list|revoke``."""

from __future__ import annotations

import argparse
import asyncio
import json

from porch import ids
from porch.cli.common import add_data_dir, fail, open_db, pick_company, settings_of
from porch.domain import tokens
from porch.domain.errors import PorchError
from porch.timeutil import to_api


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("tokens", help="manage API tokens")
    tsub = p.add_subparsers(dest="tokens_cmd", required=True)
    c = tsub.add_parser("create", help="issue a token (its secret is shown once)")
    add_data_dir(c)
    c.add_argument("--company", default=None)
    c.add_argument("--name", default="api")
    c.add_argument(
        "--namespace",
        action="append",
        default=None,
        help="shared, private, provisioning or team:tim_… (repeatable; default shared+private)",
    )
    c.add_argument(
        "--permission",
        action="append",
        default=None,
        help="read, write, delete or send (repeatable; default all)",
    )
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=create)
    ls = tsub.add_parser("list", help="list tokens (never their secrets)")
    add_data_dir(ls)
    ls.add_argument("--company", default=None)
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=list_)
    r = tsub.add_parser("revoke", help="revoke a token by its tok_ id")
    add_data_dir(r)
    r.add_argument("--company", default=None)
    r.add_argument("token_id")
    r.set_defaults(func=revoke)


def _namespaces(raw: list[str] | None) -> list[str]:
    out = []
    for ns in raw or ["shared", "private"]:
        if ns.startswith("team:"):
            key = ids.decode(ids.TEAM, ns[5:])
            if key is None:
                fail(f"unknown team {ns[5:]!r}")
            out.append(f"team:{key}")
        else:
            out.append(ns)
    return out


def token_json(t: tokens.Token) -> dict[str, object]:
    return {
        "id": ids.encode(ids.TOKEN, t.id),
        "name": t.name,
        "namespaces": [
            "team:" + ids.encode(ids.TEAM, int(n[5:])) if n.startswith("team:") else n
            for n in t.namespaces
        ],
        "permissions": t.permissions,
        "created_at": to_api(t.created_at),
        "revoked_at": to_api(t.revoked_at),
    }


def create(args: argparse.Namespace) -> None:
    settings = settings_of(args)

    async def go() -> tuple[tokens.Token, str]:
        db = await open_db(settings)
        try:
            company = await pick_company(db, args.company)
            return await tokens.do_create_token(
                db,
                company_id=company,
                name=args.name,
                namespaces=_namespaces(args.namespace),
                permissions=args.permission or list(tokens.ALL_PERMISSIONS),
            )
        except PorchError as exc:
            fail(exc.message)
        finally:
            await db.close()

    token, secret = asyncio.run(go())
    if args.json:
        print(json.dumps({**token_json(token), "token": secret}))
    else:
        print(f"Token {ids.encode(ids.TOKEN, token.id)} created. Its secret, shown once:")
        print(secret)


def list_(args: argparse.Namespace) -> None:
    settings = settings_of(args)

    async def go() -> list[tokens.Token]:
        db = await open_db(settings)
        try:
            return await tokens.list_tokens(db, company_id=await pick_company(db, args.company))
        finally:
            await db.close()

    found = asyncio.run(go())
    if args.json:
        print(json.dumps([token_json(t) for t in found]))
        return
    for t in found:
        j = token_json(t)
        state = "revoked" if t.revoked_at else "active"
        namespaces = ",".join(str(n) for n in j["namespaces"])  # type: ignore[attr-defined]
        print(f"{j['id']}\t{t.name}\t{state}\t{namespaces}\t{','.join(t.permissions)}")


def revoke(args: argparse.Namespace) -> None:
    settings = settings_of(args)
    key = ids.decode(ids.TOKEN, args.token_id)
    if key is None:
        fail(f"not a token id: {args.token_id!r}")

    async def go() -> None:
        db = await open_db(settings)
        try:
            company = await pick_company(db, args.company)
            await tokens.do_revoke_token(db, company_id=company, key=key)
        except PorchError as exc:
            fail(exc.message)
        finally:
            await db.close()

    asyncio.run(go())
    print(f"Token {args.token_id} revoked (running servers stop accepting it within seconds).")
