"""Porch's own administration API under ``/porch/``: what Front's API does not offer.

Creating teams and teammates, issuing and revoking API tokens, company settings (ticketing,
rate limits) and reading the whole event log, including Porch's own event kinds. Every operation
needs a token with the ``provisioning`` namespace. Front's paths never start with ``/porch/``,
so these can never collide with an operation Front adds.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from porch import ids
from porch.api import events as events_api
from porch.api.http import Request, Response, json_response, no_content
from porch.api.models import Body, Name, Ref, Refs, ShortText
from porch.api.pagination import MAX_LIMIT
from porch.api.routing import Routes
from porch.api.shapes import teammate_json
from porch.api.statuses import status_json
from porch.domain import companies, custom_fields, statuses, teammates, teams, tokens
from porch.domain import events as event_domain
from porch.domain.errors import BadRequest, NotFound
from porch.domain.ratelimit import PRESETS
from porch.events import log
from porch.store.custom_fields import CustomField
from porch.timeutil import to_api

routes = Routes()


def _admin(req: Request) -> None:
    req.principal.require_provisioning()


class CreateToken(Body):
    name: Name = "api"
    namespaces: Annotated[list[Ref], Field(min_length=1, max_length=50)]
    permissions: Annotated[list[Literal["read", "write", "delete", "send"]], Field(min_length=1)]


def _token_json(t: tokens.Token) -> dict[str, object]:
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


@routes.post(
    "/porch/tokens", "porch-create-token", scope=None, status=201, body=CreateToken, front=False
)
async def porch_create_token(req: Request) -> Response:
    """Issue an API token; the secret is in this response and nowhere else."""
    _admin(req)
    body = await req.parse(CreateToken)
    namespaces = []
    for ns in body.namespaces:
        if ns.startswith("team:"):
            team = await teams.access_team(req.db, principal=req.principal, ref=ns[5:])
            namespaces.append(f"team:{team.id}")
        else:
            namespaces.append(ns)
    token, secret = await tokens.do_create_token(
        req.db,
        company_id=req.principal.company_id,
        name=body.name,
        namespaces=namespaces,
        permissions=list(body.permissions),
        source=log.source_of(req.principal),
    )
    return json_response({**_token_json(token), "token": secret}, 201)


@routes.get("/porch/tokens", "porch-list-tokens", scope=None, front=False)
async def porch_list_tokens(req: Request) -> Response:
    """List the company's tokens (never their secrets)."""
    _admin(req)
    found = await tokens.list_tokens(req.db, company_id=req.principal.company_id)
    return json_response({"_results": [_token_json(t) for t in found]})


@routes.delete(
    "/porch/tokens/{token_id}", "porch-revoke-token", scope=None, status=204, front=False
)
async def porch_revoke_token(req: Request) -> Response:
    """Revoke a token; it stops working at once on this server."""
    _admin(req)
    key = ids.decode(ids.TOKEN, req.path_params["token_id"])
    if key is None:
        raise NotFound("Unknown token")
    await tokens.do_revoke_token(
        req.db, company_id=req.principal.company_id, key=key, source=log.source_of(req.principal)
    )
    assert req.app.auth is not None
    req.app.auth.forget_token(key)
    return no_content()


class CreateTeam(Body):
    name: Name


@routes.post(
    "/porch/teams", "porch-create-team", scope=None, status=201, body=CreateTeam, front=False
)
async def porch_create_team(req: Request) -> Response:
    """Create a team."""
    _admin(req)
    body = await req.parse(CreateTeam)
    team = await teams.do_create_team(req.db, principal=req.principal, name=body.name)
    return json_response({"id": ids.encode(ids.TEAM, team.id), "name": team.name}, 201)


class CreateTeammate(Body):
    email: Annotated[str, Field(min_length=3, max_length=320)]
    username: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    first_name: Annotated[str, Field(max_length=255)] = ""
    last_name: Annotated[str, Field(max_length=255)] = ""
    is_admin: bool = False
    api_private_access: bool = False
    team_ids: Refs = []


@routes.post(
    "/porch/teammates",
    "porch-create-teammate",
    scope=None,
    status=201,
    body=CreateTeammate,
    front=False,
)
async def porch_create_teammate(req: Request) -> Response:
    """Create a teammate, optionally as a member of teams."""
    _admin(req)
    body = await req.parse(CreateTeammate)
    team_keys = [
        (await teams.access_team(req.db, principal=req.principal, ref=ref)).id
        for ref in body.team_ids
    ]
    tm = await teammates.do_create_teammate(
        req.db,
        principal=req.principal,
        email=body.email,
        username=body.username,
        first_name=body.first_name,
        last_name=body.last_name,
        is_admin=body.is_admin,
        api_private_access=body.api_private_access,
        team_ids=team_keys,
    )
    return json_response(teammate_json(req, tm), 201)


