"""Signatures (Front tag "Signatures"): team and private signatures."""

from __future__ import annotations

from typing import Any

from porch import ids
from porch.api.http import Request, Response, json_response, no_content
from porch.api.models import Body, Name, Refs, ShortText, Text
from porch.api.pagination import collection, read_page
from porch.api.routing import Routes
from porch.api.shapes import owner_link
from porch.domain import signatures as domain
from porch.store.signatures import Signature

routes = Routes()


class CreateSignature(Body):
    name: Name
    body: Text
    sender_info: ShortText | None = None
    is_default: bool = False
    # Team signatures only (Front's teammate variant does not have it): refused on the other.
    is_visible_for_all_teammate_channels: bool | None = None
    channel_ids: Refs | None = None


class UpdateSignature(Body):
    name: Name | None = None
    body: Text | None = None
    sender_info: ShortText | None = None
    is_default: bool | None = None
    is_visible_for_all_teammate_channels: bool | None = None
    channel_ids: Refs | None = None


def signature_json(req: Request, sig: Signature) -> dict[str, Any]:
    sid = ids.encode(ids.SIGNATURE, sig.id)
    links: dict[str, Any] = {"self": req.url(f"/signatures/{sid}")}
    owner = owner_link(req, sig.team_id, sig.owner_teammate_id)
    if owner is not None:
        links["related"] = {"owner": owner}
    return {
        "_links": links,
        "id": sid,
        "name": sig.name,
        "body": sig.body,
        "sender_info": sig.sender_info,
        "is_private": sig.is_private,
        "is_visible_for_all_teammate_channels": sig.is_visible_for_all_teammate_channels,
        "is_default": sig.is_default,
        "channel_ids": (
            [ids.encode(ids.CHANNEL, k) for k in sig.channel_ids]
            if sig.channel_ids is not None
            else None
        ),
    }


async def _page(req: Request, owner: domain.Owner) -> Response:
    page = read_page(req)
    rows, nxt = await domain.list_signatures(
        req.db,
        principal=req.principal,
        owner=owner,
        after=page.after[0] if page.after else None,
        limit=page.limit,
        descending=page.descending,
    )
    return collection(req, [signature_json(req, s) for s in rows], [nxt] if nxt else None)


async def _create(req: Request, owner: domain.Owner) -> Response:
    body = await req.parse(CreateSignature)
    sig = await domain.do_create_signature(
        req.db,
        principal=req.principal,
        owner=owner,
        name=body.name,
        body=body.body,
        sender_info=body.sender_info,
        is_default=body.is_default,
        is_visible_for_all_teammate_channels=body.is_visible_for_all_teammate_channels,
        channel_refs=body.channel_ids,
    )
    return json_response(signature_json(req, sig), 201)


@routes.get("/signatures/{signature_id}", "get-signatures", scope="signatures:read")
async def get_signatures(req: Request) -> Response:
    """Fetch a signature."""
    sig = await domain.access_signature(
        req.db, principal=req.principal, ref=req.path_params["signature_id"]
    )
    return json_response(signature_json(req, sig))


@routes.patch(
    "/signatures/{signature_id}",
    "update-signature",
    scope="signatures:write",
    body=UpdateSignature,
)
async def update_signature(req: Request) -> Response:
    """Update a signature; only the fields sent change."""
    sig = await domain.access_signature(
        req.db, principal=req.principal, ref=req.path_params["signature_id"]
    )
    body = await req.parse(UpdateSignature)
    updated = await domain.do_update_signature(
        req.db, principal=req.principal, signature=sig, changes=body.sent()
    )
    return json_response(signature_json(req, updated))


@routes.delete(
    "/signatures/{signature_id}", "delete-signature", scope="signatures:delete", status=204
)
async def delete_signature(req: Request) -> Response:
    """Delete a signature."""
    sig = await domain.access_signature(
        req.db, principal=req.principal, ref=req.path_params["signature_id"]
    )
    await domain.do_delete_signature(req.db, principal=req.principal, signature=sig)
    return no_content()


@routes.get(
    "/teammates/{teammate_id}/signatures", "list-teammate-signatures", scope="signatures:read"
)
async def list_teammate_signatures(req: Request) -> Response:
    """List a teammate's private signatures."""
    owner = await domain.teammate_owner(
        req.db, principal=req.principal, teammate_ref=req.path_params["teammate_id"]
    )
    return await _page(req, owner)


@routes.post(
    "/teammates/{teammate_id}/signatures",
    "create-teammate-signature",
    scope="signatures:write",
    status=201,
    body=CreateSignature,
)
async def create_teammate_signature(req: Request) -> Response:
    """Create a private signature for a teammate."""
    owner = await domain.teammate_owner(
        req.db, principal=req.principal, teammate_ref=req.path_params["teammate_id"]
    )
    return await _create(req, owner)


@routes.get("/teams/{team_id}/signatures", "list-team-signatures", scope="signatures:read")
async def list_team_signatures(req: Request) -> Response:
    """List a team's signatures."""
    owner = await domain.team_owner(
        req.db, principal=req.principal, team_ref=req.path_params["team_id"]
    )
    return await _page(req, owner)


@routes.post(
    "/teams/{team_id}/signatures",
    "create-team-signature",
    scope="signatures:write",
    status=201,
    body=CreateSignature,
)
async def create_team_signature(req: Request) -> Response:
    """Create a signature for a team."""
    owner = await domain.team_owner(
        req.db, principal=req.principal, team_ref=req.path_params["team_id"]
    )
    return await _create(req, owner)
