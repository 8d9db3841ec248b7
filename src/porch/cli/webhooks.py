"""``porch webhooks subscriptions|enable|deliveries|replay``: the webhook delivery log, and
sending deliveries again."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from porch import ids
from porch.cli.common import add_data_dir, fail, open_db, pick_company, settings_of
from porch.store.db import Database
from porch.store.webhooks import delivery_log as log_store
from porch.store.webhooks import subscriptions as subs_store
from porch.timeutil import now_ms, to_api

SUBSCRIPTION = "whs"
DELIVERY = "whd"


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("webhooks", help="webhook subscriptions, deliveries and replays")
    wsub = p.add_subparsers(dest="webhooks_cmd", required=True)
    s = wsub.add_parser("subscriptions", help="list subscriptions and their state")
    e = wsub.add_parser("enable", help="enable a subscription (resumes its pending deliveries)")
    e.add_argument("subscription_id")
    d = wsub.add_parser("deliveries", help="list deliveries with their attempts, newest first")
    d.add_argument("--subscription", default=None)
    d.add_argument("--state", choices=["pending", "delivered", "failed"], default=None)
    d.add_argument("--limit", type=int, default=20)
    r = wsub.add_parser("replay", help="send one delivery, or many, again")
    r.add_argument("delivery_id", nargs="?", default=None)
    r.add_argument("--subscription", default=None, help="replay this subscription's deliveries")
    r.add_argument("--all", action="store_true", help="also those delivered (default: failed)")
    r.add_argument("--since", type=float, default=None, help="events from (epoch seconds)")
    r.add_argument("--until", type=float, default=None, help="events before (epoch seconds)")
    for sp, func in ((s, subscriptions), (e, enable), (d, deliveries), (r, replay)):
        add_data_dir(sp)
        sp.add_argument("--company", default=None)
        sp.set_defaults(func=func)


def _key(prefix: str, ref: str) -> int:
    key = ids.decode(prefix, ref)
    if key is None:
        fail(f"not a {prefix}_ id: {ref!r}")
    return key


def _run(args: argparse.Namespace, body: Any) -> Any:
    settings = settings_of(args)

    async def go() -> Any:
        db: Database = await open_db(settings)
        try:
            return await body(db, await pick_company(db, args.company))
        finally:
            await db.close()

    return asyncio.run(go())


def subscriptions(args: argparse.Namespace) -> None:
    async def body(db: Database, cid: int) -> list[subs_store.Subscription]:
        return await subs_store.subscriptions(db, company_id=cid)

    for sub in _run(args, body):
        print(
            json.dumps(
                {
                    "id": ids.encode(SUBSCRIPTION, sub.id),
                    "kind": sub.kind,
                    "url": sub.url,
                    "state": sub.state,
                    "disabled_reason": sub.disabled_reason,
                    "failures_in_a_row": sub.failures,
                }
            )
        )


def enable(args: argparse.Namespace) -> None:
    key = _key(SUBSCRIPTION, args.subscription_id)

    async def body(db: Database, cid: int) -> None:
        sub = await subs_store.get_subscription(db, company_id=cid, key=key)
        if sub is None:
            fail(f"no subscription {args.subscription_id}")
        async with db.transaction() as tx:
            await subs_store.set_subscription(tx, sub=sub, state="enabled", now=now_ms())

    _run(args, body)
    print(f"enabled {args.subscription_id}")


def deliveries(args: argparse.Namespace) -> None:
    sub = _key(SUBSCRIPTION, args.subscription) if args.subscription else None

    async def body(db: Database, cid: int) -> list[dict[str, Any]]:
        found = await log_store.list_deliveries(
            db,
            company_id=cid,
            subscription_id=sub,
            state=args.state,
            before=None,
            limit=max(1, min(args.limit, 1000)),
        )
        attempts = await log_store.attempts_of(db, keys=[dl.id for dl in found])
        return [
            {
                "id": ids.encode(DELIVERY, dl.id),
                "subscription_id": ids.encode(SUBSCRIPTION, dl.subscription_id),
                "event_id": ids.encode(ids.EVENT, dl.event_id),
                "type": dl.type,
                "state": dl.state,
                "attempts": [
                    {
                        "status_code": a.status_code,
                        "duration_ms": a.duration_ms,
                        "error": a.error,
                        "at": to_api(a.attempted_at),
                    }
                    for a in attempts[dl.id]
                ],
            }
            for dl in found
        ]

    for row in _run(args, body):
        print(json.dumps(row))


def replay(args: argparse.Namespace) -> None:
    if (args.delivery_id is None) == (args.subscription is None):
        fail("give a delivery id or --subscription")

    async def body(db: Database, cid: int) -> int:
        async with db.transaction() as tx:
            if args.delivery_id is not None:
                key = _key(DELIVERY, args.delivery_id)
                return int(await log_store.replay(tx, company_id=cid, key=key, now=now_ms()))
            return await log_store.replay_many(
                tx,
                company_id=cid,
                subscription_id=_key(SUBSCRIPTION, args.subscription),
                only_failed=not args.all,
                since=round(args.since * 1000) if args.since is not None else 0,
                until=round(args.until * 1000) if args.until is not None else 2**62,
                now=now_ms(),
            )

    print(f"replayed {_run(args, body)}")
