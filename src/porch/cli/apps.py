"""``porch apps create|list|show|delete``: applications, as the admin API manages them."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from porch.cli.common import add_data_dir, fail, open_db, pick_company, settings_of
from porch.domain import applications as domain
from porch.domain.errors import PorchError
from porch.events import log
from porch.store.db import Database
from porch.timeutil import to_api


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("apps", help="manage applications (webhooks, OAuth clients)")
    asub = p.add_subparsers(dest="apps_cmd", required=True)
    c = asub.add_parser("create", help="register an app (its secret is shown)")
    add_data_dir(c)
    c.add_argument("--company", default=None)
    c.add_argument("--name", required=True)
    c.add_argument("--webhook-url", default=None)
    c.add_argument(
        "--subscribe", action="append", default=[], help="a webhook event name (repeatable)"
    )
    c.add_argument("--redirect-uri", action="append", default=[], help="OAuth (repeatable)")
    c.set_defaults(func=create)
    for name, func, help_ in (
        ("list", list_, "list apps"),
        ("show", show, "show one app (with its secret)"),
        ("delete", delete, "delete an app"),
    ):
        sp = asub.add_parser(name, help=help_)
        add_data_dir(sp)
        sp.add_argument("--company", default=None)
        if name != "list":
            sp.add_argument("uid")
        sp.set_defaults(func=func)


def app_json(app: domain.Application) -> dict[str, Any]:
    return {
        "uid": app.uid,
        "name": app.name,
        "secret": app.secret,
        "webhook_url": app.webhook_url,
        "subscriptions": app.subscriptions,
        "redirect_uris": app.redirect_uris,
        "state": app.state,
        "disabled_reason": app.disabled_reason,
        "created_at": to_api(app.created_at),
    }


def _run(args: argparse.Namespace, body: Callable[[Database, int], Awaitable[Any]]) -> Any:
    settings = settings_of(args)

    async def go() -> Any:
        db = await open_db(settings)
        try:
            return await body(db, await pick_company(db, args.company))
        except PorchError as exc:
            fail(str(exc))
        finally:
            await db.close()

    return asyncio.run(go())


def create(args: argparse.Namespace) -> None:
    async def body(db: Database, cid: int) -> domain.Application:
        return await domain.do_create_application(
            db,
            company_id=cid,
            source=log.SYSTEM,
            name=args.name,
            webhook_url=args.webhook_url,
            subscriptions=args.subscribe,
            redirect_uris=args.redirect_uri,
        )

    print(json.dumps(app_json(_run(args, body)), indent=2))


def list_(args: argparse.Namespace) -> None:
    async def body(db: Database, cid: int) -> list[domain.Application]:
        return await domain.list_applications(db, company_id=cid)

    for app in _run(args, body):
        shown = {k: v for k, v in app_json(app).items() if k != "secret"}
        print(json.dumps(shown))


def show(args: argparse.Namespace) -> None:
    async def body(db: Database, cid: int) -> domain.Application:
        return await domain.access_application(db, company_id=cid, ref=args.uid)

    print(json.dumps(app_json(_run(args, body)), indent=2))


def delete(args: argparse.Namespace) -> None:
    async def body(db: Database, cid: int) -> None:
        app = await domain.access_application(db, company_id=cid, ref=args.uid)
        await domain.do_delete_application(db, app=app, source=log.SYSTEM)

    _run(args, body)
    print(f"deleted {args.uid}")
