"""Porch's admin API for applications and webhooks (issue 6).

``/porch/applications[/{application_uid}]`` registers apps (name, webhook URL and
subscriptions, OAuth redirect URIs; uid and secret generated, the secret shown to admins);
saving a webhook configuration runs Front's ``sync`` challenge first. ``/porch/webhooks/…``
lists subscriptions (application and rule webhooks) and their delivery log, enables or
disables a subscription, and replays one delivery or many. ``/porch/company/api_secret`` shows
and rotates the company API secret rule webhooks are signed with. Every operation needs a token
with the ``provisioning`` namespace.
"""

from __future__ import annotations

import secrets as random
from typing import Annotated, Literal

from pydantic import Field, StrictInt

from porch import ids
from porch.api.http import Request, Response, json_response, no_content
from porch.api.models import Body, Name
from porch.api.routing import Routes
from porch.domain import applications as domain
from porch.domain.errors import BadRequest, NotFound
from porch.events import log
from porch.events.webhooks.render import APP_EVENTS
from porch.store import secrets
from porch.store.webhooks import delivery_log as log_store
from porch.store.webhooks import subscriptions as subs_store
from porch.timeutil import now_ms, to_api

routes = Routes()

SUBSCRIPTION = "whs"
DELIVERY = "whd"
# Checked by the domain (absolute http(s), known event names), which says what is wrong.
AppEvent = Annotated[str, Field(min_length=1, max_length=64)]
Url = Annotated[str, Field(min_length=1, max_length=2048)]


def _admin(req: Request) -> None:
    req.principal.require_provisioning()


class CreateApplication(Body):
    name: Name
    webhook_url: Url | None = None
    subscriptions: Annotated[list[AppEvent], Field(max_length=len(APP_EVENTS))] = []
    redirect_uris: Annotated[list[Url], Field(max_length=20)] = []


class UpdateApplication(Body):
    name: Name | None = None
    webhook_url: Url | None = None
    subscriptions: Annotated[list[AppEvent], Field(max_length=len(APP_EVENTS))] | None = None
    redirect_uris: Annotated[list[Url], Field(max_length=20)] | None = None
    state: Literal["enabled", "disabled"] | None = None


def _app_json(req: Request, app: domain.Application, sub: subs_store.Subscription | None) -> object:
    return {
        "_links": {"self": req.url(f"/porch/applications/{app.uid}")},
        "uid": app.uid,
        "name": app.name,
        "secret": app.secret,
        "webhook_url": app.webhook_url,
        "subscriptions": app.subscriptions,
        "redirect_uris": app.redirect_uris,
        "state": app.state,
        "disabled_reason": app.disabled_reason,
        "webhook_subscription_id": ids.encode(SUBSCRIPTION, sub.id) if sub else None,
        "created_at": to_api(app.created_at),
        "updated_at": to_api(app.updated_at),
    }


async def _sub_of(req: Request, app: domain.Application) -> subs_store.Subscription | None:
    return await subs_store.app_subscription(
        req.db, company_id=app.company_id, application_id=app.id
    )


@routes.post(
    "/porch/applications",
    "porch-create-application",
    scope=None,
    status=201,
    body=CreateApplication,
    front=False,
)
async def porch_create_application(req: Request) -> Response:
    """Register an application; its uid and secret are generated."""
    _admin(req)
    body = await req.parse(CreateApplication)
    app = await domain.do_create_application(
        req.db,
        company_id=req.principal.company_id,
        source=log.source_of(req.principal),
        name=body.name,
        webhook_url=body.webhook_url,
        subscriptions=list(body.subscriptions),
        redirect_uris=list(body.redirect_uris),
    )
    return json_response(_app_json(req, app, await _sub_of(req, app)), 201)


@routes.get("/porch/applications", "porch-list-applications", scope=None, front=False)
async def porch_list_applications(req: Request) -> Response:
    """The company's applications."""
    _admin(req)
    apps = await domain.list_applications(req.db, company_id=req.principal.company_id)
    return json_response({"_results": [_app_json(req, a, await _sub_of(req, a)) for a in apps]})


@routes.get(
    "/porch/applications/{application_uid}", "porch-get-application", scope=None, front=False
)
async def porch_get_application(req: Request) -> Response:
    """One application, with its secret."""
    _admin(req)
    app = await domain.access_application(
        req.db, company_id=req.principal.company_id, ref=req.path_params["application_uid"]
    )
    return json_response(_app_json(req, app, await _sub_of(req, app)))


