"""Custom field definitions: Front's seven lists; renaming and deleting through the admin API."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api, Company

LISTS = {
    "account": "/accounts/custom_fields",
    "contact": "/contacts/custom_fields",
    "conversation": "/conversations/custom_fields",
    "inbox": "/inboxes/custom_fields",
    "link": "/links/custom_fields",
    "teammate": "/teammates/custom_fields",
}


def define(api: Api, object_type: str, name: str, type: str = "string", **extra: Any) -> Any:
    body = {"object_type": object_type, "name": name, "type": type, **extra}
    return api.ok("POST", "/porch/custom_fields", 201, json=body)


def names(api: Api, path: str) -> list[str]:
    return [f["name"] for f in api.ok("GET", path)["_results"]]


def test_each_list_shows_only_its_object_types_fields(api: Api) -> None:
    made = {kind: define(api, kind, f"{kind.title()} tier") for kind in LISTS}
    for kind, path in LISTS.items():
        body = api.ok("GET", path)
        assert body["_pagination"]["next"] is None
        assert body["_links"]["self"].endswith(path)
        assert [f["id"] for f in body["_results"]] == [made[kind]["id"]]
    # The deprecated /custom_fields lists contact fields.
    assert names(api, "/custom_fields") == ["Contact tier"]


def test_field_shape_and_enum_values(api: Api) -> None:
    define(api, "contact", "Region", "string", description="Where they are")
    define(
        api,
        "contact",
        "Plan",
        "enum",
        values=[{"value": "gold", "label": "Gold plan"}, {"value": "silver"}],
    )
    fields = api.ok("GET", "/contacts/custom_fields")["_results"]
    region, plan = fields
    assert region["id"].startswith("fld_")
    assert region["description"] == "Where they are" and region["type"] == "string"
    assert "values" not in region
    assert plan["type"] == "enum"
    assert plan["values"] == [
        {"value": "gold", "label": "Gold plan"},
        {"value": "silver", "label": "silver"},
    ]
    assert plan["_links"]["self"].endswith(f"/custom_fields/{plan['id']}")


def test_lists_are_per_company(dunder_mifflin: Company, vance_refrigeration: Company) -> None:
    define(dunder_mifflin.api, "teammate", "Desk")
    assert vance_refrigeration.api.ok("GET", "/teammates/custom_fields")["_results"] == []


def test_listing_needs_a_token_with_read(dunder_mifflin: Company) -> None:
    define(dunder_mifflin.api, "teammate", "Desk")
    writer = dunder_mifflin.client(dunder_mifflin.token(permissions=["write"]))
    assert writer.get("/teammates/custom_fields").status_code == 403
    reader = dunder_mifflin.client(
        dunder_mifflin.token(namespaces=["shared"], permissions=["read"])
    )
    assert names(reader, "/teammates/custom_fields") == ["Desk"]


def test_rename_moves_the_values_of_teammates_and_inboxes(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    desk = define(api, "teammate", "Desk")
    define(api, "teammate", "Floor", "number")
    wing = define(api, "inbox", "Wing")
    dwight = api.ok("POST", "/porch/teammates", 201, json={"email": "dwight@dundermifflin.com"})
    jim = api.ok("POST", "/porch/teammates", 201, json={"email": "jim@dundermifflin.com"})
    api.ok(
        "PATCH",
        f"/teammates/{dwight['id']}",
        204,
        json={"custom_fields": {"Desk": "By the window", "Floor": 2}},
    )
    api.ok("PATCH", f"/teammates/{jim['id']}", 204, json={"custom_fields": {"Floor": 2}})
    inbox = api.ok(
        "POST",
        f"/teams/{dunder_mifflin.team_id}/inboxes",
        201,
        json={"name": "Sales", "custom_fields": {"Wing": "East"}},
    )

    updated = api.ok("PATCH", f"/porch/custom_fields/{desk['id']}", json={"name": "Workstation"})
    assert updated["name"] == "Workstation" and updated["type"] == "string"
    api.ok("PATCH", f"/porch/custom_fields/{wing['id']}", json={"name": "Side"})

    assert api.ok("GET", f"/teammates/{dwight['id']}")["custom_fields"] == {
        "Workstation": "By the window",
        "Floor": 2,
    }
    assert api.ok("GET", f"/teammates/{jim['id']}")["custom_fields"] == {"Floor": 2}
    assert api.ok("GET", f"/inboxes/{inbox['id']}")["custom_fields"] == {"Side": "East"}
    assert names(api, "/teammates/custom_fields") == ["Workstation", "Floor"]
    # The old name is gone: writing it is now an unknown field.
    stale = api.patch(f"/teammates/{jim['id']}", json={"custom_fields": {"Desk": "x"}})
    assert stale.status_code == 400
    api.ok("PATCH", f"/teammates/{jim['id']}", 204, json={"custom_fields": {"Workstation": "x"}})


def test_rename_leaves_other_companies_values_alone(
    dunder_mifflin: Company, vance_refrigeration: Company
) -> None:
    ours = define(dunder_mifflin.api, "teammate", "Desk")
    define(vance_refrigeration.api, "teammate", "Desk")
    bob = vance_refrigeration.admin_id
    vance_refrigeration.api.ok(
        "PATCH", f"/teammates/{bob}", 204, json={"custom_fields": {"Desk": "Front office"}}
    )
    dunder_mifflin.api.ok("PATCH", f"/porch/custom_fields/{ours['id']}", json={"name": "Seat"})
    assert vance_refrigeration.api.ok("GET", f"/teammates/{bob}")["custom_fields"] == {
        "Desk": "Front office"
    }
    # And another company's field is not ours to rename.
    theirs = vance_refrigeration.api.ok("GET", "/teammates/custom_fields")["_results"][0]
    resp = dunder_mifflin.api.patch(f"/porch/custom_fields/{theirs['id']}", json={"name": "X"})
    assert resp.status_code == 404


def test_description_only_change_keeps_values(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    desk = define(api, "teammate", "Desk")
    me = dunder_mifflin.admin_id
    api.ok("PATCH", f"/teammates/{me}", 204, json={"custom_fields": {"Desk": "Corner office"}})
    api.ok("PATCH", f"/porch/custom_fields/{desk['id']}", json={"description": "Where they sit"})
    listed = api.ok("GET", "/teammates/custom_fields")["_results"][0]
    assert (listed["name"], listed["description"]) == ("Desk", "Where they sit")
    assert api.ok("GET", f"/teammates/{me}")["custom_fields"] == {"Desk": "Corner office"}


@pytest.mark.parametrize(
    "body",
    [
        {"type": "number"},
        {"name": "Seat", "type": "enum"},
        {"object_type": "contact"},
        {"values": [{"value": "a"}]},
        {"name": ""},
        {"name": "   "},
        {"name": 3},
        {"name": "a\x00b"},
        {"description": "x" * 1001},
        {"description": "bad\x00value"},
    ],
)
def test_bad_updates_change_nothing(dunder_mifflin: Company, body: dict[str, Any]) -> None:
    api = dunder_mifflin.api
    desk = define(api, "teammate", "Desk", description="Where")
    me = dunder_mifflin.admin_id
    api.ok("PATCH", f"/teammates/{me}", 204, json={"custom_fields": {"Desk": "Corner"}})
    resp = api.patch(f"/porch/custom_fields/{desk['id']}", json=body)
    assert resp.status_code == 400, resp.text
    listed = api.ok("GET", "/teammates/custom_fields")["_results"]
    assert [(f["name"], f["type"], f["description"]) for f in listed] == [
        ("Desk", "string", "Where")
    ]
    assert api.ok("GET", f"/teammates/{me}")["custom_fields"] == {"Desk": "Corner"}


def test_rename_onto_a_taken_name_conflicts(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    desk = define(api, "teammate", "Desk")
    define(api, "teammate", "Floor")
    # The same name on another object type is no conflict.
    define(api, "inbox", "Wing")
    me = dunder_mifflin.admin_id
    api.ok("PATCH", f"/teammates/{me}", 204, json={"custom_fields": {"Desk": "Corner"}})
    resp = api.patch(f"/porch/custom_fields/{desk['id']}", json={"name": "Floor"})
    assert resp.status_code == 409
    assert api.ok("GET", f"/teammates/{me}")["custom_fields"] == {"Desk": "Corner"}
    api.ok("PATCH", f"/porch/custom_fields/{desk['id']}", json={"name": "Wing"})
    assert names(api, "/teammates/custom_fields") == ["Wing", "Floor"]


def test_delete_removes_the_field_and_its_values(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    desk = define(api, "teammate", "Desk")
    define(api, "teammate", "Floor", "number")
    me = dunder_mifflin.admin_id
    api.ok("PATCH", f"/teammates/{me}", 204, json={"custom_fields": {"Desk": "Corner", "Floor": 1}})
    api.ok("DELETE", f"/porch/custom_fields/{desk['id']}", 204)
    assert names(api, "/teammates/custom_fields") == ["Floor"]
    assert api.ok("GET", f"/teammates/{me}")["custom_fields"] == {"Floor": 1}
    assert api.delete(f"/porch/custom_fields/{desk['id']}").status_code == 404
    assert api.patch(f"/porch/custom_fields/{desk['id']}", json={"name": "X"}).status_code == 404
    # The name is free again, and a new field of that name starts empty.
    define(api, "teammate", "Desk", "boolean")
    assert api.ok("GET", f"/teammates/{me}")["custom_fields"] == {"Floor": 1}


def test_changes_are_in_the_event_log(api: Api) -> None:
    desk = define(api, "teammate", "Desk")
    api.ok("PATCH", f"/porch/custom_fields/{desk['id']}", json={"name": "Seat"})
    api.ok("DELETE", f"/porch/custom_fields/{desk['id']}", 204)
    log = api.ok(
        "GET",
        "/porch/events",
        params=[
            ("q[types]", "custom_field_created"),
            ("q[types]", "custom_field_definition_updated"),
            ("q[types]", "custom_field_deleted"),
            ("sort_order", "asc"),
        ],
    )["_results"]
    assert [e["type"] for e in log] == [
        "custom_field_created",
        "custom_field_definition_updated",
        "custom_field_deleted",
    ]
    assert {e["target"]["data"]["id"] for e in log} == {desk["id"]}


def test_admin_routes_need_provisioning(dunder_mifflin: Company) -> None:
    desk = define(dunder_mifflin.api, "teammate", "Desk")
    shared = dunder_mifflin.client(dunder_mifflin.token(namespaces=["shared"]))
    assert shared.patch(f"/porch/custom_fields/{desk['id']}", json={"name": "X"}).status_code == 403
    assert shared.delete(f"/porch/custom_fields/{desk['id']}").status_code == 403
    assert names(dunder_mifflin.api, "/teammates/custom_fields") == ["Desk"]
