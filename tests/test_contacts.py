"""Contacts through the API: handles and their uniqueness, aliases, phone numbers, custom
fields, lists by name, sorting and paging by update, notes, merging, deleting, and who sees
company, team and private contacts."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.conftest import Api, Company


def _contact(api: Api, *handles: tuple[str, str], path: str = "/contacts", **fields: Any) -> Any:
    body = {"handles": [{"source": s, "handle": h} for s, h in handles], **fields}
    return api.ok("POST", path, 201, json=body)


def _handles(contact: dict[str, Any]) -> set[tuple[str, str]]:
    return {(h["source"], h["handle"]) for h in contact["handles"]}


def _ids(rows: list[dict[str, Any]]) -> list[str]:
    return [r["id"] for r in rows]


def _import(api: Api, inbox: str, sender: str, n: int) -> dict[str, Any]:
    answer = api.ok(
        "POST",
        f"/inboxes/{inbox}/imported_messages",
        202,
        json={
            "sender": {"handle": sender, "name": "From a message"},
            "to": ["sales@dm.example"],
            "body": f"Message {n}",
            "subject": f"Order {n}",
            "external_id": f"contacts-test-{n}",
            "created_at": 1_700_000_000 + n,
            "metadata": {"is_inbound": True, "thread_ref": f"contacts-{n}"},
        },
    )
    return dict(api.message(answer["message_uid"]))


def _sender(message: dict[str, Any]) -> str | None:
    person = next(r for r in message["recipients"] if r["role"] == "from")
    link = person["_links"]["related"]["contact"]
    return str(link.rsplit("/", 1)[-1]) if link else None


def test_create_then_get_by_id_and_by_every_kind_of_alias(api: Api) -> None:
    handles = [
        ("email", "Dwight@DunderMifflin.com"),
        ("phone", "+1 (234) 567-8900"),
        ("twitter", "@BeetFarmer"),
        ("facebook", "dwight.schrute"),
        ("intercom", "ic-42"),
        ("front_chat", "chat-42"),
        ("custom", "Schrute-Farms-1"),
    ]
    created = _contact(
        api,
        *handles,
        name="Dwight Schrute",
        description="Assistant to the regional manager",
        links=["https://schrutefarms.com"],
    )
    cid = created["id"]
    assert cid.startswith("crd_")
    assert created["name"] == "Dwight Schrute"
    assert created["links"] == ["https://schrutefarms.com"]
    assert created["is_private"] is False and created["custom_fields"] == {}
    assert created["lists"] == created["groups"] == []
    assert created["_links"]["self"].endswith(f"/contacts/{cid}")
    assert created["_links"]["related"]["notes"].endswith(f"/contacts/{cid}/notes")
    # Stored in canonical form: email lower-cased, phone E.164, Twitter "@" + lower case.
    assert _handles(created) == {
        ("email", "dwight@dundermifflin.com"),
        ("phone", "+12345678900"),
        ("twitter", "@beetfarmer"),
        ("facebook", "dwight.schrute"),
        ("intercom", "ic-42"),
        ("front_chat", "chat-42"),
        ("custom", "Schrute-Farms-1"),
    }
    assert api.ok("GET", f"/contacts/{cid}") == created
    for alias in (
        "alt:email:dwight@dundermifflin.com",
        "alt:email:DWIGHT@dundermifflin.com",
        "alt:phone:+12345678900",
        "alt:phone:234-567-8900",
        "alt:twitter:@beetfarmer",
        "alt:twitter:BeetFarmer",
        "alt:facebook:dwight.schrute",
        "alt:intercom:ic-42",
        "alt:front_chat:chat-42",
        "alt:custom:Schrute-Farms-1",
    ):
        assert api.ok("GET", f"/contacts/{alias}")["id"] == cid, alias
    for unknown in (
        "alt:custom:schrute-farms-1",  # custom handles are case-sensitive
        "alt:phone:not a number",
        "alt:fax:123",
        "alt:email:",
        "crd_zzzzzzzz",
        "tag_1",
    ):
        resp = api.get(f"/contacts/{unknown}")
        assert resp.status_code == 404, unknown
    # Aliases work wherever a contact id does: PATCH, notes, handles.
    api.ok("PATCH", "/contacts/alt:custom:Schrute-Farms-1", 204, json={"name": "Dwight K."})
    assert api.ok("GET", f"/contacts/{cid}")["name"] == "Dwight K."


def test_aliases_of_another_company_are_unknown(
    dunder_mifflin: Company, vance_refrigeration: Company
) -> None:
    dwight = _contact(dunder_mifflin.api, ("email", "dwight@dm.example"), ("phone", "2345678900"))
    bob = vance_refrigeration.api
    for ref in (dwight["id"], "alt:email:dwight@dm.example", "alt:phone:+12345678900"):
        assert bob.get(f"/contacts/{ref}").status_code == 404
        assert bob.patch(f"/contacts/{ref}", json={"name": "x"}).status_code == 404
    assert dwight["id"] not in _ids(bob.all_pages("/contacts"))
    # Handles are unique per company, not across companies.
    theirs = _contact(bob, ("email", "dwight@dm.example"))
    assert theirs["id"] != dwight["id"]


def test_a_handle_belongs_to_one_contact_and_a_duplicate_is_a_409_naming_it(api: Api) -> None:
    jim = _contact(api, ("email", "jim@dm.example"), ("phone", "(234) 567-8901"), name="Jim")
    for handles in (
        [("email", "JIM@dm.example")],
        [("phone", "+1 234 567 8901")],
        [("email", "pam@dm.example"), ("phone", "234.567.8901")],
    ):
        resp = api.post(
            "/contacts", json={"handles": [{"source": s, "handle": h} for s, h in handles]}
        )
        assert resp.status_code == 409, handles
        error = resp.json()["_error"]
        assert jim["id"] in error["message"]
        assert f"contact_id: {jim['id']}" in error["details"]
    # Nothing of the refused creates stayed (pam's handle is free).
    pam = _contact(api, ("email", "pam@dm.example"), name="Pam")
    resp = api.post(
        f"/contacts/{pam['id']}/handles", json={"source": "email", "handle": "Jim@dm.example"}
    )
    assert resp.status_code == 409
    assert jim["id"] in resp.json()["_error"]["message"]
    # A handle the contact has already is no change; a new one is added.
    api.ok(
        "POST",
        f"/contacts/{pam['id']}/handles",
        204,
        json={"source": "email", "handle": "PAM@dm.example"},
    )
    api.ok(
        "POST",
        f"/contacts/{pam['id']}/handles",
        204,
        json={"source": "twitter", "handle": "pambeesly"},
    )
    assert _handles(api.ok("GET", f"/contacts/{pam['id']}")) == {
        ("email", "pam@dm.example"),
        ("twitter", "@pambeesly"),
    }
    # To move a handle: delete it from one contact, add it to the other.
    api.ok(
        "DELETE",
        f"/contacts/{jim['id']}/handles",
        204,
        json={"source": "phone", "handle": "+12345678901"},
    )
    api.ok(
        "POST",
        f"/contacts/{pam['id']}/handles",
        204,
        json={"source": "phone", "handle": "234 567 8901"},
    )
    assert api.ok("GET", "/contacts/alt:phone:+12345678901")["id"] == pam["id"]


def test_phone_numbers_are_normalised_to_e164(api: Api) -> None:
    cases = {
        "+44 20 7946 0958": "+442079460958",
        "234.567.8902": "+12345678902",
        "1 (234) 567-8903": "+12345678903",
        "+33 1 23 45 67 89": "+33123456789",
    }
    for given, stored in cases.items():
        made = _contact(api, ("phone", given))
        assert made["handles"] == [{"handle": stored, "source": "phone"}], given
        assert api.ok("GET", f"/contacts/alt:phone:{stored}")["id"] == made["id"]
    for bad in ("12", "abc", "555-0100", "+999 1234", "   "):
        resp = api.post("/contacts", json={"handles": [{"source": "phone", "handle": bad}]})
        assert resp.status_code == 400, bad
    made = _contact(api, ("email", "phoneless@dm.example"))
    resp = api.post(f"/contacts/{made['id']}/handles", json={"source": "phone", "handle": "12"})
    assert resp.status_code == 400


def test_custom_fields_are_typed_and_a_write_replaces_the_map(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    for name, kind, extra in (
        ("City", "string", {}),
        ("VIP", "boolean", {}),
        ("Renewal", "datetime", {}),
        ("Seats", "number", {}),
        ("Owner", "teammate", {}),
        ("Inbox", "inbox", {}),
        ("Tier", "enum", {"values": [{"value": "gold"}, {"value": "silver"}]}),
    ):
        api.ok(
            "POST",
            "/porch/custom_fields",
            201,
            json={"object_type": "contact", "name": name, "type": kind, **extra},
        )
    inbox = api.ok("POST", f"/teams/{dunder_mifflin.team_id}/inboxes", 201, json={"name": "In"})
    values = {
        "City": "Scranton",
        "VIP": True,
        "Renewal": 1_800_000_000,
        "Seats": 12,
        "Owner": "michael@dundermifflin.com",
        "Inbox": inbox["id"],
        "Tier": "gold",
    }
    made = _contact(api, ("email", "stanley@dm.example"), custom_fields=values)
    assert made["custom_fields"] == values
    assert api.ok("GET", f"/contacts/{made['id']}")["custom_fields"] == values
    for field, wrong in (
        ("City", 12),
        ("VIP", "yes"),
        ("Renewal", "2027-01-01"),
        ("Seats", "twelve"),
        ("Owner", "nobody@dm.example"),
        ("Inbox", "inb_zzzzzz"),
        ("Tier", "bronze"),
        ("Unknown field", "x"),
    ):
        resp = api.patch(f"/contacts/{made['id']}", json={"custom_fields": {field: wrong}})
        assert resp.status_code == 400, field
        assert any(d.startswith(f"{field}:") for d in resp.json()["_error"]["details"]), field
        create = api.post(
            "/contacts",
            json={
                "handles": [{"source": "email", "handle": f"new-{field}@dm.example"}],
                "custom_fields": {field: wrong},
            },
        )
        assert create.status_code == 400, field
    assert api.ok("GET", f"/contacts/{made['id']}")["custom_fields"] == values
    # A write replaces the whole map: fields left out are erased.
    api.ok("PATCH", f"/contacts/{made['id']}", 204, json={"custom_fields": {"Seats": 3}})
    assert api.ok("GET", f"/contacts/{made['id']}")["custom_fields"] == {"Seats": 3}
    # Renaming the definition moves the stored values.
    fields = api.ok("GET", "/contacts/custom_fields")["_results"]
    seats = next(f for f in fields if f["name"] == "Seats")
    api.ok("PATCH", f"/porch/custom_fields/{seats['id']}", 200, json={"name": "Licences"})
    assert api.ok("GET", f"/contacts/{made['id']}")["custom_fields"] == {"Licences": 3}


def test_list_names_create_missing_lists_and_a_patch_replaces_them(
    dunder_mifflin: Company,
) -> None:
    api = dunder_mifflin.api
    oscar = _contact(api, ("email", "oscar@dm.example"), list_names=["Accounting", "Party"])
    assert [lst["name"] for lst in oscar["lists"]] == ["Accounting", "Party"]
    assert oscar["groups"] == oscar["lists"]
    lists = api.ok("GET", "/contact_lists")["_results"]
    assert [lst["name"] for lst in lists] == ["Accounting", "Party"]
    # A company contact's new lists live in the oldest team.
    assert all(
        lst["_links"]["related"]["owner"].endswith(f"/teams/{dunder_mifflin.team_id}")
        for lst in lists
    )
    # The same names find the same lists; the deprecated group_names works the same way.
    kevin = _contact(api, ("email", "kevin@dm.example"), group_names=["Accounting", "Chili"])
    assert _ids(kevin["lists"])[0] == _ids(oscar["lists"])[0]
    assert sorted(lst["name"] for lst in api.ok("GET", "/contact_lists")["_results"]) == [
        "Accounting",
        "Chili",
        "Party",
    ]
    accounting = oscar["lists"][0]["id"]
    members = api.all_pages(f"/contact_lists/{accounting}/contacts")
    assert _ids(members) == [oscar["id"], kevin["id"]]
    # PATCH list_names sets the contact's lists to exactly these.
    api.ok("PATCH", f"/contacts/{oscar['id']}", 204, json={"list_names": ["Party", "Finer things"]})
    shown = api.ok("GET", f"/contacts/{oscar['id']}")
    assert [lst["name"] for lst in shown["lists"]] == ["Party", "Finer things"]
    assert _ids(api.all_pages(f"/contact_lists/{accounting}/contacts")) == [kevin["id"]]
    api.ok("PATCH", f"/contacts/{oscar['id']}", 204, json={"list_names": []})
    assert api.ok("GET", f"/contacts/{oscar['id']}")["lists"] == []


def test_sorting_and_paging_by_updated_after(api: Api) -> None:
    made = []
    for i in range(6):
        made.append(_contact(api, ("email", f"temp{i}@dm.example"), name=f"Temp {i}")["id"])
        time.sleep(0.002)
    assert _ids(api.all_pages("/contacts", limit=2)) == made
    newest_first = api.all_pages("/contacts", limit=4, sort_by="created_at", sort_order="desc")
    assert _ids(newest_first) == made[::-1]
    time.sleep(0.01)
    since = time.time()
    time.sleep(0.01)
    for key in (made[4], made[1], made[3]):
        api.ok("PATCH", f"/contacts/{key}", 204, json={"description": "updated"})
        time.sleep(0.002)
    params = {"sort_by": "updated_at", "sort_order": "asc", "q[updated_after]": f"{since:.3f}"}
    first = api.ok("GET", "/contacts", params={**params, "limit": 2})
    assert _ids(first["_results"]) == [made[4], made[1]]
    assert "q%5Bupdated_after%5D" in first["_pagination"]["next"]
    assert _ids(api.all_pages("/contacts", limit=2, **params)) == [made[4], made[1], made[3]]
    by_update = api.all_pages("/contacts", limit=4, sort_by="updated_at")
    assert _ids(by_update) == [made[0], made[2], made[5], made[4], made[1], made[3]]
    latest_first = api.all_pages(
        "/contacts",
        limit=1,
        sort_by="updated_at",
        sort_order="desc",
        **{"q[updated_after]": f"{since:.3f}"},
    )
    assert _ids(latest_first) == [made[3], made[1], made[4]]
    before = api.all_pages("/contacts", **{"q[updated_before]": f"{since:.3f}"})
    assert _ids(before) == [made[0], made[2], made[5]]
    for bad in (
        {"q[updated_after]": "yesterday"},
        {"q[updated_after]": "-1"},
        {"q[updated_after]": "1e9"},
        {"sort_by": "name"},
        {"sort_order": "up"},
        {"page_token": "bm9wZQ"},
    ):
        assert api.get("/contacts", params=bad).status_code == 400, bad


def test_notes(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    contact = _contact(api, ("email", "holly@dm.example"), name="Holly")
    empty = api.request("GET", f"/contacts/{contact['id']}/notes")
    assert empty.status_code == 202 and empty.json()["_results"] == []
    first = api.ok(
        "POST",
        f"/contacts/{contact['id']}/notes",
        201,
        json={"author_id": dunder_mifflin.admin_id, "body": "Moving to Nashua"},
    )
    assert first["body"] == "Moving to Nashua"
    assert first["author"]["id"] == dunder_mifflin.admin_id
    assert first["_links"]["related"]["author"].endswith(f"/teammates/{dunder_mifflin.admin_id}")
    time.sleep(0.002)
    api.ok(
        "POST",
        "/contacts/alt:email:holly@dm.example/notes",
        201,
        json={"author_id": "alt:email:michael@dundermifflin.com", "body": "Came back"},
    )
    notes = api.ok("GET", f"/contacts/{contact['id']}/notes", 202)["_results"]
    assert [n["body"] for n in notes] == ["Came back", "Moving to Nashua"]
    for body in (
        {"author_id": "tea_zzzzzz", "body": "x"},
        {"author_id": dunder_mifflin.admin_id, "body": "  "},
        {"body": "no author"},
    ):
        resp = api.post(f"/contacts/{contact['id']}/notes", json=body)
        assert resp.status_code in (400, 404), body


def test_deleting_handles_and_the_last_one_with_force(api: Api) -> None:
    contact = _contact(api, ("email", "ryan@dm.example"), ("twitter", "ryanstartup"))
    path = f"/contacts/{contact['id']}/handles"
    missing = api.request("DELETE", path, json={"source": "email", "handle": "kelly@dm.example"})
    assert missing.status_code == 404
    api.ok("DELETE", path, 204, json={"source": "twitter", "handle": "@RyanStartup"})
    last = api.request("DELETE", path, json={"source": "email", "handle": "ryan@dm.example"})
    assert last.status_code == 400
    assert api.ok("GET", f"/contacts/{contact['id']}")["handles"] == [
        {"handle": "ryan@dm.example", "source": "email"}
    ]
    api.ok(
        "DELETE", path, 204, json={"source": "email", "handle": "ryan@dm.example", "force": True}
    )
    assert api.get(f"/contacts/{contact['id']}").status_code == 404
    # The handle is free again.
    _contact(api, ("email", "ryan@dm.example"))


def test_merge_follows_fronts_rules(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    team = dunder_mifflin.team_id
    api.ok(
        "POST",
        "/porch/custom_fields",
        201,
        json={"object_type": "contact", "name": "Branch", "type": "string"},
    )
    api.ok(
        "POST",
        "/porch/custom_fields",
        201,
        json={"object_type": "contact", "name": "Rank", "type": "number"},
    )
    inbox = api.ok("POST", f"/teams/{team}/inboxes", 201, json={"name": "Sales"})
    message = _import(api, inbox["id"], "andy@cornell.example", 1)
    from_message = _sender(message)
    assert from_message is not None
    conversation = message["_links"]["related"]["conversation"].rsplit("/", 1)[-1]
    time.sleep(0.002)
    # The target: named from a message only (not by hand).
    target = api.ok("GET", f"/contacts/{from_message}")
    assert target["name"] == "From a message"
    api.ok(
        "PATCH",
        f"/contacts/{from_message}",
        204,
        json={"description": "Target", "custom_fields": {"Branch": "Stamford", "Rank": 1}},
    )
    time.sleep(0.002)
    named = _contact(
        api,
        ("email", "andy@dm.example"),
        name="Andy Bernard",
        description="Named by hand",
        links=["https://cornell.example"],
        list_names=["Here comes treble"],
        custom_fields={"Branch": "Scranton"},
    )
    api.ok(
        "POST",
        f"/contacts/{named['id']}/notes",
        201,
        json={"author_id": dunder_mifflin.admin_id, "body": "Went to Cornell"},
    )
    time.sleep(0.002)
    other = _contact(api, ("phone", "2345678999"), description="Newest")
    merged = api.ok(
        "POST",
        "/contacts/merge",
        json={"target_contact_id": from_message, "contact_ids": [named["id"], other["id"]]},
    )
    assert merged["id"] == from_message
    # A manual, non-private name wins; descriptions are joined, the target's first.
    assert merged["name"] == "Andy Bernard"
    assert merged["description"] == "Target\nNamed by hand\nNewest"
    assert _handles(merged) == {
        ("email", "andy@cornell.example"),
        ("email", "andy@dm.example"),
        ("phone", "+12345678999"),
    }
    assert [lst["name"] for lst in merged["lists"]] == ["Here comes treble"]
    assert merged["links"] == ["https://cornell.example"]
    # Other conflicts take the most recently updated value, field by field.
    assert merged["custom_fields"] == {"Branch": "Scranton", "Rank": 1}
    assert [
        n["body"] for n in api.ok("GET", f"/contacts/{from_message}/notes", 202)["_results"]
    ] == ["Went to Cornell"]
    for gone in (named["id"], other["id"]):
        assert api.get(f"/contacts/{gone}").status_code == 404
    assert api.ok("GET", "/contacts/alt:email:andy@dm.example")["id"] == from_message
    convs = api.all_pages(f"/contacts/{from_message}/conversations")
    assert _ids(convs) == [conversation]
    events = api.ok("GET", "/porch/events", params={"limit": 10})["_results"]
    kinds = [e["type"] for e in events]
    assert kinds[0] == "contact_merged" and kinds.count("contact_deleted") == 2


def test_merge_without_target_keeps_the_first_and_checks_counts(api: Api) -> None:
    a = _contact(api, ("email", "a@dm.example"), name="A")
    b = _contact(api, ("email", "b@dm.example"))
    _contact(api, ("email", "c@dm.example"))
    for body in (
        {"contact_ids": [a["id"]]},
        {"contact_ids": [a["id"], a["id"]]},
        {"contact_ids": [a["id"], "alt:email:a@dm.example"]},
        {"contact_ids": []},
        {"target_contact_id": a["id"], "contact_ids": []},
        {"contact_ids": [a["id"]] * 51},
    ):
        assert api.post("/contacts/merge", json=body).status_code == 400, body
    assert (
        api.post("/contacts/merge", json={"contact_ids": [a["id"], "crd_zzzzzz"]}).status_code
        == 404
    )
    merged = api.ok(
        "POST",
        "/contacts/merge",
        json={"contact_ids": [b["id"], "alt:email:c@dm.example", a["id"]]},
    )
    assert merged["id"] == b["id"] and merged["name"] == "A"
    assert _ids(api.all_pages("/contacts")) == [b["id"]]


def test_deleting_a_contact_keeps_its_conversations(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    inbox = api.ok("POST", f"/teams/{dunder_mifflin.team_id}/inboxes", 201, json={"name": "In"})
    message = _import(api, inbox["id"], "toby@hr.example", 7)
    contact = _sender(message)
    api.ok("DELETE", f"/contacts/{contact}", 204)
    assert api.get(f"/contacts/{contact}").status_code == 404
    kept = api.ok("GET", f"/messages/{message['id']}")
    assert _sender(kept) is None
    assert next(r for r in kept["recipients"] if r["role"] == "from")["handle"] == "toby@hr.example"
    conversation = message["_links"]["related"]["conversation"].rsplit("/", 1)[-1]
    api.ok("GET", f"/conversations/{conversation}")
    # The next message from the handle makes a new contact.
    again = _import(api, inbox["id"], "toby@hr.example", 8)
    assert _sender(again) not in (None, contact)


def test_team_and_private_contacts_and_who_sees_them(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    scranton = dunder_mifflin.team_id
    michael = dunder_mifflin.admin_id
    stamford = api.ok("POST", "/porch/teams", 201, json={"name": "Stamford"})["id"]
    company = _contact(api, ("email", "company@dm.example"))
    ours = _contact(api, ("email", "ours@dm.example"), path=f"/teams/{scranton}/contacts")
    theirs = _contact(api, ("email", "theirs@dm.example"), path=f"/teams/{stamford}/contacts")
    mine = _contact(api, ("email", "mine@dm.example"), path=f"/teammates/{michael}/contacts")
    assert ours["_links"]["related"]["owner"].endswith(f"/teams/{scranton}")
    assert mine["is_private"] is True
    assert mine["_links"]["related"]["owner"].endswith(f"/teammates/{michael}")
    assert "owner" not in company["_links"]["related"]
    assert _ids(api.all_pages(f"/teams/{scranton}/contacts")) == [ours["id"]]
    assert _ids(api.all_pages(f"/teammates/{michael}/contacts")) == [mine["id"]]
    assert _ids(api.all_pages("/contacts")) == [company["id"], ours["id"], theirs["id"], mine["id"]]

    team = dunder_mifflin.client(dunder_mifflin.token(namespaces=[f"team:{scranton}"]))
    assert _ids(team.all_pages("/contacts")) == [company["id"], ours["id"]]
    assert team.get(f"/contacts/{theirs['id']}").status_code == 404
    assert team.get("/contacts/alt:email:mine@dm.example").status_code == 404
    assert team.get(f"/teams/{stamford}/contacts").status_code == 404
    # A team token creates in its team, not at the company level.
    assert (
        team.post(
            "/contacts", json={"handles": [{"source": "email", "handle": "t@dm.example"}]}
        ).status_code
        == 403
    )
    made = _contact(team, ("email", "t@dm.example"), path=f"/teams/{scranton}/contacts")
    assert made["id"] in _ids(api.all_pages(f"/teams/{scranton}/contacts"))
    assert team.delete(f"/contacts/{company['id']}").status_code == 403
    # A handle held by a contact the token cannot see is a 409 that does not name it.
    hidden = team.post(
        f"/teams/{scranton}/contacts",
        json={"handles": [{"source": "email", "handle": "theirs@dm.example"}]},
    )
    assert hidden.status_code == 409 and theirs["id"] not in hidden.text

    shared = dunder_mifflin.client(dunder_mifflin.token(namespaces=["shared"]))
    assert mine["id"] not in _ids(shared.all_pages("/contacts"))
    assert shared.get(f"/contacts/{mine['id']}").status_code == 404
    assert shared.get(f"/teammates/{michael}/contacts").status_code == 403

    dwight = api.ok(
        "POST",
        "/porch/teammates",
        201,
        json={"email": "dwight@dundermifflin.com", "api_private_access": False},
    )
    refused = api.post(
        f"/teammates/{dwight['id']}/contacts",
        json={"handles": [{"source": "email", "handle": "mose@dm.example"}]},
    )
    assert refused.status_code == 403


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"handles": []},
        {"handles": [{"source": "fax", "handle": "123"}]},
        {"handles": [{"source": "email", "handle": ""}]},
        {"handles": [{"source": "email", "handle": "  "}]},
        {"handles": [{"source": "twitter", "handle": "@"}]},
        {"handles": [{"source": "email", "handle": "x@dm.example"}], "name": " "},
        {"handles": [{"source": "email", "handle": "x@dm.example"}], "links": [" "]},
        {"handles": [{"source": "email", "handle": "x@dm.example"}], "list_names": [""]},
        {"handles": [{"source": "email", "handle": "x@dm.example"}], "custom_fields": []},
    ],
)
def test_bad_contacts_are_400_and_change_nothing(api: Api, body: dict[str, Any]) -> None:
    before = api.all_pages("/contacts")
    assert api.post("/contacts", json=body).status_code == 400
    assert api.all_pages("/contacts") == before
    assert api.ok("GET", "/contact_lists")["_results"] == []


def test_concurrent_creates_with_one_handle_make_one_contact(api: Api) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def create(_: int) -> int:
        body = {"handles": [{"source": "email", "handle": "race@dm.example"}]}
        return api.post("/contacts", json=body).status_code

    with ThreadPoolExecutor(8) as pool:
        codes = sorted(pool.map(create, range(16)))
    assert codes.count(201) == 1 and set(codes) == {201, 409}
    assert len(api.all_pages("/contacts")) == 1


def test_concurrent_creates_naming_one_new_list_all_land_in_it(api: Api) -> None:
    import asyncio

    import httpx

    async def create_all() -> list[int]:
        headers = dict(api.http.headers)
        limits = httpx.Limits(max_connections=8)
        async with httpx.AsyncClient(base_url=api.base_url, headers=headers, limits=limits) as http:
            # Connections open first, so that the creates arrive together.
            await asyncio.gather(*(http.get("/contacts") for _ in range(8)))
            bodies = [
                {
                    "handles": [{"source": "email", "handle": f"lead{n}@dm.example"}],
                    "list_names": [f"Trade show {n // 8}"],
                }
                for n in range(64)
            ]
            # Eight contacts at once name each new list.
            answers = await asyncio.gather(*(http.post("/contacts", json=b) for b in bodies))
            return [r.status_code for r in answers]

    assert asyncio.run(create_all()) == [201] * 64
    lists = api.all_pages("/contact_lists")
    assert sorted(lst["name"] for lst in lists) == [f"Trade show {n}" for n in range(8)]
    for lst in lists:
        assert len(api.all_pages(f"/contact_lists/{lst['id']}/contacts")) == 8
