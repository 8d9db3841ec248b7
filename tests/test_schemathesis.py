"""Schemathesis against every Front operation Porch serves, on both databases.

Cases are generated from Front's own spec (filtered to what ``/openapi.json`` claims), once with
random path ids and once with ids of real objects of the company, and sent to the live server.
Checks: no 5xx, schemathesis's own schema conformance, and the strict checker of tests/spec.py.
The number of examples per operation is bounded (``PORCH_SCHEMATHESIS_EXAMPLES``, default 15).
"""

from __future__ import annotations

import json
import os
from typing import Any

import hypothesis
import pytest
import requests
from hypothesis import HealthCheck, given
from schemathesis.checks import not_a_server_error
from schemathesis.openapi import from_dict
from schemathesis.openapi.checks import JsonSchemaError  # noqa: F401 - documents the failure type

from tests.conftest import Api, Company
from tests.spec import CHANNEL, CORE, SpecChecker

EXAMPLES = int(os.environ.get("PORCH_SCHEMATHESIS_EXAMPLES", "15"))
pytestmark = pytest.mark.slow


def _front_operations(api: Api) -> set[str]:
    doc = api.ok("GET", "/openapi.json")
    return {
        op["operationId"]
        for item in doc["paths"].values()
        for op in item.values()
        if "Porch" not in op.get("tags", [])
    }


def _real_ids(company: Company) -> dict[str, str]:
    """Path parameter values naming real objects of ``company``."""
    api = company.api
    tag = api.ok("POST", "/company/tags", 201, json={"name": "fuzz"})["id"]
    found = {"team_id": company.team_id, "teammate_id": company.admin_id, "tag_id": tag}
    found["contact_id"] = api.ok(
        "POST",
        "/contacts",
        201,
        json={
            "handles": [{"source": "email", "handle": "fuzz@example.com"}],
            "list_names": ["fuzz"],
        },
    )["id"]
    found["contact_list_id"] = found["contact_group_id"] = api.ok("GET", "/contact_lists")[
        "_results"
    ][0]["id"]
    found["account_id"] = api.ok("POST", "/accounts", 201, json={"name": "fuzz"})["id"]
    optional = {
        "inbox_id": "/inboxes",
        "channel_id": "/channels",
        "teammate_group_id": "/teammate_groups",
        "status_id": "/company/statuses",
    }
    for param, path in optional.items():
        resp = api.get(path)
        if resp.status_code == 200 and resp.json()["_results"]:
            found[param] = resp.json()["_results"][0]["id"]
    return found


@pytest.mark.parametrize("mode", ["random-ids", "real-ids"])
def test_schemathesis_finds_no_server_error_or_spec_violation(
    dunder_mifflin: Company, checker: SpecChecker, mode: str
) -> None:
    api = dunder_mifflin.api
    served = _front_operations(api)
    # Front's Core API, and its Channel API (partner channels) where that spec is present.
    specs = [CORE, *([CHANNEL] if CHANNEL.is_file() else [])]
    operations = [
        result.ok()
        for path in specs
        for result in from_dict(json.loads(path.read_text())).get_all_operations()
    ]
    token = api.http.headers["Authorization"]
    ids = _real_ids(dunder_mifflin) if mode == "real-ids" else {}
    session = requests.Session()
    failures: list[str] = []
    tested = 0
    for op in operations:
        op_id = op.definition.raw.get("operationId")
        if op_id not in served:
            continue
        tested += 1
        names = [p.name for p in op.path_parameters]
        params = {n: ids[n] for n in names if n in ids} or None
        if mode == "real-ids" and params is None:
            continue
        strategy = op.as_strategy(path_parameters=params)

        @given(case=strategy)
        @hypothesis.settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            resp = case.call(
                base_url=dunder_mifflin.server.url,
                session=session,
                headers={"Authorization": token},
            )
            case.validate_response(resp, checks=[not_a_server_error])
            ctype = resp.headers.get("content-type")
            if isinstance(ctype, list):
                ctype = ctype[0] if ctype else None
            checker.check(
                case.method.upper(),
                resp.request.path_url.split("?")[0],
                resp.status_code,
                resp.content,
                ctype,
            )

        try:
            run()
        except Exception as exc:  # collect every operation's failure, then report them all
            failures.append(f"{op_id}: {str(exc)[:1500]}")
    session.close()
    assert tested >= len(served) - 1
    assert not failures, "\n\n".join(failures)
