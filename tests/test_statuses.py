"""Ticket statuses: the defaults, custom ones from the admin API, and ticketing switched off."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api, Company


def statuses(api: Api) -> list[dict[str, Any]]:
    return list(api.ok("GET", "/company/statuses")["_results"])


def test_a_new_company_has_one_default_status_per_category(api: Api) -> None:
    body = api.ok("GET", "/company/statuses")
    assert body["_pagination"]["next"] is None
    found = [(s["name"], s["category"]) for s in body["_results"]]
    assert found == [("Open", "open"), ("Waiting", "waiting"), ("Resolved", "resolved")]
    for status in body["_results"]:
        assert status["id"].startswith("sts_")
        assert api.ok("GET", f"/company/statuses/{status['id']}") == status
        assert status["_links"]["self"].endswith(f"/company/statuses/{status['id']}")


def test_create_and_update_a_custom_status(api: Api) -> None:
    made = api.ok(
        "POST",
        "/porch/statuses",
        201,
        json={"name": "Waiting on legal", "category": "waiting", "description": "Contracts"},
    )
    assert (made["name"], made["category"], made["description"]) == (
        "Waiting on legal",
        "waiting",
        "Contracts",
    )
    assert made["id"] in [s["id"] for s in statuses(api)]
    updated = api.ok("PATCH", f"/porch/statuses/{made['id']}", json={"name": "Legal review"})
    assert (updated["name"], updated["description"]) == ("Legal review", "Contracts")
    assert updated["updated_at"] >= made["updated_at"]
    cleared = api.ok("PATCH", f"/porch/statuses/{made['id']}", json={"description": None})
    assert cleared["description"] is None
    fetched = api.ok("GET", f"/company/statuses/{made['id']}")
    assert (fetched["name"], fetched["category"], fetched["description"]) == (
        "Legal review",
        "waiting",
        None,
    )


def test_status_names_are_unique(api: Api) -> None:
    api.ok("POST", "/porch/statuses", 201, json={"name": "On hold", "category": "waiting"})
    for name in ("On hold", "on HOLD", "Open"):
        resp = api.post("/porch/statuses", json={"name": name, "category": "open"})
        assert resp.status_code == 409, name
    waiting = statuses(api)[1]
    resp = api.patch(f"/porch/statuses/{waiting['id']}", json={"name": "On Hold"})
    assert resp.status_code == 409
    assert api.ok("GET", f"/company/statuses/{waiting['id']}")["name"] == "Waiting"
    # Renaming a status to its own name (another case) is no conflict.
    api.ok("PATCH", f"/porch/statuses/{waiting['id']}", json={"name": "WAITING"})


@pytest.mark.parametrize(
    "body",
    [
        {"name": "Later", "category": "snoozed"},
        {"name": "Later"},
        {"category": "open"},
        {"name": "", "category": "open"},
        {"name": "  ", "category": "open"},
        {"name": "a\x07b", "category": "open"},
        {"name": 5, "category": "open"},
        {"name": "Later", "category": "open", "description": "x" * 1001},
        {"name": "Later", "category": "open", "description": "a\x00b"},
    ],
)
def test_bad_statuses_are_refused(api: Api, body: dict[str, Any]) -> None:
    before = statuses(api)
    assert api.post("/porch/statuses", json=body).status_code == 400
    assert statuses(api) == before


def test_category_never_changes_and_bad_patches_change_nothing(api: Api) -> None:
    open_ = statuses(api)[0]
    for body in ({"name": ""}, {"name": None}, {"name": 1}, {"description": 2}):
        assert api.patch(f"/porch/statuses/{open_['id']}", json=body).status_code == 400, body
    # category is not an editable field: it is ignored, as Front ignores unknown fields.
    api.ok("PATCH", f"/porch/statuses/{open_['id']}", json={"category": "resolved"})
    assert api.ok("GET", f"/company/statuses/{open_['id']}") == open_


def test_ticketing_off_hides_statuses(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    first = statuses(api)[0]
    api.ok("PATCH", "/porch/company", json={"ticketing_enabled": False})
    assert api.get("/company/statuses").status_code == 404
    assert api.get(f"/company/statuses/{first['id']}").status_code == 404
    api.ok("PATCH", "/porch/company", json={"ticketing_enabled": True})
    assert statuses(api)[0] == first


def test_statuses_are_per_company(dunder_mifflin: Company, vance_refrigeration: Company) -> None:
    theirs = statuses(vance_refrigeration.api)[0]
    assert dunder_mifflin.api.get(f"/company/statuses/{theirs['id']}").status_code == 404
    resp = dunder_mifflin.api.patch(f"/porch/statuses/{theirs['id']}", json={"name": "Mine"})
    assert resp.status_code == 404
    assert statuses(vance_refrigeration.api)[0] == theirs
    for ref in ("sts_zzzzzzzzzz", "tag_1", "sts_", "nope"):
        assert dunder_mifflin.api.get(f"/company/statuses/{ref}").status_code == 404


def test_reading_needs_read_and_writing_needs_provisioning(dunder_mifflin: Company) -> None:
    reader = dunder_mifflin.client(
        dunder_mifflin.token(namespaces=["shared"], permissions=["read"])
    )
    assert len(statuses(reader)) == 3
    writer_only = dunder_mifflin.client(dunder_mifflin.token(permissions=["write"]))
    assert writer_only.get("/company/statuses").status_code == 403
    resp = reader.post("/porch/statuses", json={"name": "Later", "category": "open"})
    assert resp.status_code == 403
    assert len(statuses(dunder_mifflin.api)) == 3