class UpdateCompany(Body):
    ticketing_enabled: bool | None = None
    rate_limit_per_minute: Annotated[int, Field(ge=1, le=10_000_000)] | None = None
    rate_limit_preset: (
        Literal["starter", "professional", "growth", "enterprise", "scale"] | None
    ) = None
    rate_limit_burst: bool | None = None
    # Webhooks may target private, loopback and link-local addresses (issue 6).
    allow_private_webhook_targets: bool | None = None


def _company_json(c: companies.Company) -> dict[str, object]:
    return {
        "id": ids.encode(ids.COMPANY, c.id),
        "name": c.name,
        "ticketing_enabled": c.ticketing_enabled,
        "rate_limit_per_minute": c.rate_limit_per_minute,
        "rate_limit_burst": c.rate_limit_burst,
        "allow_private_webhook_targets": c.allow_private_webhook_targets,
    }


@routes.get("/porch/company", "porch-get-company", scope=None, front=False)
async def porch_get_company(req: Request) -> Response:
    """The company's settings."""
    _admin(req)
    return json_response(
        _company_json(await companies.get(req.db, company_id=req.principal.company_id))
    )


@routes.patch("/porch/company", "porch-update-company", scope=None, body=UpdateCompany, front=False)
async def porch_update_company(req: Request) -> Response:
    """Change settings; a ``rate_limit_preset`` applies Front's plan limit (with burst tiers)."""
    _admin(req)
    body = await req.parse(UpdateCompany)
    per_minute, burst = body.rate_limit_per_minute, body.rate_limit_burst
    if body.rate_limit_preset is not None:
        if per_minute is not None:
            raise BadRequest("Give rate_limit_preset or rate_limit_per_minute, not both")
        per_minute = PRESETS[body.rate_limit_preset]
        burst = True if burst is None else burst
    company = await companies.do_update_settings(
        req.db,
        company_id=req.principal.company_id,
        source=log.source_of(req.principal),
        ticketing_enabled=body.ticketing_enabled,
        rate_limit_per_minute=per_minute,
        rate_limit_burst=burst,
        allow_private_webhook_targets=body.allow_private_webhook_targets,
    )
    assert req.app.auth is not None and req.app.limiter is not None
    req.app.auth.forget_company(company.id)
    await req.app.limiter.release_company(company.id)
    return json_response(_company_json(company))


class EnumValue(Body):
    value: Name
    label: Name | None = None


class CreateCustomField(Body):
    object_type: Literal["contact", "conversation", "account", "inbox", "teammate", "link"]
    name: Name
    type: Literal["string", "boolean", "datetime", "number", "teammate", "inbox", "enum"]
    description: ShortText = ""
    values: Annotated[list[EnumValue], Field(max_length=500)] | None = None


@routes.post(
    "/porch/custom_fields",
    "porch-create-custom-field",
    scope=None,
    status=201,
    body=CreateCustomField,
    front=False,
)
async def porch_create_custom_field(req: Request) -> Response:
    """Define a custom field for contacts, conversations, accounts, inboxes, teammates or links."""
    _admin(req)
    body = await req.parse(CreateCustomField)
    values = [{"value": v.value, "label": v.label or v.value} for v in body.values or []]
    field = await custom_fields.do_create_custom_field(
        req.db,
        principal=req.principal,
        object_type=body.object_type,
        name=body.name,
        type=body.type,
        description=body.description,
        values=values or None,
    )
    out: dict[str, object] = {
        "id": ids.encode(ids.CUSTOM_FIELD, field.id),
        "object_type": field.object_type,
        "name": field.name,
        "type": field.type,
        "description": field.description,
    }
    if field.values:
        out["values"] = field.values
    return json_response(out, 201)


# --- Custom fields, ticket statuses and the event log (appended) --------------------------


def _custom_field_admin_json(field: CustomField) -> dict[str, object]:
    out: dict[str, object] = {
        "id": ids.encode(ids.CUSTOM_FIELD, field.id),
        "object_type": field.object_type,
        "name": field.name,
        "type": field.type,
        "description": field.description,
    }
    if field.values:
        out["values"] = field.values
    return out


class UpdateCustomField(Body):
    name: Name | None = None
    description: ShortText | None = None
    # Sent only to be refused: a field's object type, type and values never change.
    object_type: object = None
    type: object = None
    values: object = None