@routes.patch(
    "/porch/applications/{application_uid}",
    "porch-update-application",
    scope=None,
    body=UpdateApplication,
    front=False,
)
async def porch_update_application(req: Request) -> Response:
    """Change an application; ``webhook_url: null`` removes its webhook, ``state: enabled``
    re-enables a disabled one and resumes its pending deliveries."""
    _admin(req)
    app = await domain.access_application(
        req.db, company_id=req.principal.company_id, ref=req.path_params["application_uid"]
    )
    body = await req.parse(UpdateApplication)
    given = body.model_fields_set
    app = await domain.do_update_application(
        req.db,
        app=app,
        source=log.source_of(req.principal),
        name=body.name,
        webhook_url=body.webhook_url,
        clear_webhook_url="webhook_url" in given and body.webhook_url is None,
        subscriptions=list(body.subscriptions) if body.subscriptions is not None else None,
        redirect_uris=list(body.redirect_uris) if body.redirect_uris is not None else None,
        state=body.state,
    )
    return json_response(_app_json(req, app, await _sub_of(req, app)))


@routes.delete(
    "/porch/applications/{application_uid}",
    "porch-delete-application",
    scope=None,
    status=204,
    front=False,
)
async def porch_delete_application(req: Request) -> Response:
    """Delete an application, its webhook subscription and delivery log."""
    _admin(req)
    app = await domain.access_application(
        req.db, company_id=req.principal.company_id, ref=req.path_params["application_uid"]
    )
    await domain.do_delete_application(req.db, app=app, source=log.source_of(req.principal))
    return no_content()


# --- Subscriptions and deliveries --------------------------------------------------------------


def _sub_json(sub: subs_store.Subscription) -> dict[str, object]:
    return {
        "id": ids.encode(SUBSCRIPTION, sub.id),
        "kind": sub.kind,
        "rule_id": ids.encode("rul", sub.rule_id) if sub.rule_id else None,
        "url": sub.url,
        "state": sub.state,
        "disabled_reason": sub.disabled_reason,
        "failures_in_a_row": sub.failures,
        "updated_at": to_api(sub.updated_at),
    }


def _delivery_json(dl: log_store.Delivery, attempts: list[log_store.Attempt]) -> dict[str, object]:
    return {
        "id": ids.encode(DELIVERY, dl.id),
        "subscription_id": ids.encode(SUBSCRIPTION, dl.subscription_id),
        "event_id": ids.encode(ids.EVENT, dl.event_id),
        "conversation_id": ids.encode(ids.CONVERSATION, dl.conversation_id)
        if dl.conversation_id
        else None,
        "type": dl.type,
        "state": dl.state,
        "attempts": [
            {
                "status_code": a.status_code,
                "duration_ms": a.duration_ms,
                "error": a.error,
                "attempted_at": to_api(a.attempted_at),
            }
            for a in attempts
        ],
        "next_attempt_at": to_api(dl.next_attempt_at) if dl.state == "pending" else None,
        "last_status": dl.last_status,
        "last_error": dl.last_error,
        "emitted_at": to_api(dl.emitted_at),
        "delivered_at": to_api(dl.delivered_at),
    }


async def _access_sub(req: Request, ref: str) -> subs_store.Subscription:
    key = ids.decode(SUBSCRIPTION, ref)
    sub = (
        await subs_store.get_subscription(req.db, company_id=req.principal.company_id, key=key)
        if key
        else None
    )
    if sub is None:
        raise NotFound(f"No webhook subscription {ref}")
    return sub


@routes.get(
    "/porch/webhooks/subscriptions", "porch-list-webhook-subscriptions", scope=None, front=False
)
async def porch_list_webhook_subscriptions(req: Request) -> Response:
    """Every webhook subscription of the company (applications' and rules')."""
    _admin(req)
    subs = await subs_store.subscriptions(req.db, company_id=req.principal.company_id)
    return json_response({"_results": [_sub_json(s) for s in subs]})


class UpdateSubscription(Body):
    state: Literal["enabled", "disabled"]


@routes.patch(
    "/porch/webhooks/subscriptions/{subscription_id}",
    "porch-update-webhook-subscription",
    scope=None,
    body=UpdateSubscription,
    front=False,
)
async def porch_update_webhook_subscription(req: Request) -> Response:
    """Enable (resuming its pending deliveries now) or disable a subscription."""
    _admin(req)
    sub = await _access_sub(req, req.path_params["subscription_id"])
    body = await req.parse(UpdateSubscription)
    async with req.db.transaction() as tx:
        await subs_store.set_subscription(
            tx, sub=sub, state=body.state, reason="disabled by an admin", now=now_ms()
        )
        await log.append(
            tx,
            company_id=sub.company_id,
            type="webhook_subscription_updated",
            source=log.source_of(req.principal),
            data={"subscription_id": sub.id, "state": body.state},
        )
    found = await subs_store.get_subscription(req.db, company_id=sub.company_id, key=sub.id)
    assert found is not None
    return json_response(_sub_json(found))


