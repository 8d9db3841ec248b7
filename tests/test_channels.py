"""Channels through the API: creating the three types, aliases, updates, moves, validation."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api, Company


def _inbox(api: Api, name: str = "Sales", path: str = "/inboxes") -> dict[str, Any]:
    return api.ok("POST", path, 201, json={"name": name})  # type: ignore[no-any-return]


def _create(api: Api, inbox: dict[str, Any], **body: Any) -> dict[str, Any]:
    """Create a channel (Front answers 204) and return it as listed in its inbox."""
    before = {c["id"] for c in api.ok("GET", f"/inboxes/{inbox['id']}/channels")["_results"]}
    api.ok("POST", f"/inboxes/{inbox['id']}/channels", 204, json=body)
    after = api.ok("GET", f"/inboxes/{inbox['id']}/channels")["_results"]
    (new,) = [c for c in after if c["id"] not in before]
    return new  # type: ignore[no-any-return]


def test_smtp_channel_and_its_address_alias(api: Api) -> None:
    inbox = _inbox(api)
    ch = _create(api, inbox, type="smtp", send_as="Sales@DunderMifflin.com", name="Sales mail")
    assert ch["id"].startswith("cha_")
    assert ch["type"] == "smtp" and ch["address"] == "sales@dundermifflin.com"
    assert ch["send_as"] == "Sales@DunderMifflin.com"
    assert ch["name"] == "Sales mail" and ch["is_private"] is False and ch["is_valid"] is False
    assert ch["settings"] == {"undo_send_time": 0, "all_teammates_can_reply": False}
    assert ch["_links"]["related"]["inbox"].endswith(f"/inboxes/{inbox['id']}")
    assert api.ok("GET", f"/channels/{ch['id']}") == ch
    # The alias compares addresses case-insensitively.
    assert api.ok("GET", "/channels/alt:address:SALES@dundermifflin.com")["id"] == ch["id"]
    assert api.get("/channels/alt:address:nobody@dundermifflin.com").status_code == 404
    assert [c["id"] for c in api.ok("GET", "/channels")["_results"]] == [ch["id"]]


def test_duplicate_address_conflicts(api: Api, vance_refrigeration: Company) -> None:
    inbox = _inbox(api)
    _create(api, inbox, type="smtp", send_as="sales@dundermifflin.com")
    other = _inbox(api, "Other")
    resp = api.post(
        f"/inboxes/{other['id']}/channels",
        json={"type": "smtp", "send_as": "SALES@dundermifflin.com"},
    )
    assert resp.status_code == 409
    assert api.ok("GET", f"/inboxes/{other['id']}/channels")["_results"] == []
    # Another company may use the same address.
    bob = vance_refrigeration.api
    _create(bob, _inbox(bob), type="smtp", send_as="sales@dundermifflin.com")


def test_twilio_and_custom_channels(api: Api) -> None:
    inbox = _inbox(api)
    sms = _create(
        api,
        inbox,
        type="twilio",
        send_as="+1 (570) 555-0100",
        settings={"sid": "AC123", "auth_token": "secret", "undo_send_time": 10},
    )
    assert sms["address"] == sms["send_as"] == "+15705550100"
    assert sms["settings"] == {"undo_send_time": 10, "all_teammates_can_reply": False}
    hook = "https://hooks.dundermifflin.com/front"
    custom = _create(api, inbox, type="custom", settings={"webhook_url": hook})
    assert custom["type"] == "custom"
    assert custom["address"].startswith("custom-")
    assert custom["address"].endswith("@channels.porch.invalid")
    assert "send_as" not in custom
    second = _create(api, inbox, type="custom")
    assert second["address"] != custom["address"]
    # An application channel names an application of the company (tests/test_channel_api.py
    # covers what happens with the partner); here nothing listens at the base URL.
    uid = api.ok("POST", "/porch/applications", 201, json={"name": "Sabre"})["uid"]
    app = _create(
        api,
        inbox,
        type="custom",
        application_uid=uid,
        credentials={"api_key": "k"},
        settings={"webhook_url": "http://127.0.0.1:9/partner"},
    )
    assert app["type"] == "custom"


def test_channel_creation_refuses_bad_input(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    inbox = _inbox(api)
    private = _inbox(api, "Mine", f"/teammates/{dunder_mifflin.admin_id}/private_inboxes")
    path = f"/inboxes/{inbox['id']}/channels"
    for body in (
        {},
        {"type": "gmail", "send_as": "a@b.com"},
        {"type": "smtp"},
        {"type": "smtp", "send_as": "not an email"},
        {"type": "twilio", "send_as": "call me"},
        {"type": "smtp", "send_as": "a@b.com", "settings": {"webhook_url": "https://x.com"}},
        {"type": "smtp", "send_as": "a@b.com", "settings": {"undo_send_time": 7}},
        {"type": "smtp", "send_as": "a@b.com", "settings": {"undo_send_time": False}},
        {"type": "smtp", "send_as": "a@b.com", "settings": {"sid": "AC1"}},
        {"type": "smtp", "send_as": "a@b.com", "application_uid": "app"},
        {"type": "custom", "send_as": "a@b.com"},
        {"type": "custom", "settings": {"webhook_url": "ftp://x.com/hook"}},
        {"type": "custom", "settings": {"webhook_url": "not a url"}},
        {"type": "custom", "credentials": {"api_key": "k"}},
        {"type": "smtp", "send_as": "a@b.com", "name": ""},
    ):
        assert api.post(path, json=body).status_code == 400, body
    resp = api.post(
        f"/inboxes/{private['id']}/channels",
        json={"type": "smtp", "send_as": "me@b.com", "settings": {"all_teammates_can_reply": True}},
    )
    assert resp.status_code == 400
    assert api.ok("GET", "/channels")["_results"] == []
    assert api.post("/inboxes/inb_zzzzzz/channels", json={"type": "custom"}).status_code == 404


def test_update_channel_name_settings_and_inbox(api: Api) -> None:
    inbox = _inbox(api)
    ch = _create(api, inbox, type="custom", name="Bot")
    api.ok(
        "PATCH",
        f"/channels/{ch['id']}",
        204,
        json={
            "name": "Bot 2",
            "settings": {
                "undo_send_time": 30,
                "all_teammates_can_reply": True,
                "webhook_url": "http://bot.example.com/in",
            },
        },
    )
    got = api.ok("GET", f"/channels/{ch['id']}")
    assert got["name"] == "Bot 2"
    assert got["settings"] == {"undo_send_time": 30, "all_teammates_can_reply": True}
    # Settings not sent stay as they were.
    api.ok("PATCH", f"/channels/{ch['id']}", 204, json={"settings": {"undo_send_time": 5}})
    got = api.ok("GET", f"/channels/{ch['id']}")
    assert got["settings"] == {"undo_send_time": 5, "all_teammates_can_reply": True}
    other = _inbox(api, "Other")
    api.ok("PATCH", f"/channels/alt:address:{ch['address']}", 204, json={"inbox_id": other["id"]})
    assert api.ok("GET", f"/inboxes/{inbox['id']}/channels")["_results"] == []
    moved = api.ok("GET", f"/inboxes/{other['id']}/channels")["_results"]
    assert [c["id"] for c in moved] == [ch["id"]]


def test_update_channel_refuses_bad_input(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    inbox = _inbox(api)
    smtp = _create(api, inbox, type="smtp", send_as="sales@dundermifflin.com", name="Sales")
    mine = _inbox(api, "Mine", f"/teammates/{dunder_mifflin.admin_id}/private_inboxes")
    private = _create(api, mine, type="smtp", send_as="michael@dundermifflin.com")
    assert "all_teammates_can_reply" not in private["settings"] and private["is_private"] is True
    for body in (
        {"name": ""},
        {"name": None},
        {"name": 3},
        {"inbox_id": None},
        {"settings": {"undo_send_time": 3}},
        {"settings": {"undo_send_time": "5"}},
        {"settings": {"webhook_url": "https://x.com"}},
        {"settings": {"all_teammates_can_reply": "yes"}},
    ):
        assert api.patch(f"/channels/{smtp['id']}", json=body).status_code == 400, body
    resp = api.patch(
        f"/channels/{private['id']}", json={"settings": {"all_teammates_can_reply": True}}
    )
    assert resp.status_code == 400
    assert api.patch(f"/channels/{smtp['id']}", json={"inbox_id": "inb_zzzzzz"}).status_code == 404
    assert api.ok("GET", f"/channels/{smtp['id']}") == smtp
    # Moving a shared channel into a private inbox drops the shared-only setting.
    api.ok("PATCH", f"/channels/{smtp['id']}", 204, json={"inbox_id": mine["id"]})
    moved = api.ok("GET", f"/channels/{smtp['id']}")
    assert moved["is_private"] is True and moved["settings"] == {"undo_send_time": 0}


def test_validate_channel(api: Api) -> None:
    inbox = _inbox(api)
    smtp = _create(api, inbox, type="smtp", send_as="sales@dundermifflin.com")
    assert api.ok("POST", f"/channels/{smtp['id']}/validate", 202) == {"status": "accepted"}
    assert api.ok("GET", f"/channels/{smtp['id']}")["is_valid"] is True
    # A custom channel without anywhere to deliver replies stays invalid until it has a webhook.
    custom = _create(api, inbox, type="custom")
    api.ok("POST", f"/channels/{custom['id']}/validate", 202)
    assert api.ok("GET", f"/channels/{custom['id']}")["is_valid"] is False
    api.ok(
        "PATCH",
        f"/channels/{custom['id']}",
        204,
        json={"settings": {"webhook_url": "https://hooks.example.com/x"}},
    )
    api.ok("POST", f"/channels/alt:address:{custom['address']}/validate", 202)
    assert api.ok("GET", f"/channels/{custom['id']}")["is_valid"] is True
    assert api.post("/channels/cha_zzzzzz/validate").status_code == 404


def test_team_and_teammate_channels(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    team = dunder_mifflin.team_id
    dwight = api.ok("POST", "/porch/teammates", 201, json={"email": "dwight@dundermifflin.com"})
    sales = _inbox(api, "Sales", f"/teams/{team}/inboxes")
    api.ok("POST", f"/inboxes/{sales['id']}/teammates", 204, json={"teammate_ids": [dwight["id"]]})
    support = _inbox(api, "Support", f"/teams/{team}/inboxes")
    a = _create(api, sales, type="smtp", send_as="sales@dundermifflin.com")
    b = _create(api, support, type="smtp", send_as="support@dundermifflin.com")
    other_team = api.ok("POST", "/porch/teams", 201, json={"name": "Stamford"})
    stamford = _inbox(api, "Stamford", f"/teams/{other_team['id']}/inboxes")
    c = _create(api, stamford, type="smtp", send_as="stamford@dundermifflin.com")
    listed = api.ok("GET", f"/teams/{team}/channels")["_results"]
    assert [x["id"] for x in listed] == [a["id"], b["id"]]
    listed = api.ok("GET", f"/teams/{other_team['id']}/channels")["_results"]
    assert [x["id"] for x in listed] == [c["id"]]
    dwights = api.ok("GET", "/teammates/alt:email:dwight@dundermifflin.com/channels")["_results"]
    assert [x["id"] for x in dwights] == [a["id"]]
    # Michael owns a private inbox: its channel is his.
    mine = _inbox(api, "Mine", f"/teammates/{dunder_mifflin.admin_id}/private_inboxes")
    d = _create(api, mine, type="smtp", send_as="michael@dundermifflin.com")
    michaels = api.ok("GET", f"/teammates/{dunder_mifflin.admin_id}/channels")["_results"]
    assert [x["id"] for x in michaels] == [d["id"]]
    # A shared-only token sees no private channel, even through the teammate's list.
    shared = dunder_mifflin.client(dunder_mifflin.token(namespaces=["shared"]))
    assert shared.ok("GET", f"/teammates/{dunder_mifflin.admin_id}/channels")["_results"] == []
    assert shared.get(f"/channels/{d['id']}").status_code == 404
    assert shared.get("/channels/alt:address:michael@dundermifflin.com").status_code == 404
    assert d["id"] not in [x["id"] for x in shared.ok("GET", "/channels")["_results"]]
    # A token of the other team sees only that team's channels.
    stamford_api = dunder_mifflin.client(
        dunder_mifflin.token(namespaces=[f"team:{other_team['id']}"])
    )
    assert [x["id"] for x in stamford_api.ok("GET", "/channels")["_results"]] == [c["id"]]
    assert stamford_api.get(f"/teams/{team}/channels").status_code == 404
    assert stamford_api.patch(f"/channels/{a['id']}", json={"name": "x"}).status_code == 404


def test_other_companies_never_see_our_channels(
    dunder_mifflin: Company, vance_refrigeration: Company
) -> None:
    api = dunder_mifflin.api
    ch = _create(api, _inbox(api), type="smtp", send_as="sales@dundermifflin.com")
    bob = vance_refrigeration.api
    assert bob.get(f"/channels/{ch['id']}").status_code == 404
    assert bob.get("/channels/alt:address:sales@dundermifflin.com").status_code == 404
    assert bob.patch(f"/channels/{ch['id']}", json={"name": "Mine now"}).status_code == 404
    assert bob.post(f"/channels/{ch['id']}/validate").status_code == 404
    assert bob.ok("GET", "/channels")["_results"] == []
    # Nor may Bob move his channel into Michael's inbox.
    bobs = _create(bob, _inbox(bob), type="custom")
    inbox_id = ch["_links"]["related"]["inbox"].rsplit("/", 1)[-1]
    assert bob.patch(f"/channels/{bobs['id']}", json={"inbox_id": inbox_id}).status_code == 404
    assert api.ok("GET", f"/channels/{ch['id']}") == ch
