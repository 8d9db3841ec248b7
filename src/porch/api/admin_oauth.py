"""Porch's admin API for OAuth: an application's grants (list, revoke) and teammates' sign-in
passwords. Every operation needs a token with the ``provisioning`` namespace."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from porch import ids
from porch.api.http import Request, Response, json_response, no_content
from porch.api.models import Body
from porch.api.routing import Routes
from porch.domain import oauth, passwords, teammates
from porch.domain.errors import NotFound
from porch.store.oauth import Grant
from porch.timeutil import to_api

routes = Routes()


def grant_json(g: Grant) -> dict[str, object]:
    return {
        "id": ids.encode(ids.OAUTH_GRANT, g.id),
        "teammate_id": ids.encode(ids.TEAMMATE, g.teammate_id),
        "created_at": to_api(g.created_at),
        "revoked_at": to_api(g.revoked_at),
    }


@routes.get(
    "/porch/applications/{application_uid}/grants",
    "porch-list-oauth-grants",
    scope=None,
    front=False,
)
async def porch_list_oauth_grants(req: Request) -> Response:
    """The app's OAuth grants: who approved it and when, revoked or not."""
    req.principal.require_provisioning()
    app = await oauth.access_application(
        req.db, principal=req.principal, uid=req.path_params["application_uid"]
    )
    found = await oauth.list_grants(req.db, principal=req.principal, app=app)
    return json_response({"_results": [grant_json(g) for g in found]})


@routes.delete(
    "/porch/applications/{application_uid}/grants/{grant_id}",
    "porch-revoke-oauth-grant",
    scope=None,
    status=204,
    front=False,
)
async def porch_revoke_oauth_grant(req: Request) -> Response:
    """Revoke a grant: every access and refresh token issued under it stops working."""
    req.principal.require_provisioning()
    app = await oauth.access_application(
        req.db, principal=req.principal, uid=req.path_params["application_uid"]
    )
    key = ids.decode(ids.OAUTH_GRANT, req.path_params["grant_id"])
    if key is None:
        raise NotFound("Unknown grant")
    await oauth.do_revoke_grant(req.db, principal=req.principal, app=app, grant_id=key)
    if req.app.auth is not None:
        req.app.auth.forget_token(-key)
    return no_content()


class SetPassword(Body):
    password: Annotated[str, Field(min_length=1, max_length=passwords.MAX_LENGTH)]


@routes.put(
    "/porch/teammates/{teammate_id}/password",
    "porch-set-teammate-password",
    scope=None,
    status=204,
    body=SetPassword,
    front=False,
)
async def porch_set_teammate_password(req: Request) -> Response:
    """Set a teammate's web sign-in password (used by the OAuth consent page)."""
    req.principal.require_provisioning()
    tm = await teammates.access_teammate(
        req.db, principal=req.principal, ref=req.path_params["teammate_id"]
    )
    body = await req.parse(SetPassword)
    await passwords.do_set_password(
        req.db, principal=req.principal, teammate_id=tm.id, password=body.password
    )
    return no_content()