@routes.get("/porch/webhooks/deliveries", "porch-list-webhook-deliveries", scope=None, front=False)
async def porch_list_webhook_deliveries(req: Request) -> Response:
    """The delivery log, newest first: ``subscription_id``, ``state`` (pending, delivered,
    failed), ``limit`` (at most 100) and ``before`` (a delivery id, for the next page)."""
    _admin(req)
    sub_ref = req.query_one("subscription_id")
    sub = await _access_sub(req, sub_ref) if sub_ref else None
    state = req.query_one("state")
    if state not in (None, "pending", "delivered", "failed"):
        raise BadRequest("state must be pending, delivered or failed")
    raw_limit = req.query_one("limit") or "50"
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 100:
        raise BadRequest("limit must be between 1 and 100")
    before_ref = req.query_one("before")
    before = ids.decode(DELIVERY, before_ref) if before_ref else None
    if before_ref and before is None:
        raise BadRequest("before must be a delivery id")
    found = await log_store.list_deliveries(
        req.db,
        company_id=req.principal.company_id,
        subscription_id=sub.id if sub else None,
        state=state,
        before=before,
        limit=int(raw_limit),
    )
    attempts = await log_store.attempts_of(req.db, keys=[dl.id for dl in found])
    return json_response({"_results": [_delivery_json(dl, attempts[dl.id]) for dl in found]})


async def _access_delivery(req: Request) -> log_store.Delivery:
    ref = req.path_params["delivery_id"]
    key = ids.decode(DELIVERY, ref)
    dl = (
        await log_store.get_delivery(req.db, company_id=req.principal.company_id, key=key)
        if key
        else None
    )
    if dl is None:
        raise NotFound(f"No webhook delivery {ref}")
    return dl


@routes.get(
    "/porch/webhooks/deliveries/{delivery_id}",
    "porch-get-webhook-delivery",
    scope=None,
    front=False,
)
async def porch_get_webhook_delivery(req: Request) -> Response:
    """One delivery with every attempt, and the body it sends."""
    _admin(req)
    dl = await _access_delivery(req)
    attempts = await log_store.attempts_of(req.db, keys=[dl.id])
    return json_response({**_delivery_json(dl, attempts[dl.id]), "body": dl.body})


@routes.post(
    "/porch/webhooks/deliveries/{delivery_id}/replay",
    "porch-replay-webhook-delivery",
    scope=None,
    status=202,
    front=False,
)
async def porch_replay_webhook_delivery(req: Request) -> Response:
    """Send one delivery again (same body, same event id)."""
    _admin(req)
    dl = await _access_delivery(req)
    async with req.db.transaction() as tx:
        await log_store.replay(tx, company_id=dl.company_id, key=dl.id, now=now_ms())
    return json_response({"replayed": 1}, 202)


class Replay(Body):
    subscription_id: Annotated[str, Field(min_length=1, max_length=64)]
    # failed: only deliveries given up; all: also those delivered.
    which: Literal["failed", "all"] = "failed"
    # Events emitted in [since, until), epoch seconds.
    since: StrictInt | float | None = None
    until: StrictInt | float | None = None


@routes.post(
    "/porch/webhooks/replay",
    "porch-replay-webhook-deliveries",
    scope=None,
    status=202,
    body=Replay,
    front=False,
)
async def porch_replay_webhook_deliveries(req: Request) -> Response:
    """Send again every failed (or every finished) delivery of a subscription whose event was
    emitted in a time range."""
    _admin(req)
    body = await req.parse(Replay)
    sub = await _access_sub(req, body.subscription_id)
    since = round(body.since * 1000) if body.since is not None else 0
    until = round(body.until * 1000) if body.until is not None else 2**62
    async with req.db.transaction() as tx:
        n = await log_store.replay_many(
            tx,
            company_id=sub.company_id,
            subscription_id=sub.id,
            only_failed=body.which == "failed",
            since=since,
            until=until,
            now=now_ms(),
        )
    return json_response({"replayed": n}, 202)


# --- The company API secret ---------------------------------------------------------------------


@routes.get("/porch/company/api_secret", "porch-get-api-secret", scope=None, front=False)
async def porch_get_api_secret(req: Request) -> Response:
    """The company API secret rule webhooks are signed with (made on first use)."""
    _admin(req)
    async with req.db.transaction() as tx:
        secret = await secrets.get_or_make(
            tx, company_id=req.principal.company_id, purpose=subs_store.API_SECRET, now=now_ms()
        )
    return json_response({"api_secret": secret.hex()})


@routes.post("/porch/company/api_secret", "porch-rotate-api-secret", scope=None, front=False)
async def porch_rotate_api_secret(req: Request) -> Response:
    """Replace the API secret; deliveries from now on are signed with the new one."""
    _admin(req)
    cid = req.principal.company_id
    new = random.token_hex(32)
    async with req.db.transaction() as tx:
        await secrets.get_or_make(tx, company_id=cid, purpose=subs_store.API_SECRET, now=now_ms())
        await subs_store.rotate_api_secret(tx, company_id=cid, secret=new, now=now_ms())
        await log.append(
            tx,
            company_id=cid,
            type="api_secret_rotated",
            source=log.source_of(req.principal),
            target_type="company",
            target_id=cid,
        )
    return json_response({"api_secret": new})
