"""Routes: each API module declares its operations with Front's operationIds.

The router is a segment trie, so matching costs the depth of the path rather than the number of
routes (Starlette tries routes one regex at a time, which at ~250 routes dominates a request).
A static segment wins over a parameter: ``/teammates/custom_fields`` before
``/teammates/{teammate_id}``. Trailing slashes are ignored, as Front documents some paths with
one (``/drafts/{draft_id}/``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

import pydantic

from porch.api.http import Request, Response
from porch.domain.errors import MethodNotAllowed, NotFound

Handler = Callable[[Request], Awaitable[Response]]
H = TypeVar("H", bound=Handler)


@dataclass(frozen=True, slots=True)
class Operation:
    """One route: method and path template, Front's operationId, and what it requires."""

    method: str
    path: str
    operation_id: str
    handler: Handler
    # The scope Front's spec lists (``tags:read``); None for operations without one (/me).
    scope: str | None
    status: int
    auth: bool = True
    # Front's burst tier ("tier1" exports, "tier2" per-resource) and the path parameter that
    # names the resource, for the endpoints Front limits separately.
    burst: tuple[str, str | None] | None = None
    body: type[pydantic.BaseModel] | None = None
    summary: str = ""
    # Porch's own operations (``/porch/...``, ``/healthz``) are not part of Front's API.
    front: bool = True

    @property
    def permission(self) -> str | None:
        """The permission the scope needs: the part after the last colon."""
        if self.scope is None:
            return None
        last = self.scope.rsplit(":", 1)[-1]
        return last if last in ("read", "write", "delete", "send") else None


@dataclass
class Routes:
    """The operations of one API module, collected by decorators."""

    operations: list[Operation] = field(default_factory=list)

    def route(
        self,
        method: str,
        path: str,
        operation_id: str,
        *,
        scope: str | None,
        status: int = 200,
        auth: bool = True,
        burst: tuple[str, str | None] | None = None,
        body: type[pydantic.BaseModel] | None = None,
        front: bool = True,
    ) -> Callable[[H], H]:
        def add(handler: H) -> H:
            summary = (handler.__doc__ or "").strip().splitlines()[0] if handler.__doc__ else ""
            self.operations.append(
                Operation(
                    method,
                    path,
                    operation_id,
                    handler,
                    scope,
                    status,
                    auth,
                    burst,
                    body,
                    summary,
                    front,
                )
            )
            return handler

        return add

    def get(self, path: str, operation_id: str, **kw: object) -> Callable[[H], H]:
        return self.route("GET", path, operation_id, **kw)  # type: ignore[arg-type]

    def post(self, path: str, operation_id: str, **kw: object) -> Callable[[H], H]:
        return self.route("POST", path, operation_id, **kw)  # type: ignore[arg-type]

    def patch(self, path: str, operation_id: str, **kw: object) -> Callable[[H], H]:
        return self.route("PATCH", path, operation_id, **kw)  # type: ignore[arg-type]

    def put(self, path: str, operation_id: str, **kw: object) -> Callable[[H], H]:
        return self.route("PUT", path, operation_id, **kw)  # type: ignore[arg-type]

    def delete(self, path: str, operation_id: str, **kw: object) -> Callable[[H], H]:
        return self.route("DELETE", path, operation_id, **kw)  # type: ignore[arg-type]


class _Node:
    __slots__ = ("methods", "param", "param_name", "renames", "static")

    def __init__(self) -> None:
        self.static: dict[str, _Node] = {}
        self.param: _Node | None = None
        self.param_name = ""
        self.methods: dict[str, Operation] = {}
        # Per method: path parameters this operation names differently from the tree (Front's
        # spec has PATCH /drafts/{message_id}/ beside DELETE /drafts/{draft_id}).
        self.renames: dict[str, dict[str, str]] = {}


def _segments(path: str) -> list[str]:
    return [s for s in path.strip("/").split("/") if s] if path != "/" else []


class Router:
    """Finds the operation for a method and a concrete path."""

    def __init__(self) -> None:
        self._root = _Node()
        self.operations: list[Operation] = []

    def add(self, op: Operation) -> None:
        node = self._root
        renames: dict[str, str] = {}
        for seg in _segments(op.path):
            if seg.startswith("{") and seg.endswith("}"):
                if node.param is None:
                    node.param = _Node()
                    node.param_name = seg[1:-1]
                elif node.param_name != seg[1:-1]:
                    renames[node.param_name] = seg[1:-1]
                node = node.param
            else:
                node = node.static.setdefault(seg, _Node())
        if op.method in node.methods:
            raise ValueError(f"duplicate route {op.method} {op.path}")
        node.methods[op.method] = op
        if renames:
            node.renames[op.method] = renames
        self.operations.append(op)

    def match(self, method: str, path: str) -> tuple[Operation, dict[str, str]]:
        """The operation and path parameters; NotFound or MethodNotAllowed otherwise."""
        params: dict[str, str] = {}
        node = self._find(self._root, path.split("/"), 0, params)
        if node is None or not node.methods:
            raise NotFound(f"No route for {path}")
        op = node.methods.get(method)
        if op is None:
            allow = sorted(node.methods)
            raise MethodNotAllowed(f"{method} is not allowed on {path}", allow=allow)
        renames = node.renames.get(method)
        if renames:
            params = {renames.get(k, k): v for k, v in params.items()}
        return op, params

    def _find(self, node: _Node, parts: list[str], i: int, params: dict[str, str]) -> _Node | None:
        # Skip empty segments (leading, trailing and doubled slashes).
        while i < len(parts) and not parts[i]:
            i += 1
        if i == len(parts):
            return node
        seg = parts[i]
        child = node.static.get(seg)
        if child is not None:
            found = self._find(child, parts, i + 1, params)
            if found is not None and found.methods:
                return found
        if node.param is not None:
            params[node.param_name] = seg
            found = self._find(node.param, parts, i + 1, params)
            if found is not None and found.methods:
                return found
            params.pop(node.param_name, None)
        return None
