"""Accounts through the API: domains and external ids (unique, and aliases), custom fields,
updates, paging by update, an account's contacts, deleting, tenancy."""

from __future__ import annotations

import time
from typing import Any

from tests.conftest import Api, Company


def _contact(api: Api, email: str) -> Any:
    body = {"handles": [{"source": "email", "handle": email}]}
    return api.ok("POST", "/contacts", 201, json=body)


def _ids(rows: list[dict[str, Any]]) -> list[str]:
    return [r["id"] for r in rows]


def test_create_and_fetch_by_id_domain_and_external_id(api: Api) -> None:
    made = api.ok(
        "POST",
        "/accounts",
        201,
        json={
            "name": "Dunder Mifflin, Inc.",
            "description": "Limitless paper",
            "domains": ["DunderMifflin.com", "limitlesspaper.com", "dundermifflin.com"],
            "external_id": "crm-8739",
        },
    )
    aid = made["id"]
    assert aid.startswith("acc_")
    assert made["domains"] == ["dundermifflin.com", "limitlesspaper.com"]
    assert made["external_id"] == "crm-8739" and made["logo_url"] is None
    assert made["custom_fields"] == {} and made["description"] == "Limitless paper"
    assert made["_links"]["related"]["contacts"].endswith(f"/accounts/{aid}/contacts")
    assert api.ok("GET", f"/accounts/{aid}") == made
    for alias in (
        "alt:domain:dundermifflin.com",
        "alt:domain:LimitlessPaper.com",
        "alt:ext_id:crm-8739",
    ):
        assert api.ok("GET", f"/accounts/{alias}")["id"] == aid, alias
    for unknown in ("alt:domain:nowhere.com", "alt:ext_id:CRM-8739", "alt:name:x", "acc_zzzzz"):
        assert api.get(f"/accounts/{unknown}").status_code == 404, unknown
    bare = api.ok("POST", "/accounts", 201, json={"name": "Bare"})
    assert bare["domains"] == [] and bare["external_id"] is None and bare["description"] is None


def test_domains_and_external_ids_are_unique_and_a_409_names_the_holder(api: Api) -> None:
    first = api.ok(
        "POST", "/accounts", 201, json={"name": "A", "domains": ["a.com"], "external_id": "1"}
    )
    for body in (
        {"name": "B", "domains": ["b.com", "A.COM"]},
        {"name": "B", "external_id": "1"},
    ):
        resp = api.post("/accounts", json=body)
        assert resp.status_code == 409, body
        assert first["id"] in resp.json()["_error"]["message"]
    second = api.ok("POST", "/accounts", 201, json={"name": "B", "domains": ["b.com"]})
    resp = api.patch(f"/accounts/{second['id']}", json={"domains": ["a.com"]})
    assert resp.status_code == 409
    assert api.ok("GET", f"/accounts/{second['id']}")["domains"] == ["b.com"]
    for bad in ("", "no-dot", "a b.com", "x@y.com", "a..com", "http://a.com/"):
        resp = api.post("/accounts", json={"name": "C", "domains": [bad]})
        assert resp.status_code == 400, bad
    for body in ({"name": ""}, {"name": " "}, {}, {"name": "C", "external_id": ""}):
        assert api.post("/accounts", json=body).status_code == 400, body


def test_update_replaces_domains_and_custom_fields(api: Api) -> None:
    for name, kind in (("Tier", "string"), ("Seats", "number"), ("Active", "boolean")):
        api.ok(
            "POST",
            "/porch/custom_fields",
            201,
            json={"object_type": "account", "name": name, "type": kind},
        )
    made = api.ok(
        "POST",
        "/accounts",
        201,
        json={
            "name": "Vance Refrigeration",
            "domains": ["vance.example", "old.example"],
            "custom_fields": {"Tier": "gold", "Seats": 5},
        },
    )
    assert made["custom_fields"] == {"Tier": "gold", "Seats": 5}
    time.sleep(0.002)
    updated = api.ok(
        "PATCH",
        f"/accounts/{made['id']}",
        json={"name": "Vance Refrigeration LLC", "domains": ["vance.example", "new.example"]},
    )
    assert updated["name"] == "Vance Refrigeration LLC"
    assert updated["domains"] == ["new.example", "vance.example"]
    assert updated["custom_fields"] == {"Tier": "gold", "Seats": 5}
    assert updated["updated_at"] > made["updated_at"]
    assert api.get("/accounts/alt:domain:old.example").status_code == 404
    # A write of custom_fields replaces the whole map.
    replaced = api.ok("PATCH", f"/accounts/{made['id']}", json={"custom_fields": {"Active": True}})
    assert replaced["custom_fields"] == {"Active": True}
    for field, wrong in (("Seats", "five"), ("Active", 1), ("Tier", False), ("Nope", "x")):
        resp = api.patch(f"/accounts/{made['id']}", json={"custom_fields": {field: wrong}})
        assert resp.status_code == 400, field
        assert any(d.startswith(f"{field}:") for d in resp.json()["_error"]["details"])
        resp = api.post("/accounts", json={"name": "Typed", "custom_fields": {field: wrong}})
        assert resp.status_code == 400, field
    assert api.ok("GET", f"/accounts/{made['id']}")["custom_fields"] == {"Active": True}
    # Renaming the field's definition moves the value.
    fields = api.ok("GET", "/accounts/custom_fields")["_results"]
    active = next(f for f in fields if f["name"] == "Active")
    api.ok("PATCH", f"/porch/custom_fields/{active['id']}", 200, json={"name": "Is active"})
    assert api.ok("GET", f"/accounts/{made['id']}")["custom_fields"] == {"Is active": True}


