"""``GET /healthz``: liveness without authentication."""

from __future__ import annotations

from porch.api.http import Request, Response, json_response
from porch.api.routing import Routes

routes = Routes()


@routes.get("/healthz", "porch-healthz", scope=None, auth=False, front=False)
async def porch_healthz(req: Request) -> Response:
    """Answer 200 while the process serves requests."""
    return json_response({"status": "ok"})
