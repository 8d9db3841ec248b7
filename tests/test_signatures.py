"""Signatures through the API: team and private signatures, defaults, channels, paging."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api, Company


def _channel(api: Api, inbox_path: str, address: str) -> dict[str, Any]:
    inbox = api.ok("POST", inbox_path, 201, json={"name": address})
    api.ok(
        "POST", f"/inboxes/{inbox['id']}/channels", 204, json={"type": "smtp", "send_as": address}
    )
    return api.ok("GET", f"/channels/alt:address:{address}")  # type: ignore[no-any-return]


def test_team_signature_create_get_update_delete(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    team = dunder_mifflin.team_id
    sig = api.ok(
        "POST",
        f"/teams/{team}/signatures",
        201,
        json={
            "name": "Sales",
            "body": "<p>Michael Scott</p>\n<p>Regional Manager</p>",
            "sender_info": "Michael from Dunder Mifflin",
            "is_visible_for_all_teammate_channels": True,
        },
    )
    assert sig["id"].startswith("sig_")
    assert sig["is_private"] is False and sig["is_default"] is False
    assert sig["is_visible_for_all_teammate_channels"] is True
    assert sig["channel_ids"] is None
    assert sig["_links"]["related"]["owner"].endswith(f"/teams/{team}")
    assert api.ok("GET", f"/signatures/{sig['id']}") == sig
    updated = api.ok(
        "PATCH",
        f"/signatures/{sig['id']}",
        json={"body": "World's best boss", "sender_info": None},
    )
    assert updated["body"] == "World's best boss" and updated["sender_info"] is None
    assert updated["name"] == "Sales" and updated["is_visible_for_all_teammate_channels"] is True
    assert api.ok("GET", f"/signatures/{sig['id']}") == updated
    api.ok("DELETE", f"/signatures/{sig['id']}", 204)
    assert api.get(f"/signatures/{sig['id']}").status_code == 404
    assert api.ok("GET", f"/teams/{team}/signatures")["_results"] == []


def test_one_default_per_owner(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    team = dunder_mifflin.team_id
    michael = dunder_mifflin.admin_id
    first = api.ok(
        "POST",
        f"/teams/{team}/signatures",
        201,
        json={"name": "A", "body": "a", "is_default": True},
    )
    mine = api.ok(
        "POST",
        f"/teammates/{michael}/signatures",
        201,
        json={"name": "Mine", "body": "m", "is_default": True},
    )
    second = api.ok(
        "POST",
        f"/teams/{team}/signatures",
        201,
        json={"name": "B", "body": "b", "is_default": True},
    )
    assert api.ok("GET", f"/signatures/{first['id']}")["is_default"] is False
    assert second["is_default"] is True
    # Another owner's default is untouched.
    assert api.ok("GET", f"/signatures/{mine['id']}")["is_default"] is True
    api.ok("PATCH", f"/signatures/{first['id']}", json={"is_default": True})
    assert api.ok("GET", f"/signatures/{second['id']}")["is_default"] is False
    assert api.ok("GET", f"/signatures/{first['id']}")["is_default"] is True
    assert api.ok("GET", f"/signatures/{mine['id']}")["is_default"] is True


def test_signature_channels(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    team = dunder_mifflin.team_id
    michael = dunder_mifflin.admin_id
    sales = _channel(api, f"/teams/{team}/inboxes", "sales@dundermifflin.com")
    support = _channel(api, f"/teams/{team}/inboxes", "support@dundermifflin.com")
    own = _channel(api, f"/teammates/{michael}/private_inboxes", "michael@dundermifflin.com")
    sig = api.ok(
        "POST",
        f"/teams/{team}/signatures",
        201,
        json={
            "name": "S",
            "body": "s",
            "channel_ids": [sales["id"], "alt:address:SUPPORT@dundermifflin.com"],
        },
    )
    assert sig["channel_ids"] == [sales["id"], support["id"]]
    # Unspecified keeps, a list replaces, null means every channel.
    kept = api.ok("PATCH", f"/signatures/{sig['id']}", json={"name": "S2"})
    assert kept["channel_ids"] == [sales["id"], support["id"]]
    narrowed = api.ok("PATCH", f"/signatures/{sig['id']}", json={"channel_ids": [support["id"]]})
    assert narrowed["channel_ids"] == [support["id"]]
    everywhere = api.ok("PATCH", f"/signatures/{sig['id']}", json={"channel_ids": None})
    assert everywhere["channel_ids"] is None
    # A team signature cannot be on a teammate's private channel.
    resp = api.patch(f"/signatures/{sig['id']}", json={"channel_ids": [own["id"]]})
    assert resp.status_code == 400
    # A private signature may use shared channels and the teammate's own.
    mine = api.ok(
        "POST",
        f"/teammates/{michael}/signatures",
        201,
        json={"name": "M", "body": "m", "channel_ids": [own["id"], sales["id"]]},
    )
    assert mine["channel_ids"] == [own["id"], sales["id"]]
    # Unknown channels are 404, naming them; nothing changes.
    resp = api.patch(
        f"/signatures/{sig['id']}",
        json={"channel_ids": [sales["id"], "alt:address:nobody@dundermifflin.com"]},
    )
    assert resp.status_code == 404
    assert "nobody@dundermifflin.com" in resp.json()["_error"]["message"]
    assert api.ok("GET", f"/signatures/{sig['id']}")["channel_ids"] is None
    resp = api.post(
        f"/teams/{team}/signatures", json={"name": "X", "body": "x", "channel_ids": ["cha_zzzzzz"]}
    )
    assert resp.status_code == 404
    assert len(api.ok("GET", f"/teams/{team}/signatures")["_results"]) == 1


def test_private_signatures_need_private_scope_and_consent(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    michael = dunder_mifflin.admin_id
    mine = api.ok("POST", f"/teammates/{michael}/signatures", 201, json={"name": "M", "body": "m"})
    assert mine["is_private"] is True
    assert mine["_links"]["related"]["owner"].endswith(f"/teammates/{michael}")
    listed = api.ok("GET", f"/teammates/{michael}/signatures")["_results"]
    assert [s["id"] for s in listed] == [mine["id"]]
    resp = api.post(
        f"/teammates/{michael}/signatures",
        json={"name": "V", "body": "v", "is_visible_for_all_teammate_channels": True},
    )
    assert resp.status_code == 400
    resp = api.patch(
        f"/signatures/{mine['id']}", json={"is_visible_for_all_teammate_channels": True}
    )
    assert resp.status_code == 400
    dwight = api.ok(
        "POST",
        "/porch/teammates",
        201,
        json={"email": "dwight@dundermifflin.com", "api_private_access": False},
    )
    assert (
        api.post(
            f"/teammates/{dwight['id']}/signatures", json={"name": "D", "body": "d"}
        ).status_code
        == 403
    )
    assert api.get(f"/teammates/{dwight['id']}/signatures").status_code == 403
    shared = dunder_mifflin.client(dunder_mifflin.token(namespaces=["shared"]))
    assert shared.get(f"/signatures/{mine['id']}").status_code == 404
    assert shared.delete(f"/signatures/{mine['id']}").status_code == 404
    assert shared.get(f"/teammates/{michael}/signatures").status_code == 403
    assert api.ok("GET", f"/signatures/{mine['id']}") == mine


def test_signature_lists_page(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    team = dunder_mifflin.team_id
    made = [
        api.ok("POST", f"/teams/{team}/signatures", 201, json={"name": f"s{i}", "body": "b"})["id"]
        for i in range(5)
    ]
    first = api.ok("GET", f"/teams/{team}/signatures", params={"limit": 2})
    assert [s["id"] for s in first["_results"]] == made[:2]
    assert first["_pagination"]["next"]
    assert [s["id"] for s in api.all_pages(f"/teams/{team}/signatures", limit=2)] == made
    assert (
        api.get(f"/teams/{team}/signatures", params={"page_token": "garbage!"}).status_code == 400
    )


def test_signatures_of_other_companies_and_teams_are_invisible(
    dunder_mifflin: Company, vance_refrigeration: Company
) -> None:
    api = dunder_mifflin.api
    sig = api.ok(
        "POST",
        f"/teams/{dunder_mifflin.team_id}/signatures",
        201,
        json={"name": "S", "body": "s"},
    )
    bob = vance_refrigeration.api
    assert bob.get(f"/signatures/{sig['id']}").status_code == 404
    assert bob.patch(f"/signatures/{sig['id']}", json={"name": "Bob"}).status_code == 404
    assert bob.delete(f"/signatures/{sig['id']}").status_code == 404
    assert bob.get(f"/teams/{dunder_mifflin.team_id}/signatures").status_code == 404
    other = api.ok("POST", "/porch/teams", 201, json={"name": "Stamford"})
    team_api = dunder_mifflin.client(dunder_mifflin.token(namespaces=[f"team:{other['id']}"]))
    assert team_api.get(f"/signatures/{sig['id']}").status_code == 404
    assert api.ok("GET", f"/signatures/{sig['id']}") == sig


def test_bad_signature_input_changes_nothing(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    path = f"/teams/{dunder_mifflin.team_id}/signatures"
    for body in (
        {},
        {"name": "n"},
        {"body": "b"},
        {"name": "", "body": "b"},
        {"name": "n", "body": "  "},
        {"name": "n", "body": 3},
        {"name": "n\x00", "body": "b"},
        {"name": "n", "body": "b\x00"},
        {"name": "n", "body": "b", "is_default": "yes"},
        {"name": "n", "body": "b", "channel_ids": "cha_1"},
    ):
        assert api.post(path, json=body).status_code == 400, body
    assert api.ok("GET", path)["_results"] == []
    sig = api.ok("POST", path, 201, json={"name": "n", "body": "b"})
    for body in (
        {"name": None},
        {"body": None},
        {"name": ""},
        {"is_default": None},
        {"body": 5},
    ):
        assert api.patch(f"/signatures/{sig['id']}", json=body).status_code == 400, body
    assert api.ok("GET", f"/signatures/{sig['id']}") == sig
