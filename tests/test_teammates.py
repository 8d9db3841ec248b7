"""Teammates through the API: the directory, lookups by alias, profile updates, inboxes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api, Company
from tests.test_teams import event_types, person, serves


def test_list_teammates_is_the_company_directory(
    dunder_mifflin: Company, vance_refrigeration: Company
) -> None:
    api = dunder_mifflin.api
    dwight = person(api, "dwight@dundermifflin.com", first_name="Dwight", last_name="Schrute")
    listed = api.ok("GET", "/teammates")["_results"]
    assert [t["id"] for t in listed] == [dunder_mifflin.admin_id, dwight["id"]]
    assert listed[1] == dwight
    assert listed[1]["username"] == "dwight" and listed[1]["type"] == "user"
    bob = vance_refrigeration.api.ok("GET", "/teammates")["_results"]
    assert [t["id"] for t in bob] == [vance_refrigeration.admin_id]
    # A token of a single team still reads the directory.
    team_api = dunder_mifflin.client(
        dunder_mifflin.token(namespaces=[f"team:{dunder_mifflin.team_id}"])
    )
    assert len(team_api.ok("GET", "/teammates")["_results"]) == 2


def test_get_teammate_by_id_alias_or_email(
    dunder_mifflin: Company, vance_refrigeration: Company
) -> None:
    api = dunder_mifflin.api
    jim = person(api, "jim@dundermifflin.com", first_name="Jim")
    for ref in (jim["id"], "alt:email:jim@dundermifflin.com", "JIM@dundermifflin.com"):
        assert api.ok("GET", f"/teammates/{ref}") == jim, ref
    for ref in ("tea_zzzzzz", "alt:email:roy@dundermifflin.com", "alt:phone:123", "cir_1"):
        assert api.get(f"/teammates/{ref}").status_code == 404, ref
    other = vance_refrigeration.api
    assert other.get(f"/teammates/{jim['id']}").status_code == 404
    assert other.get("/teammates/jim@dundermifflin.com").status_code == 404


def test_update_teammate_profile(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    dwight = person(api, "dwight@dundermifflin.com", first_name="Dwight", last_name="Schrute")
    api.ok(
        "PATCH",
        f"/teammates/{dwight['id']}",
        204,
        json={"username": "assistant_to_the_rm", "last_name": "Schrute III", "is_available": False},
    )
    after = api.ok("GET", "/teammates/dwight@dundermifflin.com")
    assert after["username"] == "assistant_to_the_rm"
    assert after["first_name"] == "Dwight" and after["last_name"] == "Schrute III"
    assert after["is_available"] is False
    # Fields not sent keep their values.
    api.ok("PATCH", "/teammates/alt:email:dwight@dundermifflin.com", 204, json={"first_name": "D"})
    again = api.ok("GET", f"/teammates/{dwight['id']}")
    assert again["first_name"] == "D" and again["username"] == "assistant_to_the_rm"
    assert event_types(dunder_mifflin, "teammate", dwight["id"]) == [
        "teammate_created",
        "teammate_updated",
        "teammate_updated",
    ]


def test_username_must_be_unique_and_well_formed(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    jim = person(api, "jim@dundermifflin.com")
    pam = person(api, "pam@dundermifflin.com", username="pambeesly")
    taken = api.patch(f"/teammates/{jim['id']}", json={"username": "pambeesly"})
    assert taken.status_code == 409
    for bad in ("Jim", "jim-halpert", "jim halpert", "jim.h", "", "jim\x00", "j" * 65, 12, None):
        resp = api.patch(f"/teammates/{jim['id']}", json={"username": bad, "first_name": "X"})
        assert resp.status_code == 400, bad
    assert api.ok("GET", f"/teammates/{jim['id']}") == jim
    assert api.ok("GET", f"/teammates/{pam['id']}") == pam
    # Keeping one's own username is not a conflict.
    api.ok("PATCH", f"/teammates/{pam['id']}", 204, json={"username": "pambeesly"})


def test_bad_update_bodies_change_nothing(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    kevin = person(api, "kevin@dundermifflin.com", first_name="Kevin")
    for body in (
        {"first_name": 1},
        {"first_name": "K\x07"},
        {"last_name": "x" * 256},
        {"is_available": "yes"},
        {"custom_fields": ["a"]},
        {"custom_fields": {"Nope": "x"}},
    ):
        assert api.patch(f"/teammates/{kevin['id']}", json=body).status_code == 400, body
    assert api.patch("/teammates/tea_zzzzzz", json={"first_name": "K"}).status_code == 404
    assert api.ok("GET", f"/teammates/{kevin['id']}") == kevin


def _field(api: Api, name: str, type: str, **extra: Any) -> None:
    api.ok(
        "POST",
        "/porch/custom_fields",
        201,
        json={"object_type": "teammate", "name": name, "type": type, **extra},
    )


def test_custom_fields_are_typed_and_replaced_whole(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    _field(api, "Desk", "string")
    _field(api, "Beets sold", "number")
    _field(api, "Rank", "enum", values=[{"value": "assistant"}, {"value": "manager"}])
    _field(api, "Backup", "teammate")
    dwight = person(api, "dwight@dundermifflin.com")
    url = f"/teammates/{dwight['id']}"
    full = {
        "Desk": "next to Jim",
        "Beets sold": 1200,
        "Rank": "assistant",
        "Backup": "michael@dundermifflin.com",
    }
    api.ok("PATCH", url, 204, json={"custom_fields": full})
    assert api.ok("GET", url)["custom_fields"] == full
    # The map is replaced: fields left out are erased.
    api.ok("PATCH", url, 204, json={"custom_fields": {"Rank": "manager"}})
    assert api.ok("GET", url)["custom_fields"] == {"Rank": "manager"}
    for wrong in (
        {"Beets sold": "many"},
        {"Rank": "regional manager"},
        {"Backup": "toby@dundermifflin.com"},
        {"Desk": True},
    ):
        resp = api.patch(url, json={"custom_fields": wrong})
        assert resp.status_code == 400, wrong
        assert next(iter(wrong)) in " ".join(resp.json()["_error"].get("details", []))
    assert api.ok("GET", url)["custom_fields"] == {"Rank": "manager"}
    # An inbox field of another object type does not apply to teammates.
    api.ok(
        "POST",
        "/porch/custom_fields",
        201,
        json={"object_type": "contact", "name": "Shoe size", "type": "number"},
    )
    assert api.patch(url, json={"custom_fields": {"Shoe size": 11}}).status_code == 400


def test_only_shared_tokens_update_teammates(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    oscar = person(api, "oscar@dundermifflin.com", first_name="Oscar")
    team_api = dunder_mifflin.client(
        dunder_mifflin.token(namespaces=[f"team:{dunder_mifflin.team_id}"])
    )
    assert team_api.patch(f"/teammates/{oscar['id']}", json={"first_name": "O"}).status_code == 403
    reader = dunder_mifflin.client(dunder_mifflin.token(permissions=["read"]))
    assert reader.patch(f"/teammates/{oscar['id']}", json={"first_name": "O"}).status_code == 403
    assert api.ok("GET", f"/teammates/{oscar['id']}")["first_name"] == "Oscar"


def test_assigned_conversations_list_checks_teammate_and_paging(
    dunder_mifflin: Company, vance_refrigeration: Company
) -> None:
    api = dunder_mifflin.api
    me = dunder_mifflin.admin_id
    body = api.ok("GET", f"/teammates/{me}/conversations", params={"limit": 10})
    assert body["_results"] == [] and body["_pagination"]["next"] is None
    assert api.get(f"/teammates/{me}/conversations", params={"limit": 0}).status_code == 400
    assert api.get(f"/teammates/{me}/conversations", params={"limit": 101}).status_code == 400
    bad_sort = api.get(f"/teammates/{me}/conversations", params={"sort_by": "name"})
    assert bad_sort.status_code == 400
    assert api.get(f"/teammates/{me}/conversations", params={"page_token": "%%"}).status_code == 400
    other = vance_refrigeration.api
    assert other.get(f"/teammates/{me}/conversations").status_code == 404


def test_teammate_inboxes(dunder_mifflin: Company, vance_refrigeration: Company) -> None:
    api = dunder_mifflin.api
    dwight = person(api, "dwight@dundermifflin.com", api_private_access=True)
    assert api.ok("GET", f"/teammates/{dwight['id']}/inboxes")["_results"] == []
    assert vance_refrigeration.api.get(f"/teammates/{dwight['id']}/inboxes").status_code == 404
    if not serves("create-team-inbox"):
        pytest.skip("inboxes are not served yet (create-team-inbox)")
    team = dunder_mifflin.team_id
    sales = api.ok(
        "POST",
        f"/teams/{team}/inboxes",
        201,
        json={"name": "Sales", "teammate_ids": [dwight["id"]]},
    )
    api.ok("POST", f"/teams/{team}/inboxes", 201, json={"name": "Accounting"})
    listed = api.ok("GET", "/teammates/dwight@dundermifflin.com/inboxes")["_results"]
    assert [i["id"] for i in listed] == [sales["id"]]
    if not serves("create-teammate-private-inbox"):
        return
    private = api.ok(
        "POST", f"/teammates/{dwight['id']}/private_inboxes", 201, json={"name": "Beets"}
    )
    mine = [i["id"] for i in api.ok("GET", f"/teammates/{dwight['id']}/inboxes")["_results"]]
    assert private["id"] in mine and sales["id"] in mine
    shared_only = dunder_mifflin.client(dunder_mifflin.token(namespaces=["shared"]))
    seen = shared_only.ok("GET", f"/teammates/{dwight['id']}/inboxes")["_results"]
    assert [i["id"] for i in seen] == [sales["id"]]
