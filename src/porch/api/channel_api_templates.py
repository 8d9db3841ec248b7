"""The Channel API's application message templates (Front tag "Application Message Templates"):
the partner creates, replaces or edits its channel's templates."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictBool

from porch.api.channel_api import ExternalId, partner_channel
from porch.api.http import Request, Response, json_response
from porch.api.models import Body, Name, ShortText, Text
from porch.api.routing import Routes
from porch.domain.channel_api import templates as templates_domain
from porch.domain.errors import BadRequest

routes = Routes()


class VariableMapping(Body):
    uid: ShortText
    name: ShortText
    type: ShortText


class TemplateEdit(Body):
    name: Name | None = None
    blurb: ShortText | None = None
    is_disabled: StrictBool | None = None
    status_name: Annotated[ShortText, Field(max_length=50)] | None = None
    variable_mappings: Annotated[list[VariableMapping], Field(max_length=100)] | None = None
    template_preview: Text | None = None


class TemplateSync(Body):
    external_id: ExternalId
    name: Name
    blurb: ShortText
    is_disabled: StrictBool
    status_name: Annotated[ShortText, Field(max_length=50)]
    variable_mappings: Annotated[list[VariableMapping], Field(max_length=100)]
    template_preview: Text


@routes.put(
    "/channels/{channel_id}/application_message_templates",
    "sync-application-message-template",
    scope="message_templates:write",
    body=TemplateSync,
)
async def sync_application_message_template(req: Request) -> Response:
    """Create or replace one of the channel's application message templates."""
    channel = await partner_channel(req)
    body = await req.parse(TemplateSync)
    fields = body.model_dump(exclude={"external_id"})
    key = await templates_domain.do_sync_template(
        req.db,
        principal=req.principal,
        channel=channel,
        external_id=body.external_id,
        fields=fields,
    )
    return json_response({"template_id": key})


@routes.patch(
    "/channels/{channel_id}/application_message_templates/{external_id}",
    "update-application-message-template",
    scope="message_templates:write",
    body=TemplateEdit,
)
async def update_application_message_template(req: Request) -> Response:
    """Change some fields of one of the channel's application message templates."""
    channel = await partner_channel(req)
    body = await req.parse(TemplateEdit)
    fields = {k: v for k, v in body.model_dump().items() if k in body.model_fields_set}
    if any(v is None for v in fields.values()):
        raise BadRequest("Template fields cannot be null")
    key = await templates_domain.do_update_template(
        req.db,
        principal=req.principal,
        channel=channel,
        external_id=req.path_params["external_id"],
        fields=fields,
    )
    return json_response({"template_id": key})
