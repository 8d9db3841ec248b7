"""Bad input on every route: a 4xx envelope, and nothing stored changes.

The event log is the witness: every write appends to it in the same transaction, so a request
that left no new event wrote nothing.
"""

from __future__ import annotations

from typing import Any

import pytest

from porch import config
from porch.api.routing import Operation
from porch.app import Porch
from tests.conftest import Api, Company
from tests.objects import one_of_everything


def _operations() -> list[Operation]:
    return [op for op in Porch(config.load("/tmp/porch-unused")).router.operations if op.auth]


def _concrete(path: str, ids: dict[str, str]) -> str:
    for name, value in ids.items():
        path = path.replace("{" + name + "}", value)
    return path


def _event_count(api: Api) -> int:
    return len(api.all_pages("/porch/events", limit=100))


def _wrong_values(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """Bodies that each break one property of ``schema``: wrong type, control characters."""
    out: list[dict[str, Any]] = []
    for name, prop in schema.get("properties", {}).items():
        kinds = {prop.get("type")} | {a.get("type") for a in prop.get("anyOf", [])}
        if "string" in kinds:
            out.append({name: 12345})
            out.append({name: "bad\x00value\x01"})
        if "boolean" in kinds:
            out.append({name: "yes"})
        if "integer" in kinds or "number" in kinds:
            out.append({name: "many"})
        if "array" in kinds:
            out.append({name: "not-a-list"})
            out.append({name: [{"nested": True}]})
        if "object" in kinds:
            out.append({name: ["not", "an", "object"]})
    return out


@pytest.fixture
def walk(dunder_mifflin: Company) -> tuple[Api, dict[str, str]]:
    return dunder_mifflin.api, one_of_everything(dunder_mifflin)


def test_malformed_bodies_are_rejected_and_change_nothing(walk: tuple[Api, dict[str, str]]) -> None:
    api, ids = walk
    before = _event_count(api)
    checked = 0
    for op in _operations():
        if op.body is None:
            continue
        path = _concrete(op.path, ids)
        bodies: list[tuple[str, Any]] = [
            ("broken json", b'{"name": '),
            ("array", b"[1, 2]"),
            ("string", b'"text"'),
            ("not utf-8", b'{"name": "\xff\xfe"}'),
            ("lone surrogate", b'{"name": "\\ud800"}'),
        ]
        for label, raw in bodies:
            resp = api.request(
                op.method, path, content=raw, headers={"content-type": "application/json"}
            )
            assert 400 <= resp.status_code < 500, (op.operation_id, label, resp.text[:200])
        for body in _wrong_values(op.body.model_json_schema()):
            resp = api.request(op.method, path, json=body)
            assert 400 <= resp.status_code < 500, (op.operation_id, body, resp.text[:200])
        checked += 1
    assert checked >= 20
    assert _event_count(api) == before


def test_oversized_bodies_get_413(walk: tuple[Api, dict[str, str]]) -> None:
    api, ids = walk
    before = _event_count(api)
    huge = b'{"name": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    for op in _operations():
        if op.body is None:
            continue
        resp = api.request(
            op.method,
            _concrete(op.path, ids),
            content=huge,
            headers={"content-type": "application/json"},
        )
        assert resp.status_code == 413, (op.operation_id, resp.status_code)
    assert _event_count(api) == before


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "1000000"},
        {"limit": "0"},
        {"limit": "-1"},
        {"limit": "ten"},
        {"limit": "1e2"},
        {"page_token": "not-a-token!"},
        {"page_token": "WzEsMiwzXQ"},
        {"sort_order": "sideways"},
        {"sort_by": "nonsense"},
    ],
)
def test_bad_paging_parameters_are_400(api: Api, params: dict[str, str]) -> None:
    for path in ("/tags", "/company/tags", "/porch/events", "/events"):
        resp = api.get(path, params=params)
        assert resp.status_code == 400, (path, params, resp.status_code)


@pytest.mark.parametrize(
    "ref",
    [
        "tag_zzzzzzzzzzzzzzzzzzzz",
        "tag_",
        "tag_-1",
        "TAG_1",
        "cnv_1",
        "1 OR 1=1",
        "tag_1'; DROP TABLE tags; --",
        "alt:email:a%00b",
        "%00",
        "tag_1%00",
        "\u202etag_1",
    ],
)
def test_unknown_or_hostile_ids_are_404_and_harmless(api: Api, ref: str) -> None:
    tag = api.ok("POST", "/company/tags", 201, json={"name": "Survivor"})
    resp = api.get(f"/tags/{ref}")
    assert resp.status_code == 404
    for alias in (f"alt:email:{ref}", ref):
        assert api.get(f"/teammates/{alias}").status_code == 404
    assert api.ok("GET", f"/tags/{tag['id']}")["name"] == "Survivor"
