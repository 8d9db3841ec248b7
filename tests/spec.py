"""Front's OpenAPI spec as a test oracle.

Every response the tests receive goes through ``SpecChecker.check``: a success must have a status
the spec documents for that operation and a body its schema accepts; an error must be Front's
``_error`` envelope with the same status. Schemas are made strict here: an object may carry only
the properties the spec names (plus ``_pagination`` on collections), so Porch cannot drift from
Front's shapes unnoticed. The spec is read from ``PORCH_FRONT_API_DIR`` (default
``../shared/front-api`` beside the repository) and never copied into the project.
"""

from __future__ import annotations

import copy
import json
import os
import re
from functools import cached_property
from pathlib import Path
from typing import Any

import jsonschema

REPO = Path(__file__).resolve().parent.parent
SPEC_DIR = Path(os.environ.get("PORCH_FRONT_API_DIR") or REPO.parent / "shared" / "front-api")
CORE = SPEC_DIR / "core-api.json"
# The Channel API (partner channels); its operations are checked too when the file is there.
CHANNEL = SPEC_DIR / "channel-api.json"

ERROR_SCHEMA = {
    "type": "object",
    "required": ["_error"],
    "additionalProperties": False,
    "properties": {
        "_error": {
            "type": "object",
            "required": ["status", "title", "message"],
            "additionalProperties": False,
            "properties": {
                "status": {"type": "integer"},
                "title": {"type": "string"},
                "message": {"type": "string"},
                "details": {"type": "array", "items": {"type": "string"}},
            },
        }
    },
}


def available() -> bool:
    return CORE.is_file()


def _strict(node: Any) -> Any:
    """OpenAPI 3.0 → JSON Schema: ``nullable`` becomes a null alternative, objects are closed."""
    if isinstance(node, list):
        return [_strict(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _strict(v) for k, v in node.items() if k not in ("example", "examples", "nullable")}
    if (
        "properties" in out
        and "additionalProperties" not in out
        and out.get("type", "object") == "object"
    ):
        for name in out.get("required", []):
            out["properties"].setdefault(name, {})
        out["additionalProperties"] = False
    if node.get("nullable"):
        if "type" in out:
            t = out["type"]
            out["type"] = [*t, "null"] if isinstance(t, list) else [t, "null"]
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


class Operation:
    def __init__(self, method: str, template: str, op: dict[str, Any]) -> None:
        self.method = method
        self.template = template
        self.op = op
        self.operation_id: str = op["operationId"]
        pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template.rstrip("/")))
        self.regex = re.compile("^" + pattern + "/?$")


class SpecChecker:
    """Finds the spec operation of a request and validates what came back."""

    def __init__(self, path: Path = CORE) -> None:
        self.raw: dict[str, Any] = json.loads(path.read_text())
        self.components = _strict(copy.deepcopy(self.raw["components"]))
        self.operations: list[Operation] = []
        for template, item in self.raw["paths"].items():
            for method, op in item.items():
                if isinstance(op, dict) and "operationId" in op:
                    self.operations.append(Operation(method.upper(), template, op))
        if path == CORE and CHANNEL.is_file():
            self._add_channel_api(json.loads(CHANNEL.read_text()))
        # Static paths before templated ones, so /teammates/custom_fields is not a teammate id.
        self.operations.sort(key=lambda o: o.template.count("{"))
        self.seen_ok: set[str] = set()

    def _add_channel_api(self, channel: dict[str, Any]) -> None:
        """Add the Channel API's operations, its schemas under ``#/channel_api/...`` so that
        their names cannot clash with the core spec's. PATCH /channels/{channel_id} is in both
        specs (one route, two meanings; both answer 204): the core one is kept."""
        text = json.dumps(channel).replace('"#/components/', '"#/channel_api/')
        moved = json.loads(text)
        self.raw["channel_api"] = moved["components"]
        self.components["channel_api"] = _strict(copy.deepcopy(moved["components"]))
        known = {(o.method, o.template) for o in self.operations}
        for template, item in moved["paths"].items():
            for method, op in item.items():
                key = (method.upper(), template)
                if isinstance(op, dict) and "operationId" in op and key not in known:
                    self.operations.append(Operation(method.upper(), template, op))

    @cached_property
    def by_id(self) -> dict[str, Operation]:
        return {o.operation_id: o for o in self.operations}

    def find(self, method: str, path: str) -> Operation | None:
        for o in self.operations:
            if o.method == method and o.regex.match(path):
                return o
        return None

    def _resolve(self, ref_or_obj: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in ref_or_obj:
            parts = ref_or_obj["$ref"].split("/")[1:]
            node: Any = self.raw
            for p in parts:
                node = node[p]
            ref_or_obj = node
        return ref_or_obj

    def response_schema(self, op: Operation, status: int) -> dict[str, Any] | None:
        resp = op.op["responses"].get(str(status))
        if resp is None:
            raise AssertionError(
                f"{op.operation_id} answered {status}, which the spec does not document "
                f"(documented: {sorted(op.op['responses'])})"
            )
        resp = self._resolve(resp)
        content = resp.get("content", {}).get("application/json")
        if not content:
            return None
        schema = _strict(copy.deepcopy(content["schema"]))
        props = schema.get("properties", {})
        if "_results" in props:
            props.setdefault(
                "_pagination",
                {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"next": {"type": ["string", "null"]}},
                },
            )
            if "_total" not in props and "_pagination" in props:
                pass
        schema["components"] = self.components
        schema["channel_api"] = self.components.get("channel_api", {})
        return schema

    def check(
        self, method: str, path: str, status: int, body: bytes, content_type: str | None
    ) -> None:
        """Raise AssertionError if this response contradicts the spec or Porch's envelope."""
        if status >= 500:
            raise AssertionError(f"{method} {path} answered {status}: {body[:500]!r}")
        if status >= 400:
            data = json.loads(body)
            jsonschema.validate(data, ERROR_SCHEMA)
            assert data["_error"]["status"] == status, data
            return
        op = self.find(method, path)
        if op is None:
            return  # Porch's own routes (/porch/..., /healthz) are not Front's to judge.
        schema = self.response_schema(op, status)
        if status == 204:
            assert body == b"", f"{op.operation_id}: 204 with a body"
        elif schema is not None:
            assert content_type and content_type.startswith("application/json"), content_type
            data = json.loads(body)
            errors = sorted(
                jsonschema.Draft202012Validator(schema).iter_errors(data), key=lambda e: e.path
            )
            if errors:
                detail = "\n".join(
                    f"  at {list(e.absolute_path)}: {e.message[:300]}" for e in errors[:10]
                )
                raise AssertionError(f"{op.operation_id} ({status}) violates the spec:\n{detail}")
        if 200 <= status < 300:
            self.seen_ok.add(op.operation_id)
