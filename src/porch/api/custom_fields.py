"""Custom Fields (Front tag "Custom Fields"): the definitions of each object type's fields.

Front's API only lists definitions (unpaginated: every field in ``_results``); Porch's admin API
creates, renames and deletes them (``/porch/custom_fields``).
"""

from __future__ import annotations

from typing import Any

from porch import ids
from porch.api.http import Request, Response
from porch.api.pagination import collection
from porch.api.routing import Routes
from porch.domain import custom_fields as domain
from porch.store.custom_fields import CustomField

routes = Routes()


def custom_field_json(req: Request, field: CustomField) -> dict[str, Any]:
    """Front's CustomFieldResponse; ``values`` only for enum fields."""
    fid = ids.encode(ids.CUSTOM_FIELD, field.id)
    out: dict[str, Any] = {
        # Front links a field at /custom_fields/<id> whatever its object type, though no
        # operation serves that path; Porch keeps the link as Front writes it.
        "_links": {"self": req.url(f"/custom_fields/{fid}")},
        "id": fid,
        "name": field.name,
        "description": field.description,
        "type": field.type,
    }
    if field.type == "enum":
        out["values"] = [
            {"value": v["value"], "label": v.get("label") or v["value"]} for v in field.values or []
        ]
    return out


async def _list(req: Request, object_type: str) -> Response:
    fields = await domain.definitions(req.db, principal=req.principal, object_type=object_type)
    return collection(req, [custom_field_json(req, f) for f in fields])


@routes.get("/accounts/custom_fields", "list-account-custom-fields", scope="custom_fields:read")
async def list_account_custom_fields(req: Request) -> Response:
    """List the custom fields of accounts."""
    return await _list(req, "account")


@routes.get("/contacts/custom_fields", "list-contact-custom-fields", scope="custom_fields:read")
async def list_contact_custom_fields(req: Request) -> Response:
    """List the custom fields of contacts."""
    return await _list(req, "contact")


@routes.get(
    "/conversations/custom_fields", "list-conversation-custom-fields", scope="custom_fields:read"
)
async def list_conversation_custom_fields(req: Request) -> Response:
    """List the custom fields of conversations."""
    return await _list(req, "conversation")


@routes.get("/custom_fields", "list-custom-fields", scope="custom_fields:read")
async def list_custom_fields(req: Request) -> Response:
    """List the custom fields of contacts (Front's deprecated alias)."""
    return await _list(req, "contact")


@routes.get("/inboxes/custom_fields", "list-inbox-custom-fields", scope="custom_fields:read")
async def list_inbox_custom_fields(req: Request) -> Response:
    """List the custom fields of inboxes."""
    return await _list(req, "inbox")


@routes.get("/links/custom_fields", "list-link-custom-fields", scope="custom_fields:read")
async def list_link_custom_fields(req: Request) -> Response:
    """List the custom fields of links."""
    return await _list(req, "link")


@routes.get("/teammates/custom_fields", "list-teammate-custom-fields", scope="custom_fields:read")
async def list_teammate_custom_fields(req: Request) -> Response:
    """List the custom fields of teammates."""
    return await _list(req, "teammate")
