"""Applications: ``POST /applications/{application_uid}/events`` (application triggers)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from porch.api.http import Request, Response, no_content
from porch.api.models import Body, Name
from porch.api.routing import Routes
from porch.domain import app_triggers, oauth

routes = Routes()

Link = Annotated[str, Field(max_length=2048)]


class AppObject(Body):
    id: Name | None = None
    ext_link: Link | None = None


class AppEvent(Body):
    event_type: Name
    app_object: AppObject


@routes.post(
    "/applications/{application_uid}/events",
    "trigger-app-event",
    scope="feature:app_trigger",
    status=204,
    body=AppEvent,
)
async def trigger_app_event(req: Request) -> Response:
    """Trigger an event on behalf of an application (for rules to match)."""
    app = await oauth.access_application(
        req.db, principal=req.principal, uid=req.path_params["application_uid"]
    )
    app_triggers.check_may_trigger(req.principal)
    body = await req.parse(AppEvent)
    ref = app_triggers.app_object_ref(id=body.app_object.id, ext_link=body.app_object.ext_link)
    await app_triggers.do_trigger_app_event(
        req.db, principal=req.principal, app=app, event_type=body.event_type, app_object=ref
    )
    return no_content()
