"""Teammate groups through the API: the groups, their teammates, teams and team inboxes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api, Company
from tests.test_teams import event_types, new_team, person, serves


def group(api: Api, name: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = api.ok("POST", "/teammate_groups", 201, json={"name": name, **extra})
    return body


def ids_of(api: Api, path: str) -> list[str]:
    return [r["id"] for r in api.ok("GET", path)["_results"]]


def test_create_get_and_list_groups(dunder_mifflin: Company, vance_refrigeration: Company) -> None:
    api = dunder_mifflin.api
    party = group(api, "Party Planning Committee")
    assert party["id"].startswith("cir_")
    assert party["description"] is None and party["is_managed_by_scim"] is False
    assert party["permissions"] == {"contacts": {"access": "all"}}
    assert party["_links"]["related"]["teammates"].endswith(
        f"/teammate_groups/{party['id']}/teammates"
    )
    assert api.ok("GET", f"/teammate_groups/{party['id']}") == party
    finer = group(
        api,
        "Finer Things Club",
        description="Pam, Oscar and Toby",
        permissions={
            "contacts": {"access": "contact_lists", "contact_list_ids": ["grp_1", "grp_2"]}
        },
    )
    assert finer["description"] == "Pam, Oscar and Toby"
    assert finer["permissions"] == {
        "contacts": {"access": "contact_lists", "contact_list_ids": ["grp_1", "grp_2"]}
    }
    assert ids_of(api, "/teammate_groups") == [party["id"], finer["id"]]
    bob = vance_refrigeration.api
    assert bob.get(f"/teammate_groups/{party['id']}").status_code == 404
    assert bob.ok("GET", "/teammate_groups")["_results"] == []


def test_deprecated_contact_groups_become_contact_lists(api: Api) -> None:
    made = group(
        api,
        "Legacy",
        permissions={"contacts": {"access": "contact_groups", "contact_group_ids": ["grp_9"]}},
    )
    assert made["permissions"] == {
        "contacts": {"access": "contact_lists", "contact_list_ids": ["grp_9"]}
    }
    none = group(api, "Nobody", permissions={"contacts": {"access": "none"}})
    assert none["permissions"] == {"contacts": {"access": "none"}}


def test_bad_group_input_changes_nothing(api: Api) -> None:
    group(api, "Safety Committee")
    before = api.ok("GET", "/teammate_groups")["_results"]
    for body in (
        {},
        {"name": ""},
        {"name": "   "},
        {"name": 3},
        {"name": "a\x00b"},
        {"name": "x" * 256},
        {"name": "ok", "description": 5},
        {"name": "ok", "permissions": "all"},
        {"name": "ok", "permissions": {"contacts": {"access": "some"}}},
        {"name": "ok", "permissions": {"contacts": {}}},
        {
            "name": "ok",
            "permissions": {"contacts": {"access": "all", "contact_list_ids": ["grp_1"]}},
        },
        {
            "name": "ok",
            "permissions": {"contacts": {"access": "contact_lists", "contact_list_ids": ["tag_1"]}},
        },
        {
            "name": "ok",
            "permissions": {
                "contacts": {"access": "contact_lists", "contact_group_ids": ["grp_1"]}
            },
        },
    ):
        assert api.post("/teammate_groups", json=body).status_code == 400, body
    assert api.post("/teammate_groups", json={"name": "Safety Committee"}).status_code == 409
    assert api.ok("GET", "/teammate_groups")["_results"] == before


def test_update_group(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    g = group(api, "Sales", description="Paper")
    other = group(api, "Accounting")
    url = f"/teammate_groups/{g['id']}"
    api.ok("PATCH", url, 204, json={"name": "Sales team"})
    after = api.ok("GET", url)
    assert after["name"] == "Sales team" and after["description"] == "Paper"
    api.ok(
        "PATCH",
        url,
        204,
        json={"description": None, "permissions": {"contacts": {"access": "contact_lists"}}},
    )
    after = api.ok("GET", url)
    assert after["description"] is None and after["name"] == "Sales team"
    assert after["permissions"] == {"contacts": {"access": "contact_lists", "contact_list_ids": []}}
    assert api.patch(url, json={"name": "Accounting"}).status_code == 409
    assert api.patch(url, json={"name": None}).status_code == 400
    assert api.patch(url, json={"permissions": {"contacts": {"access": "any"}}}).status_code == 400
    assert api.ok("GET", url) == after
    assert api.ok("GET", f"/teammate_groups/{other['id']}")["name"] == "Accounting"
    assert api.patch("/teammate_groups/cir_zzzzzz", json={"name": "x"}).status_code == 404


def test_group_teammates(dunder_mifflin: Company, vance_refrigeration: Company) -> None:
    api = dunder_mifflin.api
    g = group(api, "Party Planning Committee")
    url = f"/teammate_groups/{g['id']}/teammates"
    angela = person(api, "angela@dundermifflin.com")
    phyllis = person(api, "phyllis@dundermifflin.com")
    pam = person(api, "pam@dundermifflin.com")
    api.ok(
        "POST",
        url,
        204,
        json={
            "teammate_ids": [
                angela["id"],
                "alt:email:phyllis@dundermifflin.com",
                "pam@dundermifflin.com",
            ]
        },
    )
    listed = api.ok("GET", url)["_results"]
    assert [t["id"] for t in listed] == [angela["id"], phyllis["id"], pam["id"]]
    assert listed[0] == angela
    api.ok("DELETE", url, 204, json={"teammate_ids": [pam["id"]]})
    assert ids_of(api, url) == [angela["id"], phyllis["id"]]
    for refs in (
        [pam["id"], "tea_zzzzzz"],
        [vance_refrigeration.admin_id],
        ["meredith@dundermifflin.com"],
    ):
        assert api.post(url, json={"teammate_ids": refs}).status_code == 404, refs
        assert api.delete(url, json={"teammate_ids": refs}).status_code == 404, refs
    assert api.post(url, json={"teammate_ids": []}).status_code == 400
    assert api.post(url, json={}).status_code == 400
    assert ids_of(api, url) == [angela["id"], phyllis["id"]]


def test_group_teams(dunder_mifflin: Company, vance_refrigeration: Company) -> None:
    api = dunder_mifflin.api
    g = group(api, "Regional")
    url = f"/teammate_groups/{g['id']}/teams"
    scranton = dunder_mifflin.team_id
    stamford = new_team(api, "Stamford")
    api.ok("POST", url, 204, json={"team_ids": [scranton, stamford]})
    listed = api.ok("GET", url)["_results"]
    assert [t["id"] for t in listed] == [scranton, stamford]
    assert listed[1] == {
        "_links": {"self": listed[1]["_links"]["self"]},
        "id": stamford,
        "name": "Stamford",
    }
    api.ok("DELETE", url, 204, json={"team_ids": [scranton]})
    assert ids_of(api, url) == [stamford]
    for refs in ([scranton, "tim_zzzzzz"], [vance_refrigeration.team_id], ["Stamford"]):
        assert api.post(url, json={"team_ids": refs}).status_code == 404, refs
    assert api.post(url, json={"team_ids": "tim_1"}).status_code == 400
    assert ids_of(api, url) == [stamford]


def test_group_inboxes_come_from_teams_and_links(dunder_mifflin: Company) -> None:
    if not serves("create-team-inbox") or not serves("create-teammate-private-inbox"):
        pytest.skip("inboxes are not served yet (create-team-inbox)")
    api = dunder_mifflin.api
    scranton = dunder_mifflin.team_id
    nashua = new_team(api, "Nashua")
    lobby = api.ok(
        "POST", f"/teams/{scranton}/inboxes", 201, json={"name": "Lobby", "is_public": True}
    )
    hr = api.ok("POST", f"/teams/{scranton}/inboxes", 201, json={"name": "HR", "is_public": False})
    nashua_hr = api.ok("POST", f"/teams/{nashua}/inboxes", 201, json={"name": "Nashua HR"})
    michael = dunder_mifflin.admin_id
    private = api.ok("POST", f"/teammates/{michael}/private_inboxes", 201, json={"name": "Mine"})
    g = group(api, "Managers")
    url = f"/teammate_groups/{g['id']}/inboxes"
    assert api.ok("GET", url)["_results"] == []
    # An inbox joins only through one of the group's teams.
    assert api.post(url, json={"inbox_ids": [hr["id"]]}).status_code == 400
    api.ok("POST", f"/teammate_groups/{g['id']}/teams", 204, json={"team_ids": [scranton]})
    listed = api.ok("GET", url)["_results"]
    assert [i["id"] for i in listed] == [lobby["id"]]
    assert listed[0]["name"] == "Lobby"
    api.ok("POST", url, 204, json={"inbox_ids": [hr["id"]]})
    assert ids_of(api, url) == [lobby["id"], hr["id"]]
    assert api.post(url, json={"inbox_ids": [private["id"]]}).status_code == 400
    assert api.post(url, json={"inbox_ids": [nashua_hr["id"]]}).status_code == 400
    assert api.post(url, json={"inbox_ids": ["inb_zzzzzz"]}).status_code == 404
    assert api.delete(url, json={"inbox_ids": [lobby["id"]]}).status_code == 400
    assert api.delete(url, json={"inbox_ids": [private["id"]]}).status_code == 400
    assert ids_of(api, url) == [lobby["id"], hr["id"]]
    api.ok("DELETE", url, 204, json={"inbox_ids": [hr["id"]]})
    assert ids_of(api, url) == [lobby["id"]]
    # Removing a team unlinks its inboxes for good.
    api.ok("POST", url, 204, json={"inbox_ids": [hr["id"]]})
    api.ok("DELETE", f"/teammate_groups/{g['id']}/teams", 204, json={"team_ids": [scranton]})
    assert api.ok("GET", url)["_results"] == []
    api.ok("POST", f"/teammate_groups/{g['id']}/teams", 204, json={"team_ids": [scranton]})
    assert ids_of(api, url) == [lobby["id"]]


def test_delete_group(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    g = group(api, "Dundies committee")
    dwight = person(api, "dwight@dundermifflin.com")
    api.ok(
        "POST", f"/teammate_groups/{g['id']}/teammates", 204, json={"teammate_ids": [dwight["id"]]}
    )
    api.ok(
        "POST",
        f"/teammate_groups/{g['id']}/teams",
        204,
        json={"team_ids": [dunder_mifflin.team_id]},
    )
    api.ok("PATCH", f"/teammate_groups/{g['id']}", 204, json={"description": "Awards"})
    api.ok("DELETE", f"/teammate_groups/{g['id']}", 204)
    assert api.get(f"/teammate_groups/{g['id']}").status_code == 404
    assert api.get(f"/teammate_groups/{g['id']}/teammates").status_code == 404
    assert api.delete(f"/teammate_groups/{g['id']}").status_code == 404
    assert api.ok("GET", "/teammate_groups")["_results"] == []
    assert event_types(dunder_mifflin, "teammate_group", g["id"]) == [
        "teammate_group_created",
        "teammate_group_teammates_added",
        "teammate_group_teams_added",
        "teammate_group_updated",
        "teammate_group_deleted",
    ]
    # The people and teams stay; the name is free again.
    assert api.ok("GET", f"/teammates/{dwight['id']}")["id"] == dwight["id"]
    assert api.ok("GET", f"/teams/{dunder_mifflin.team_id}")["id"] == dunder_mifflin.team_id
    again = group(api, "Dundies committee")
    assert ids_of(api, f"/teammate_groups/{again['id']}/teammates") == []


def test_group_access_needs_shared_tokens(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    g = group(api, "Warehouse")
    gid = g["id"]
    team_api = dunder_mifflin.client(
        dunder_mifflin.token(namespaces=[f"team:{dunder_mifflin.team_id}"])
    )
    assert team_api.ok("GET", "/teammate_groups")["_results"] == []
    assert team_api.get(f"/teammate_groups/{gid}").status_code == 404
    assert team_api.post("/teammate_groups", json={"name": "Darryl's"}).status_code == 403
    provisioning = dunder_mifflin.client(dunder_mifflin.token(namespaces=["provisioning"]))
    assert ids_of(provisioning, "/teammate_groups") == [gid]
    assert provisioning.patch(f"/teammate_groups/{gid}", json={"name": "W"}).status_code == 403
    reader = dunder_mifflin.client(dunder_mifflin.token(permissions=["read"]))
    assert reader.ok("GET", f"/teammate_groups/{gid}") == g
    assert reader.post("/teammate_groups", json={"name": "Darryl's"}).status_code == 403
    writer = dunder_mifflin.client(dunder_mifflin.token(permissions=["read", "write"]))
    assert writer.delete(f"/teammate_groups/{gid}").status_code == 403
    assert ids_of(api, "/teammate_groups") == [gid]
    assert api.ok("GET", f"/teammate_groups/{gid}") == g
