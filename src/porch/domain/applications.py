"""Applications a company registers: name, webhook URL and subscriptions, OAuth redirect URIs,
a generated uid and secret, enabled or disabled (by an admin or after failed deliveries).

Saving a webhook configuration first runs Front's ``sync`` challenge against the URL
(``porch.domain.webhook_sync``); a URL that fails it is a 400 and nothing is saved.
"""

from __future__ import annotations

import secrets as random
from dataclasses import dataclass

import orjson
import sqlalchemy as sa

from porch.domain import webhook_sync
from porch.domain.errors import BadRequest, Conflict, NotFound
from porch.events import log
from porch.events.webhooks.render import APP_EVENTS
from porch.events.webhooks.targets import RefusedTarget, check_target, check_url
from porch.store import crud
from porch.store.db import Database, IntegrityError, Query, Reader, Row
from porch.store.tables import applications, companies
from porch.store.webhooks import subscriptions as webhooks_store
from porch.timeutil import now_ms

t = applications

_BY_UID = Query(
    sa.select(t).where(t.c.company_id == sa.bindparam("company_id"), t.c.uid == sa.bindparam("uid"))
)
_ALL = Query(sa.select(t).where(t.c.company_id == sa.bindparam("company_id")).order_by(t.c.id))
_ALLOW_PRIVATE = Query(
    sa.select(companies.c.allow_private_webhook_targets).where(
        companies.c.id == sa.bindparam("company_id")
    )
)


@dataclass(frozen=True, slots=True)
class Application:
    id: int
    company_id: int
    uid: str
    name: str
    secret: str
    webhook_url: str | None
    subscriptions: list[str]
    redirect_uris: list[str]
    state: str
    disabled_reason: str | None
    created_at: int
    updated_at: int

    @classmethod
    def from_row(cls, r: Row) -> Application:
        return cls(
            r["id"],
            r["company_id"],
            r["uid"],
            r["name"],
            r["secret"],
            r["webhook_url"],
            orjson.loads(r["subscriptions"]),
            orjson.loads(r["redirect_uris"]),
            r["state"],
            r["disabled_reason"],
            r["created_at"],
            r["updated_at"],
        )


async def allows_private_targets(conn: Reader, *, company_id: int) -> bool:
    row = await conn.fetch_one(_ALLOW_PRIVATE, company_id=company_id)
    return bool(row and row["allow_private_webhook_targets"])


async def access_application(conn: Reader, *, company_id: int, ref: str) -> Application:
    """The company's application with uid ``ref``, else NotFound."""
    row = await conn.fetch_one(_BY_UID, company_id=company_id, uid=ref)
    if row is None:
        raise NotFound(f"No application {ref}")
    return Application.from_row(row)


async def list_applications(conn: Reader, *, company_id: int) -> list[Application]:
    return [Application.from_row(r) for r in await conn.fetch_all(_ALL, company_id=company_id)]


def check_subscriptions(names: list[str]) -> list[str]:
    unknown = sorted(set(names) - set(APP_EVENTS))
    if unknown:
        raise BadRequest(
            "Unknown webhook events: " + ", ".join(unknown),
            details=["Known events: " + ", ".join(APP_EVENTS)],
        )
    return sorted(set(names), key=list(APP_EVENTS).index)


def check_redirect_uris(uris: list[str]) -> list[str]:
    for uri in uris:
        check_url(uri)
    return list(dict.fromkeys(uris))


async def check_webhook(db: Database, *, company_id: int, url: str, secret: str) -> None:
    """Refuse a webhook URL that is malformed, resolves to a private address (unless the
    company allows it), or fails the ``sync`` challenge."""
    check_url(url)
    try:
        await check_target(
            url, allow_private=await allows_private_targets(db, company_id=company_id)
        )
    except RefusedTarget as exc:
        raise BadRequest(str(exc)) from exc
    problem = await webhook_sync.challenge(url, company_id=company_id, secret=secret)
    if problem is not None:
        raise BadRequest(f"The webhook URL failed the sync challenge: {problem}")


