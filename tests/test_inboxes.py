"""Inboxes through the API: team and private inboxes, access, channels, custom fields."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api, Company


def _teammate(api: Api, email: str, **kw: Any) -> dict[str, Any]:
    body: dict[str, Any] = api.ok("POST", "/porch/teammates", 201, json={"email": email, **kw})
    return body


def _ids(rows: list[dict[str, Any]]) -> list[str]:
    return [r["id"] for r in rows]


def test_create_inbox_lands_in_the_oldest_team(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    inbox = api.ok("POST", "/inboxes", 201, json={"name": "Sales", "is_public": True})
    assert inbox["id"].startswith("inb_")
    assert inbox["is_private"] is False and inbox["is_public"] is True
    assert inbox["custom_fields"] == {}
    assert inbox["_links"]["related"]["owner"].endswith(f"/teams/{dunder_mifflin.team_id}")
    assert api.ok("GET", f"/inboxes/{inbox['id']}") == inbox
    assert _ids(api.ok("GET", f"/teams/{dunder_mifflin.team_id}/inboxes")["_results"]) == [
        inbox["id"]
    ]
    assert _ids(api.ok("GET", "/inboxes")["_results"]) == [inbox["id"]]


def test_team_inbox_with_teammates_and_access_changes(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    dwight = _teammate(api, "dwight@dundermifflin.com")
    jim = _teammate(api, "jim@dundermifflin.com")
    pam = _teammate(api, "pam@dundermifflin.com")
    inbox = api.ok(
        "POST",
        f"/teams/{dunder_mifflin.team_id}/inboxes",
        201,
        json={"name": "Support", "teammate_ids": [dwight["id"], "alt:email:jim@dundermifflin.com"]},
    )
    access = f"/inboxes/{inbox['id']}/teammates"
    assert _ids(api.ok("GET", access)["_results"]) == [dwight["id"], jim["id"]]
    # A bare email works too, and adding someone twice is harmless.
    api.ok("POST", access, 204, json={"teammate_ids": ["PAM@dundermifflin.com", dwight["id"]]})
    assert _ids(api.ok("GET", access)["_results"]) == [dwight["id"], jim["id"], pam["id"]]
    api.ok("DELETE", access, 204, json={"teammate_ids": [jim["id"]]})
    assert _ids(api.ok("GET", access)["_results"]) == [dwight["id"], pam["id"]]


def test_unknown_teammate_is_404_and_changes_nothing(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    dwight = _teammate(api, "dwight@dundermifflin.com")
    before = api.ok("GET", "/inboxes")["_results"]
    resp = api.post(
        "/inboxes", json={"name": "Ghosts", "teammate_ids": [dwight["id"], "toby@nowhere.com"]}
    )
    assert resp.status_code == 404
    assert "toby@nowhere.com" in resp.json()["_error"]["message"]
    assert api.ok("GET", "/inboxes")["_results"] == before
    inbox = api.ok("POST", "/inboxes", 201, json={"name": "Real"})
    access = f"/inboxes/{inbox['id']}/teammates"
    resp = api.post(access, json={"teammate_ids": [dwight["id"], "tea_zzzzzz"]})
    assert resp.status_code == 404
    assert api.ok("GET", access)["_results"] == []


def test_private_inboxes_need_private_scope_and_consent(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    michael = dunder_mifflin.admin_id
    mine = api.ok("POST", f"/teammates/{michael}/private_inboxes", 201, json={"name": "Mine"})
    assert mine["is_private"] is True and mine["is_public"] is False
    assert mine["_links"]["related"]["owner"].endswith(f"/teammates/{michael}")
    listed = api.ok("GET", f"/teammates/{michael}/private_inboxes")["_results"]
    assert _ids(listed) == [mine["id"]]
    # The owner reaches their private inbox; nobody can be given access to it.
    assert _ids(api.ok("GET", f"/inboxes/{mine['id']}/teammates")["_results"]) == [michael]
    dwight = _teammate(api, "dwight@dundermifflin.com", api_private_access=False)
    refused = api.post(f"/inboxes/{mine['id']}/teammates", json={"teammate_ids": [dwight["id"]]})
    assert refused.status_code == 400
    # Dwight did not allow API access to his private resources.
    assert (
        api.post(f"/teammates/{dwight['id']}/private_inboxes", json={"name": "Beets"}).status_code
        == 403
    )
    assert api.get(f"/teammates/{dwight['id']}/private_inboxes").status_code == 403
    # A shared-only token sees neither the inbox nor the private list.
    shared_only = dunder_mifflin.client(dunder_mifflin.token(namespaces=["shared"]))
    assert shared_only.get(f"/inboxes/{mine['id']}").status_code == 404
    assert mine["id"] not in _ids(shared_only.ok("GET", "/inboxes")["_results"])
    assert shared_only.get(f"/teammates/{michael}/private_inboxes").status_code == 403


def test_inbox_custom_fields_are_checked(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    api.ok(
        "POST",
        "/porch/custom_fields",
        201,
        json={"object_type": "inbox", "name": "Region", "type": "string"},
    )
    api.ok(
        "POST",
        "/porch/custom_fields",
        201,
        json={"object_type": "inbox", "name": "Priority", "type": "number"},
    )
    inbox = api.ok(
        "POST",
        "/inboxes",
        201,
        json={"name": "Scranton", "custom_fields": {"Region": "Northeast", "Priority": 2}},
    )
    assert inbox["custom_fields"] == {"Region": "Northeast", "Priority": 2}
    assert api.ok("GET", f"/inboxes/{inbox['id']}")["custom_fields"] == inbox["custom_fields"]
    before = api.ok("GET", "/inboxes")["_results"]
    for fields in ({"Priority": "high"}, {"Unknown": 1}, "nope"):
        resp = api.post("/inboxes", json={"name": "Bad", "custom_fields": fields})
        assert resp.status_code == 400, fields
    assert api.ok("GET", "/inboxes")["_results"] == before


def test_inbox_names_may_repeat(api: Api) -> None:
    first = api.ok("POST", "/inboxes", 201, json={"name": "Orders"})
    second = api.ok("POST", "/inboxes", 201, json={"name": "Orders"})
    assert first["id"] != second["id"]


def test_inbox_channels_and_conversations(api: Api) -> None:
    inbox = api.ok("POST", "/inboxes", 201, json={"name": "Paper"})
    assert api.ok("GET", f"/inboxes/{inbox['id']}/channels")["_results"] == []
    api.ok(
        "POST",
        f"/inboxes/{inbox['id']}/channels",
        204,
        json={"type": "smtp", "send_as": "paper@dundermifflin.com"},
    )
    channels = api.ok("GET", f"/inboxes/{inbox['id']}/channels")["_results"]
    assert [c["address"] for c in channels] == ["paper@dundermifflin.com"]
    convs = api.ok("GET", f"/inboxes/{inbox['id']}/conversations", params={"limit": 10})
    assert convs["_results"] == [] and convs["_pagination"]["next"] is None
    assert api.get(f"/inboxes/{inbox['id']}/conversations", params={"limit": 0}).status_code == 400
    assert (
        api.get(f"/inboxes/{inbox['id']}/conversations", params={"sort_by": "name"}).status_code
        == 400
    )
    assert api.get("/inboxes/inb_zzzzzz/conversations").status_code == 404


def test_team_token_sees_only_its_team(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    other = api.ok("POST", "/porch/teams", 201, json={"name": "Stamford"})
    ours = api.ok("POST", f"/teams/{dunder_mifflin.team_id}/inboxes", 201, json={"name": "Ours"})
    theirs = api.ok("POST", f"/teams/{other['id']}/inboxes", 201, json={"name": "Theirs"})
    team_api = dunder_mifflin.client(dunder_mifflin.token(namespaces=[f"team:{other['id']}"]))
    assert _ids(team_api.ok("GET", "/inboxes")["_results"]) == [theirs["id"]]
    assert team_api.get(f"/inboxes/{ours['id']}").status_code == 404
    assert team_api.get(f"/teams/{dunder_mifflin.team_id}/inboxes").status_code == 404
    created = team_api.ok("POST", "/inboxes", 201, json={"name": "Legacy"})
    assert created["_links"]["related"]["owner"].endswith(f"/teams/{other['id']}")


def test_other_companies_never_see_our_inboxes(
    dunder_mifflin: Company, vance_refrigeration: Company
) -> None:
    inbox = dunder_mifflin.api.ok("POST", "/inboxes", 201, json={"name": "Private matters"})
    bob = vance_refrigeration.api
    bob_admin = vance_refrigeration.admin_id
    assert bob.get(f"/inboxes/{inbox['id']}").status_code == 404
    assert bob.get(f"/inboxes/{inbox['id']}/teammates").status_code == 404
    resp = bob.post(f"/inboxes/{inbox['id']}/teammates", json={"teammate_ids": [bob_admin]})
    assert resp.status_code == 404
    assert inbox["id"] not in _ids(bob.ok("GET", "/inboxes")["_results"])
    # Bob cannot give Michael (of another company) access to his own inbox either.
    mine = bob.ok("POST", "/inboxes", 201, json={"name": "Refrigerators"})
    resp = bob.post(
        f"/inboxes/{mine['id']}/teammates", json={"teammate_ids": [dunder_mifflin.admin_id]}
    )
    assert resp.status_code == 404


def test_bad_inbox_input_changes_nothing(api: Api) -> None:
    before = api.ok("GET", "/inboxes")["_results"]
    for body in (
        {},
        {"name": ""},
        {"name": "   "},
        {"name": 5},
        {"name": "a\x00b"},
        {"name": "x" * 256},
        {"name": "ok", "is_public": "yes"},
        {"name": "ok", "teammate_ids": "tea_1"},
        {"name": "ok", "teammate_ids": [1]},
    ):
        assert api.post("/inboxes", json=body).status_code == 400, body
    assert api.ok("GET", "/inboxes")["_results"] == before
    inbox = api.ok("POST", "/inboxes", 201, json={"name": "Target"})
    for body in ({}, {"teammate_ids": []}, {"teammate_ids": None}):
        assert api.post(f"/inboxes/{inbox['id']}/teammates", json=body).status_code == 400
    assert api.get("/inboxes/not-an-id").status_code == 404