def test_list_sorted_and_paged_by_update(api: Api) -> None:
    made = []
    for i in range(5):
        made.append(api.ok("POST", "/accounts", 201, json={"name": f"Account {i}"})["id"])
        time.sleep(0.002)
    assert _ids(api.all_pages("/accounts", limit=2)) == made
    assert _ids(api.all_pages("/accounts", sort_by="created_at", sort_order="desc")) == made[::-1]
    time.sleep(0.01)
    since = time.time()
    time.sleep(0.01)
    api.ok("PATCH", f"/accounts/{made[3]}", json={"description": "touched"})
    time.sleep(0.002)
    api.ok("PATCH", f"/accounts/{made[0]}", json={"description": "touched"})
    changed = api.all_pages(
        "/accounts", limit=1, sort_by="updated_at", **{"q[updated_after]": f"{since:.3f}"}
    )
    assert _ids(changed) == [made[3], made[0]]
    by_update = api.all_pages("/accounts", limit=2, sort_by="updated_at", sort_order="desc")
    assert _ids(by_update) == [made[0], made[3], made[4], made[2], made[1]]
    for bad in ({"sort_by": "name"}, {"q[updated_after]": "x"}, {"limit": "0"}):
        assert api.get("/accounts", params=bad).status_code == 400, bad


def test_account_contacts(api: Api) -> None:
    paper = api.ok("POST", "/accounts", 201, json={"name": "Paper", "domains": ["paper.example"]})
    other = api.ok("POST", "/accounts", 201, json={"name": "Other"})
    people = [_contact(api, f"buyer{i}@paper.example")["id"] for i in range(3)]
    path = f"/accounts/{paper['id']}/contacts"
    assert api.ok("GET", path)["_results"] == []
    api.ok("POST", path, 204, json={"contact_ids": [people[0], "alt:email:buyer1@paper.example"]})
    assert _ids(api.all_pages(path, limit=1)) == people[:2]
    by_alias = api.all_pages("/accounts/alt:domain:paper.example/contacts")
    assert _ids(by_alias) == people[:2]
    # A contact is in one account: adding it to another moves it.
    api.ok("POST", f"/accounts/{other['id']}/contacts", 204, json={"contact_ids": [people[1]]})
    assert _ids(api.all_pages(path)) == [people[0]]
    # Removing a contact that is not in the account leaves it where it is.
    api.ok("DELETE", path, 204, json={"contact_ids": [people[0], people[1]]})
    assert api.all_pages(path) == []
    assert _ids(api.all_pages(f"/accounts/{other['id']}/contacts")) == [people[1]]
    for body in ({"contact_ids": []}, {"contact_ids": ["crd_zzzzz"]}, {}):
        assert api.post(path, json=body).status_code in (400, 404), body
    # Deleting an account keeps its contacts.
    api.ok("DELETE", f"/accounts/{other['id']}", 204)
    assert api.get(f"/accounts/{other['id']}").status_code == 404
    api.ok("GET", f"/contacts/{people[1]}")
    api.ok("POST", path, 204, json={"contact_ids": [people[1]]})
    assert _ids(api.all_pages(path)) == [people[1]]


def test_who_may_see_and_change_accounts(
    dunder_mifflin: Company, vance_refrigeration: Company
) -> None:
    api = dunder_mifflin.api
    made = api.ok(
        "POST",
        "/accounts",
        201,
        json={"name": "Ours", "domains": ["ours.example"], "external_id": "o"},
    )
    bob = vance_refrigeration.api
    for ref in (made["id"], "alt:domain:ours.example", "alt:ext_id:o"):
        assert bob.get(f"/accounts/{ref}").status_code == 404
        assert bob.patch(f"/accounts/{ref}", json={"name": "x"}).status_code == 404
    assert made["id"] not in _ids(bob.all_pages("/accounts"))
    # The same domain is free in another company.
    bob.ok("POST", "/accounts", 201, json={"name": "Theirs", "domains": ["ours.example"]})

    team = dunder_mifflin.client(
        dunder_mifflin.token(namespaces=[f"team:{dunder_mifflin.team_id}"])
    )
    assert _ids(team.all_pages("/accounts")) == [made["id"]]
    team.ok("PATCH", f"/accounts/{made['id']}", json={"description": "by the team"})
    assert team.post("/accounts", json={"name": "Team's"}).status_code == 403
    assert team.delete(f"/accounts/{made['id']}").status_code == 403
    private = dunder_mifflin.client(dunder_mifflin.token(namespaces=["private"]))
    assert private.get(f"/accounts/{made['id']}").status_code == 404
    assert private.all_pages("/accounts") == []
    reader = dunder_mifflin.client(dunder_mifflin.token(permissions=["read"]))
    assert reader.patch(f"/accounts/{made['id']}", json={"name": "x"}).status_code == 403