async def do_create_application(
    db: Database,
    *,
    company_id: int,
    source: log.Source,
    name: str,
    webhook_url: str | None,
    subscriptions: list[str],
    redirect_uris: list[str],
) -> Application:
    """Register an application with a new uid and secret (the webhook URL challenged first)."""
    subs = check_subscriptions(subscriptions)
    uris = check_redirect_uris(redirect_uris)
    secret = random.token_hex(32)
    if webhook_url is not None:
        await check_webhook(db, company_id=company_id, url=webhook_url, secret=secret)
    now = now_ms()
    async with db.transaction() as tx:
        key = await crud.insert(
            tx,
            t,
            company_id=company_id,
            uid=random.token_hex(8),
            name=name,
            secret=secret,
            webhook_url=webhook_url,
            subscriptions=orjson.dumps(subs).decode(),
            redirect_uris=orjson.dumps(uris).decode(),
            state="enabled",
            disabled_reason=None,
            created_at=now,
            updated_at=now,
        )
        await webhooks_store.insert_app_subscription(
            tx,
            company_id=company_id,
            application_id=key,
            url=webhook_url or "",
            state="enabled",
            now=now,
        )
        await log.append(
            tx,
            company_id=company_id,
            type="application_created",
            source=source,
            target_type="application",
            target_id=key,
            data={"name": name, "webhook_url": webhook_url, "subscriptions": subs},
        )
        row = await tx.fetch_one(_BY_ID, company_id=company_id, key=key)
    assert row is not None
    return Application.from_row(row)


_BY_ID = Query(
    sa.select(t).where(t.c.company_id == sa.bindparam("company_id"), t.c.id == sa.bindparam("key"))
)


async def do_update_application(
    db: Database,
    *,
    app: Application,
    source: log.Source,
    name: str | None = None,
    webhook_url: str | None = None,
    clear_webhook_url: bool = False,
    subscriptions: list[str] | None = None,
    redirect_uris: list[str] | None = None,
    state: str | None = None,
) -> Application:
    """Change an application. A new or changed webhook URL, or new subscriptions with a URL,
    is challenged first. Enabling (again) resumes its pending deliveries at once; disabling
    holds them (events go on being queued)."""
    values: dict[str, object] = {}
    if name is not None:
        values["name"] = name
    if subscriptions is not None:
        values["subscriptions"] = orjson.dumps(check_subscriptions(subscriptions)).decode()
    if redirect_uris is not None:
        values["redirect_uris"] = orjson.dumps(check_redirect_uris(redirect_uris)).decode()
    url = (
        None if clear_webhook_url else (webhook_url if webhook_url is not None else app.webhook_url)
    )
    if clear_webhook_url or webhook_url is not None:
        values["webhook_url"] = url
    if url is not None and ("webhook_url" in values or "subscriptions" in values):
        await check_webhook(db, company_id=app.company_id, url=url, secret=app.secret)
    if state is not None:
        if state not in ("enabled", "disabled"):
            raise BadRequest("state must be enabled or disabled")
        values["state"] = state
        values["disabled_reason"] = None if state == "enabled" else "disabled by an admin"
    now = now_ms()
    async with db.transaction() as tx:
        if values:
            await crud.update(
                tx, t, company_id=app.company_id, key=app.id, updated_at=now, **values
            )
        sub = await webhooks_store.app_subscription(
            tx, company_id=app.company_id, application_id=app.id
        )
        if sub is not None:
            await webhooks_store.set_subscription(
                tx,
                sub=sub,
                url=url or "",
                state=state,
                reason=values.get("disabled_reason"),  # type: ignore[arg-type]
                now=now,
            )
        await log.append(
            tx,
            company_id=app.company_id,
            type="application_updated",
            source=source,
            target_type="application",
            target_id=app.id,
            data={k: v for k, v in values.items() if k != "secret"},
        )
        row = await tx.fetch_one(_BY_ID, company_id=app.company_id, key=app.id)
    assert row is not None
    return Application.from_row(row)


async def do_delete_application(db: Database, *, app: Application, source: log.Source) -> None:
    """Delete an application with its webhook subscription and delivery log."""
    async with db.transaction() as tx:
        await webhooks_store.delete_app_subscription(
            tx, company_id=app.company_id, application_id=app.id
        )
        try:
            async with tx.savepoint():
                await crud.delete(tx, t, company_id=app.company_id, key=app.id)
        except IntegrityError as exc:
            raise Conflict(
                "The application is still in use (channels or OAuth grants name it)"
            ) from exc
        await log.append(
            tx,
            company_id=app.company_id,
            type="application_deleted",
            source=source,
            target_type="application",
            target_id=app.id,
            data={"uid": app.uid},
        )