@routes.patch(
    "/porch/custom_fields/{field_id}",
    "porch-update-custom-field",
    scope=None,
    body=UpdateCustomField,
    front=False,
)
async def porch_update_custom_field(req: Request) -> Response:
    """Rename or redescribe a custom field; stored values follow a rename."""
    _admin(req)
    field = await custom_fields.access_custom_field(
        req.db, principal=req.principal, ref=req.path_params["field_id"]
    )
    body = await req.parse(UpdateCustomField)
    frozen = sorted({"object_type", "type", "values"} & body.model_fields_set)
    if frozen:
        raise BadRequest(f"Only name and description can change, not {', '.join(frozen)}")
    updated = await custom_fields.do_update_custom_field(
        req.db, principal=req.principal, field=field, name=body.name, description=body.description
    )
    return json_response(_custom_field_admin_json(updated))


@routes.delete(
    "/porch/custom_fields/{field_id}",
    "porch-delete-custom-field",
    scope=None,
    status=204,
    front=False,
)
async def porch_delete_custom_field(req: Request) -> Response:
    """Delete a custom field and every value stored under it."""
    _admin(req)
    field = await custom_fields.access_custom_field(
        req.db, principal=req.principal, ref=req.path_params["field_id"]
    )
    await custom_fields.do_delete_custom_field(req.db, principal=req.principal, field=field)
    return no_content()


class CreateStatus(Body):
    name: Annotated[Name, Field(max_length=100)]
    category: Literal["open", "waiting", "resolved"]
    description: ShortText | None = None


class UpdateStatus(Body):
    name: Annotated[Name, Field(max_length=100)] | None = None
    description: ShortText | None = None


@routes.post(
    "/porch/statuses", "porch-create-status", scope=None, status=201, body=CreateStatus, front=False
)
async def porch_create_status(req: Request) -> Response:
    """Add a custom ticket status (shown in Front's shape)."""
    _admin(req)
    body = await req.parse(CreateStatus)
    status = await statuses.do_create_status(
        req.db,
        principal=req.principal,
        name=body.name,
        category=body.category,
        description=body.description,
    )
    return json_response(status_json(req, status), 201)


@routes.patch(
    "/porch/statuses/{status_id}",
    "porch-update-status",
    scope=None,
    body=UpdateStatus,
    front=False,
)
async def porch_update_status(req: Request) -> Response:
    """Rename or redescribe a ticket status (its category never changes)."""
    _admin(req)
    status = await statuses.access_status(
        req.db, principal=req.principal, ref=req.path_params["status_id"], ticketing_required=False
    )
    body = await req.parse(UpdateStatus)
    changes = body.sent()
    if "name" in changes and changes["name"] is None:
        raise BadRequest("A ticket status needs a name")
    updated = await statuses.do_update_status(
        req.db, principal=req.principal, status=status, changes=changes
    )
    return json_response(status_json(req, updated))


@routes.get("/porch/events", "porch-list-events", scope=None, front=False)
async def porch_list_events(req: Request) -> Response:
    """The whole event log, Porch's own kinds included, with the filters of ``GET /events``."""
    _admin(req)
    return await events_api.list_page(req, public_only=False, maximum=MAX_LIMIT)


@routes.get("/porch/events/{event_id}", "porch-get-event", scope=None, front=False)
async def porch_get_event(req: Request) -> Response:
    """One event of the whole log."""
    _admin(req)
    ev = await event_domain.access_event(
        req.db, principal=req.principal, ref=req.path_params["event_id"], public_only=False
    )
    return json_response(events_api.event_json(req, ev, porch=True))


class UpdateTeammateFlags(Body):
    api_private_access: bool | None = None
    is_admin: bool | None = None
    is_blocked: bool | None = None


@routes.patch(
    "/porch/teammates/{teammate_id}",
    "porch-update-teammate",
    scope=None,
    body=UpdateTeammateFlags,
    front=False,
)
async def porch_update_teammate(req: Request) -> Response:
    """Set a teammate's private-resource API consent, admin rights or blocked state."""
    _admin(req)
    teammate = await teammates.access_teammate(
        req.db, principal=req.principal, ref=req.path_params["teammate_id"]
    )
    body = await req.parse(UpdateTeammateFlags)
    updated = await teammates.do_set_teammate_flags(
        req.db,
        principal=req.principal,
        teammate=teammate,
        api_private_access=body.api_private_access,
        is_admin=body.is_admin,
        is_blocked=body.is_blocked,
    )
    return json_response(teammate_json(req, updated))
