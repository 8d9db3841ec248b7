"""``GET /openapi.json``: Porch's own description of the operations it implements.

It is generated from the route table, so it cannot claim an operation Porch does not serve:
each operation carries Front's operationId, its scope, its path parameters and, where it takes
a body, the JSON Schema of the model that validates it. Response schemas are Front's; the
contract tests check every response against Front's spec itself.
"""

from __future__ import annotations

from typing import Any

from porch import __version__
from porch.api.http import Request, Response, json_response
from porch.api.routing import Operation, Routes

routes = Routes()


def _operation(op: Operation) -> dict[str, Any]:
    params = [
        {"in": "path", "name": seg[1:-1], "required": True, "schema": {"type": "string"}}
        for seg in op.path.split("/")
        if seg.startswith("{")
    ]
    doc: dict[str, Any] = {
        "operationId": op.operation_id,
        "summary": op.summary,
        "tags": ["Porch"] if not op.front else [],
        "parameters": params,
        "responses": {str(op.status): {"description": "Success"}},
    }
    if op.scope:
        doc["x-required-scopes"] = [op.scope]
    if not op.auth:
        doc["security"] = []
    if op.body is not None:
        doc["requestBody"] = {
            "content": {"application/json": {"schema": op.body.model_json_schema()}}
        }
    return doc


def describe(operations: list[Operation]) -> dict[str, Any]:
    """An OpenAPI 3.0 document listing ``operations``."""
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op)
    return {
        "openapi": "3.0.3",
        "info": {"title": "Porch (Front-compatible Core API)", "version": __version__},
        "components": {"securitySchemes": {"http": {"type": "http", "scheme": "bearer"}}},
        "security": [{"http": []}],
        "paths": paths,
    }


@routes.get("/openapi.json", "porch-openapi", scope=None, auth=False, front=False)
async def porch_openapi(req: Request) -> Response:
    """Describe the operations this server implements."""
    doc = describe(req.app.router.operations)
    doc["servers"] = [{"url": req.base_url}]
    return json_response(doc)
