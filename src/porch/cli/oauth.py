"""``porch oauth grants|revoke-grant``: the OAuth grants of an application, as the admin."""

from __future__ import annotations

import argparse
import json

from porch import ids
from porch.cli.common import add_data_dir, fail
from porch.cli.teams import run_as_admin
from porch.domain import oauth
from porch.domain.principal import Principal
from porch.store.db import Database
from porch.timeutil import to_api


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("oauth", help="OAuth grants of applications")
    osub = p.add_subparsers(dest="oauth_cmd", required=True)
    ls = osub.add_parser("grants", help="list an application's grants")
    add_data_dir(ls)
    ls.add_argument("--company", default=None)
    ls.add_argument("--app", required=True, help="the application's uid (its OAuth client_id)")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=list_grants)
    r = osub.add_parser("revoke-grant", help="revoke a grant: its tokens stop working")
    add_data_dir(r)
    r.add_argument("--company", default=None)
    r.add_argument("--app", required=True)
    r.add_argument("grant_id", help="oag_…")
    r.set_defaults(func=revoke_grant)


def list_grants(args: argparse.Namespace) -> None:
    async def action(db: Database, principal: Principal) -> list[dict[str, object]]:
        app = await oauth.access_application(db, principal=principal, uid=args.app)
        return [
            {
                "id": ids.encode(ids.OAUTH_GRANT, g.id),
                "teammate_id": ids.encode(ids.TEAMMATE, g.teammate_id),
                "created_at": to_api(g.created_at),
                "revoked_at": to_api(g.revoked_at),
            }
            for g in await oauth.list_grants(db, principal=principal, app=app)
        ]

    rows = run_as_admin(args, action)
    if args.json:
        print(json.dumps(rows))
        return
    for r in rows:
        state = "revoked" if r["revoked_at"] is not None else "active"
        print(f"{r['id']}\t{r['teammate_id']}\t{r['created_at']}\t{state}")


def revoke_grant(args: argparse.Namespace) -> None:
    key = ids.decode(ids.OAUTH_GRANT, args.grant_id)
    if key is None:
        fail(f"not a grant id: {args.grant_id!r}")

    async def action(db: Database, principal: Principal) -> None:
        app = await oauth.access_application(db, principal=principal, uid=args.app)
        await oauth.do_revoke_grant(db, principal=principal, app=app, grant_id=key)

    run_as_admin(args, action)
    print(
        f"Grant {args.grant_id} revoked (running servers stop accepting its tokens within seconds)."
    )
