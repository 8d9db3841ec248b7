"""Statuses (Front tag "Statuses"): the company's ticket statuses, when ticketing is on."""

from __future__ import annotations

from typing import Any

from porch import ids
from porch.api.http import Request, Response, json_response
from porch.api.pagination import collection
from porch.api.routing import Routes
from porch.domain import statuses as domain
from porch.store.statuses import Status
from porch.timeutil import to_api

routes = Routes()


def status_json(req: Request, status: Status) -> dict[str, Any]:
    """Front's StatusResponse."""
    sid = ids.encode(ids.STATUS, status.id)
    return {
        "_links": {"self": req.url(f"/company/statuses/{sid}")},
        "id": sid,
        "name": status.name,
        "category": status.category,
        "description": status.description,
        "created_at": to_api(status.created_at),
        "updated_at": to_api(status.updated_at),
    }


@routes.get("/company/statuses", "list-company-ticket-statuses", scope="statuses:read")
async def list_company_ticket_statuses(req: Request) -> Response:
    """List the company's ticket statuses (404 when ticketing is off)."""
    found = await domain.list_statuses(req.db, principal=req.principal)
    return collection(req, [status_json(req, s) for s in found])


@routes.get("/company/statuses/{status_id}", "get-ticket-status-by-id", scope="statuses:read")
async def get_ticket_status_by_id(req: Request) -> Response:
    """Fetch a ticket status."""
    status = await domain.access_status(
        req.db, principal=req.principal, ref=req.path_params["status_id"]
    )
    return json_response(status_json(req, status))
