"""Seen receipts: POST /messages/{id}/seen marks an outbound message seen, GET lists receipts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.conftest import Api, Company


def _message(api: Api, company: Company, *, inbound: bool, external_id: str) -> dict[str, Any]:
    inbox = api.ok("POST", f"/teams/{company.team_id}/inboxes", 201, json={"name": external_id})
    answer = api.ok(
        "POST",
        f"/inboxes/{inbox['id']}/imported_messages",
        202,
        json={
            "sender": {"handle": "michael@dundermifflin.com"},
            "to": ["jan@example.com"],
            "body": "Did you get my fax?",
            "external_id": external_id,
            "created_at": 1_700_000_000,
            "metadata": {"is_inbound": inbound},
        },
    )
    msg: dict[str, Any] = api.message(answer["message_uid"])
    return msg


def _events(api: Api) -> list[Any]:
    return list(api.all_pages("/porch/events", limit=100))


def test_the_first_sighting_is_kept(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    msg = _message(api, dunder_mifflin, inbound=False, external_id="fax")
    seen_url = f"/messages/{msg['id']}/seen"
    assert msg["_links"]["related"]["message_seen"] == api.base_url + seen_url
    empty = api.ok("GET", seen_url)
    assert empty["_results"] == [] and empty["_pagination"]["next"] is None

    before = _events(api)
    assert api.ok("POST", seen_url, 204, json={}) is None
    [receipt] = api.ok("GET", seen_url)["_results"]
    # No viewer is named: one "first seen" entry, as Front gives without seen-by information.
    assert receipt["seen_by"] is None
    assert receipt["_links"] == {
        "self": api.base_url + seen_url,
        "related": {"message": f"{api.base_url}/messages/{msg['id']}"},
    }
    first = datetime.fromisoformat(receipt["first_seen_at"])
    assert first.utcoffset() is not None and first.year >= 2024
    [event] = [e for e in _events(api) if e not in before]
    assert event["type"] == "message_seen"

    # Seen again (also by uid, and with no body at all): the first time stays, nothing is logged.
    after_first = _events(api)
    api.ok("POST", seen_url, 204)
    api.ok("POST", f"/messages/alt:uid:{msg['message_uid']}/seen", 204, json={"x": 1})
    assert api.ok("GET", seen_url)["_results"] == [receipt]
    assert _events(api) == after_first


def test_inbound_messages_and_bad_bodies_are_refused(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    inbound = _message(api, dunder_mifflin, inbound=True, external_id="inbound")
    outbound = _message(api, dunder_mifflin, inbound=False, external_id="outbound")
    before = _events(api)
    resp = api.post(f"/messages/{inbound['id']}/seen", json={})
    assert resp.status_code == 400
    assert "outbound" in resp.json()["_error"]["message"]
    assert api.post(f"/messages/{outbound['id']}/seen", json=["me"]).status_code == 400
    assert api.post(f"/messages/{outbound['id']}/seen", content=b"{nope").status_code == 400
    assert api.post("/messages/msg_zzzz/seen", json={}).status_code == 404
    assert _events(api) == before
    for msg in (inbound, outbound):
        assert api.ok("GET", f"/messages/{msg['id']}/seen")["_results"] == []


def test_another_companys_messages_are_not_found(
    dunder_mifflin: Company, vance_refrigeration: Company
) -> None:
    api = dunder_mifflin.api
    msg = _message(api, dunder_mifflin, inbound=False, external_id="theirs")
    bob = vance_refrigeration.api
    before = _events(api)
    for ref in (msg["id"], f"alt:uid:{msg['message_uid']}"):
        assert bob.get(f"/messages/{ref}/seen").status_code == 404
        assert bob.post(f"/messages/{ref}/seen", json={}).status_code == 404
    assert _events(api) == before
    assert api.ok("GET", f"/messages/{msg['id']}/seen")["_results"] == []
