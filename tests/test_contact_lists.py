"""Contact lists and their deprecated twin, contact groups: owners, names, members, deleting,
and who sees team and private lists."""

from __future__ import annotations

import time
from typing import Any

from tests.conftest import Api, Company


def _contact(api: Api, email: str, **fields: Any) -> Any:
    body = {"handles": [{"source": "email", "handle": email}], **fields}
    return api.ok("POST", "/contacts", 201, json=body)


def _ids(rows: list[dict[str, Any]]) -> list[str]:
    return [r["id"] for r in rows]


def _named(rows: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(r for r in rows if r["name"] == name)


def test_create_lists_in_each_place(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    team = dunder_mifflin.team_id
    michael = dunder_mifflin.admin_id
    api.ok("POST", "/contact_lists", 204, json={"name": "Clients"})
    api.ok("POST", f"/teams/{team}/contact_lists", 204, json={"name": "Prospects"})
    api.ok("POST", f"/teammates/{michael}/contact_lists", 204, json={"name": "Friends"})
    everything = api.ok("GET", "/contact_lists")
    assert everything["_pagination"]["next"] is None
    assert [lst["name"] for lst in everything["_results"]] == ["Clients", "Prospects", "Friends"]
    clients = _named(everything["_results"], "Clients")
    # The legacy create lands in the oldest team.
    assert clients["_links"]["related"]["owner"].endswith(f"/teams/{team}")
    assert clients["id"].startswith("grp_") and clients["is_private"] is False
    assert clients["_links"]["self"].endswith(f"/contact_lists/{clients['id']}")
    assert clients["_links"]["related"]["contacts"].endswith(
        f"/contact_lists/{clients['id']}/contacts"
    )
    friends = _named(everything["_results"], "Friends")
    assert friends["is_private"] is True
    assert friends["_links"]["related"]["owner"].endswith(f"/teammates/{michael}")
    team_lists = api.ok("GET", f"/teams/{team}/contact_lists")["_results"]
    assert [lst["name"] for lst in team_lists] == ["Clients", "Prospects"]
    assert _ids(api.ok("GET", f"/teammates/{michael}/contact_lists")["_results"]) == [friends["id"]]
    # Names are unique per owner, not across owners.
    assert api.post("/contact_lists", json={"name": "Clients"}).status_code == 409
    api.ok("POST", f"/teammates/{michael}/contact_lists", 204, json={"name": "Clients"})
    for bad in ({"name": ""}, {"name": "  "}, {}, {"name": 3}):
        assert api.post("/contact_lists", json=bad).status_code == 400, bad


def test_groups_are_the_same_lists(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    team = dunder_mifflin.team_id
    michael = dunder_mifflin.admin_id
    api.ok("POST", "/contact_groups", 204, json={"name": "Warehouse"})
    api.ok("POST", f"/teams/{team}/contact_groups", 204, json={"name": "Annex"})
    api.ok("POST", f"/teammates/{michael}/contact_groups", 204, json={"name": "Dinner party"})
    assert (
        api.ok("GET", "/contact_groups")["_results"] == api.ok("GET", "/contact_lists")["_results"]
    )
    assert _ids(api.ok("GET", f"/teams/{team}/contact_groups")["_results"]) == _ids(
        api.ok("GET", f"/teams/{team}/contact_lists")["_results"]
    )
    private = api.ok("GET", f"/teammates/{michael}/contact_groups")["_results"]
    assert [g["name"] for g in private] == ["Dinner party"]
    warehouse = _named(api.ok("GET", "/contact_groups")["_results"], "Warehouse")
    darryl = _contact(api, "darryl@dm.example")
    roy = _contact(api, "roy@dm.example")
    group = f"/contact_groups/{warehouse['id']}/contacts"
    api.ok("POST", group, 204, json={"contact_ids": [darryl["id"], "alt:email:roy@dm.example"]})
    assert _ids(api.all_pages(group)) == [darryl["id"], roy["id"]]
    assert _ids(api.all_pages(f"/contact_lists/{warehouse['id']}/contacts")) == [
        darryl["id"],
        roy["id"],
    ]
    shown = api.ok("GET", f"/contacts/{darryl['id']}")
    assert _ids(shown["groups"]) == _ids(shown["lists"]) == [warehouse["id"]]
    api.ok("DELETE", group, 204, json={"contact_ids": [roy["id"]]})
    assert _ids(api.all_pages(group)) == [darryl["id"]]
    api.ok("DELETE", f"/contact_groups/{warehouse['id']}", 204)
    assert api.get(group).status_code == 404
    assert api.ok("GET", f"/contacts/{darryl['id']}")["lists"] == []


def test_members_added_removed_and_paged(api: Api) -> None:
    api.ok("POST", "/contact_lists", 204, json={"name": "Sales"})
    sales = api.ok("GET", "/contact_lists")["_results"][0]["id"]
    people = [_contact(api, f"p{i}@dm.example")["id"] for i in range(5)]
    path = f"/contact_lists/{sales}/contacts"
    api.ok("POST", path, 204, json={"contact_ids": people[:3]})
    # Adding a member again, or naming one twice, changes nothing.
    api.ok("POST", path, 204, json={"contact_ids": [people[0], people[3], people[3]]})
    first = api.ok("GET", path, params={"limit": 2})
    assert _ids(first["_results"]) == people[:2] and first["_pagination"]["next"]
    assert _ids(api.all_pages(path, limit=2)) == people[:4]
    api.ok("DELETE", path, 204, json={"contact_ids": [people[1], people[4]]})
    assert _ids(api.all_pages(path)) == [people[0], people[2], people[3]]
    # Membership shows on the contact, and changing it marks the contact updated.
    since = time.time()
    time.sleep(0.01)
    api.ok("POST", path, 204, json={"contact_ids": [people[4]]})
    updated = api.all_pages(
        "/contacts", sort_by="updated_at", **{"q[updated_after]": f"{since:.3f}"}
    )
    assert _ids(updated) == [people[4]]
    assert _ids(api.ok("GET", f"/contacts/{people[4]}")["lists"]) == [sales]
    for body in (
        {"contact_ids": []},
        {"contact_ids": ["crd_zzzzzz"]},
        {"contact_ids": "crd_1"},
        {},
    ):
        assert api.post(path, json=body).status_code in (400, 404), body
    assert api.request("DELETE", path, json={"contact_ids": ["x"] * 51}).status_code == 400
    # Deleting the list keeps its contacts.
    api.ok("DELETE", f"/contact_lists/{sales}", 204)
    assert api.get(path).status_code == 404
    assert len(api.all_pages("/contacts")) == 5
    assert api.request("DELETE", f"/contact_lists/{sales}").status_code == 404


def test_team_and_private_lists_are_seen_by_their_tokens_only(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    scranton = dunder_mifflin.team_id
    michael = dunder_mifflin.admin_id
    stamford = api.ok("POST", "/porch/teams", 201, json={"name": "Stamford"})["id"]
    api.ok("POST", f"/teams/{scranton}/contact_lists", 204, json={"name": "Scranton"})
    api.ok("POST", f"/teams/{stamford}/contact_lists", 204, json={"name": "Stamford"})
    api.ok("POST", f"/teammates/{michael}/contact_lists", 204, json={"name": "Mine"})
    every = api.ok("GET", "/contact_lists")["_results"]
    theirs = _named(every, "Stamford")["id"]
    mine = _named(every, "Mine")["id"]

    team = dunder_mifflin.client(dunder_mifflin.token(namespaces=[f"team:{scranton}"]))
    assert [lst["name"] for lst in team.ok("GET", "/contact_lists")["_results"]] == ["Scranton"]
    assert team.get(f"/contact_lists/{theirs}/contacts").status_code == 404
    assert team.get(f"/teams/{stamford}/contact_lists").status_code == 404
    assert team.post(f"/teams/{stamford}/contact_lists", json={"name": "x"}).status_code == 404
    # The legacy create goes to the token's own (oldest) team.
    team.ok("POST", "/contact_lists", 204, json={"name": "From the team token"})
    made = _named(
        api.ok("GET", f"/teams/{scranton}/contact_lists")["_results"], "From the team token"
    )
    assert made["_links"]["related"]["owner"].endswith(f"/teams/{scranton}")

    shared = dunder_mifflin.client(dunder_mifflin.token(namespaces=["shared"]))
    assert mine not in _ids(shared.ok("GET", "/contact_lists")["_results"])
    assert shared.get(f"/contact_lists/{mine}/contacts").status_code == 404
    assert shared.get(f"/teammates/{michael}/contact_lists").status_code == 403
    # list_names finds the visible list of that name, private or not; a contact shows only
    # the lists the token sees.
    contact = _contact(api, "jan@dm.example", list_names=["Mine", "Scranton"])
    assert _ids(contact["lists"]) == [_named(every, "Scranton")["id"], mine]
    assert _ids(shared.ok("GET", f"/contacts/{contact['id']}")["lists"]) == [
        _named(every, "Scranton")["id"]
    ]
    # A PATCH by the shared token leaves the private list it cannot see alone.
    shared.ok("PATCH", f"/contacts/{contact['id']}", 204, json={"list_names": []})
    assert _ids(api.ok("GET", f"/contacts/{contact['id']}")["lists"]) == [mine]
    dwight = api.ok(
        "POST",
        "/porch/teammates",
        201,
        json={"email": "dwight@dundermifflin.com", "api_private_access": False},
    )
    assert (
        api.post(f"/teammates/{dwight['id']}/contact_lists", json={"name": "x"}).status_code == 403
    )
    assert api.get(f"/teammates/{dwight['id']}/contact_groups").status_code == 403
