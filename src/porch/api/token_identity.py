"""Token Identity: ``GET /me`` names the company a token belongs to."""

from __future__ import annotations

from porch import ids
from porch.api.http import Request, Response, json_response
from porch.api.routing import Routes
from porch.domain import companies

routes = Routes()


@routes.get("/me", "api-token-details", scope=None)
async def api_token_details(req: Request) -> Response:
    """Fetch the company of the calling token."""
    company = await companies.get(req.db, company_id=req.principal.company_id)
    return json_response(
        {
            "_links": {"self": req.url("/me")},
            "id": ids.encode(ids.COMPANY, company.id),
            "name": company.name,
        }
    )
