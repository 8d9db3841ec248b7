"""The contract: what ``/openapi.json`` claims is exactly what Front's spec describes.

An operation Porch claims must exist in Front's spec under the same method and path with the
same operationId and scope; Porch's own operations live under ``/porch/`` (or are ``/healthz``
and ``/openapi.json``) and are marked as not Front's. Responses are checked against the spec by
the harness on every call (tests/spec.py); this module checks the claims themselves.
"""

from __future__ import annotations

from typing import Any

from tests.conftest import Api
from tests.spec import SpecChecker

# /oauth/ is the OAuth server of applications (Front serves it on app.frontapp.com).
PORCH_OWN_PATHS = ("/porch/", "/healthz", "/openapi.json", "/oauth/")


def _claimed(api: Api) -> dict[tuple[str, str], dict[str, Any]]:
    doc = api.ok("GET", "/openapi.json")
    out = {}
    for path, item in doc["paths"].items():
        for method, op in item.items():
            out[(method.upper(), path)] = op
    return out


def test_every_claimed_front_operation_is_in_the_spec(api: Api, checker: SpecChecker) -> None:
    spec_ops = {(o.method, o.template): o for o in checker.operations}
    problems = []
    for (method, path), op in _claimed(api).items():
        if path.startswith(PORCH_OWN_PATHS):
            assert op["tags"] == ["Porch"], f"{method} {path} is Porch's own and must say so"
            continue
        front = spec_ops.get((method, path))
        if front is None:
            problems.append(f"{method} {path} ({op['operationId']}) is not in Front's spec")
            continue
        if front.operation_id != op["operationId"]:
            problems.append(
                f"{method} {path} is {front.operation_id} in Front's spec, "
                f"Porch calls it {op['operationId']}"
            )
        if front.op.get("x-required-scopes") != op.get("x-required-scopes"):
            problems.append(
                f"{op['operationId']}: scope {op.get('x-required-scopes')} "
                f"!= Front's {front.op.get('x-required-scopes')}"
            )
        for status in op["responses"]:
            if status not in front.op["responses"]:
                problems.append(f"{op['operationId']}: status {status} not in Front's spec")
    assert not problems, "\n".join(problems)


def test_openapi_lists_operation_ids_once(api: Api) -> None:
    ids = [op["operationId"] for op in _claimed(api).values()]
    assert len(ids) == len(set(ids))


FOUNDATION_TAGS = (
    "Token Identity",
    "Teams",
    "Teammates",
    "Teammate groups",
    "Inboxes",
    "Channels",
    "Tags",
    "Custom Fields",
    "Statuses",
    "Events",
    "Signatures",
)


def test_every_operation_of_the_foundation_tags_is_served(api: Api, checker: SpecChecker) -> None:
    claimed = {op["operationId"] for op in _claimed(api).values()}
    wanted = {
        o.operation_id for o in checker.operations if o.op.get("tags", [""])[0] in FOUNDATION_TAGS
    }
    assert len(wanted) == 75
    missing = sorted(wanted - claimed)
    assert not missing, f"not implemented: {missing}"


def test_openapi_needs_no_token_and_points_at_this_server(dunder_mifflin: Any) -> None:
    anonymous = dunder_mifflin.client(None)
    doc = anonymous.ok("GET", "/openapi.json")
    assert doc["servers"][0]["url"] == dunder_mifflin.server.url
    assert doc["openapi"].startswith("3.")
