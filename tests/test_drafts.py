"""Drafts through the API: create, reply, list, edit and delete, with versions and modes."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api, Company


def _channel(company: Company, name: str = "Sales") -> tuple[str, str]:
    """An email channel in a new shared inbox: (channel id, inbox id)."""
    api = company.api
    inbox = api.ok("POST", f"/teams/{company.team_id}/inboxes", 201, json={"name": name})
    api.ok(
        "POST",
        f"/inboxes/{inbox['id']}/channels",
        204,
        json={"type": "smtp", "send_as": f"{name.lower()}-{company.key}@example.com"},
    )
    channel = api.ok("GET", f"/inboxes/{inbox['id']}/channels")["_results"][0]["id"]
    return channel, inbox["id"]


def _conversation_of(msg: dict[str, Any]) -> str:
    return str(msg["_links"]["related"]["conversation"].rsplit("/", 1)[1])


def _draft(api: Api, channel: str, **fields: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {"body": "<p>Dear Jan,</p>", "to": ["jan@example.com"], **fields}
    draft: dict[str, Any] = api.ok("POST", f"/channels/{channel}/drafts", json=payload)
    return draft


def test_create_draft_starts_a_conversation_and_stays_out_of_its_messages(
    dunder_mifflin: Company,
) -> None:
    api = dunder_mifflin.api
    channel, inbox = _channel(dunder_mifflin)
    draft = _draft(api, channel, subject="Paper prices", cc=["michael@example.com"])
    assert draft["id"].startswith("msg_") and draft["is_inbound"] is False
    assert draft["draft_mode"] == "private" and draft["version"]
    assert draft["type"] == "email" and draft["subject"] == "Paper prices"
    assert draft["text"] == "Dear Jan," and draft["author"]["username"] == "porch_api"
    assert [(r["role"], r["handle"]) for r in draft["recipients"]] == [
        ("from", f"sales-{dunder_mifflin.key}@example.com"),
        ("to", "jan@example.com"),
        ("cc", "michael@example.com"),
    ]
    conv = _conversation_of(draft)
    shown = api.ok("GET", f"/conversations/{conv}")
    assert shown["type"] == "conversation" and shown["subject"] == "Paper prices"
    assert [i["id"] for i in api.ok("GET", f"/conversations/{conv}/inboxes")["_results"]] == [inbox]
    assert api.ok("GET", f"/conversations/{conv}/messages")["_results"] == []
    fetched = api.ok("GET", f"/messages/{draft['id']}")
    assert fetched["version"] == draft["version"] and fetched["draft_mode"] == "private"
    listed = api.ok("GET", f"/conversations/{conv}/drafts")["_results"]
    assert [d["id"] for d in listed] == [draft["id"]]
    kinds = [e["type"] for e in api.ok("GET", "/porch/events", params={"limit": 100})["_results"]]
    assert "draft_created" in kinds


def test_draft_reply_joins_a_conversation_with_a_named_author(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    channel, _ = _channel(dunder_mifflin)
    first = _draft(api, channel, subject="Order")
    conv = _conversation_of(first)
    reply = api.ok(
        "POST",
        f"/conversations/{conv}/drafts",
        json={
            "body": "Second thoughts",
            "channel_id": channel,
            "author_id": dunder_mifflin.admin_id,
            "mode": "shared",
        },
    )
    assert _conversation_of(reply) == conv and reply["draft_mode"] == "shared"
    assert reply["author"]["id"] == dunder_mifflin.admin_id and reply["subject"] == "Order"
    listed = api.ok("GET", f"/conversations/{conv}/drafts")["_results"]
    assert [d["id"] for d in listed] == [first["id"], reply["id"]]
    # The spec requires channel_id on a reply; unknown channels and authors are 404.
    assert api.post(f"/conversations/{conv}/drafts", json={"body": "x"}).status_code == 400
    bad_channel = {"body": "x", "channel_id": "cha_zzzz"}
    assert api.post(f"/conversations/{conv}/drafts", json=bad_channel).status_code == 404
    bad_author = {"body": "x", "channel_id": channel, "author_id": "tea_zzzz"}
    assert api.post(f"/conversations/{conv}/drafts", json=bad_author).status_code == 404
    assert len(api.ok("GET", f"/conversations/{conv}/drafts")["_results"]) == 2


def test_edit_draft_needs_the_current_version(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    channel, _ = _channel(dunder_mifflin)
    other, _ = _channel(dunder_mifflin, "Support")
    draft = _draft(api, channel)
    v1 = draft["version"]
    edited = api.ok(
        "PATCH",
        f"/drafts/{draft['id']}/",
        json={"body": "<b>Revised</b>", "channel_id": other, "version": v1, "to": ["pam@x.com"]},
    )
    assert edited["text"] == "Revised" and edited["version"] != v1
    assert [(r["role"], r["handle"]) for r in edited["recipients"]] == [
        ("from", f"support-{dunder_mifflin.key}@example.com"),
        ("to", "pam@x.com"),
    ]
    # The old version is stale: 409 and nothing changes.
    stale = api.patch(
        f"/drafts/{draft['id']}/", json={"body": "Lost", "channel_id": channel, "version": v1}
    )
    assert stale.status_code == 409 and "_error" in stale.json()
    assert api.ok("GET", f"/messages/{draft['id']}")["body"] == "<b>Revised</b>"
    # Without recipients the handles stay.
    kept = api.ok(
        "PATCH",
        f"/drafts/{draft['id']}/",
        json={"body": "Again", "channel_id": other, "version": edited["version"]},
    )
    assert [r["handle"] for r in kept["recipients"] if r["role"] == "to"] == ["pam@x.com"]
    # version and channel_id are required; a non-draft message is not a draft.
    missing = api.patch(f"/drafts/{draft['id']}/", json={"body": "x", "channel_id": channel})
    assert missing.status_code == 400
    assert api.patch("/drafts/msg_zzzz/", json={}).status_code == 404


def test_mode_only_goes_from_private_to_shared(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    channel, _ = _channel(dunder_mifflin)
    draft = _draft(api, channel)
    path = f"/drafts/{draft['id']}/"
    shared = api.ok(
        "PATCH",
        path,
        json={"body": "b", "channel_id": channel, "version": draft["version"], "mode": "shared"},
    )
    assert shared["draft_mode"] == "shared"
    back = api.patch(
        path,
        json={"body": "c", "channel_id": channel, "version": shared["version"], "mode": "private"},
    )
    assert back.status_code == 400
    after = api.ok("GET", f"/messages/{draft['id']}")
    assert after["draft_mode"] == "shared" and after["version"] == shared["version"]


def test_delete_draft_with_its_version(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    channel, _ = _channel(dunder_mifflin)
    draft = _draft(api, channel)
    conv = _conversation_of(draft)
    assert api.delete(f"/drafts/{draft['id']}", json={"version": "old"}).status_code == 409
    assert api.delete(f"/drafts/{draft['id']}", json={}).status_code == 400
    assert len(api.ok("GET", f"/conversations/{conv}/drafts")["_results"]) == 1
    api.ok("DELETE", f"/drafts/{draft['id']}", 204, json={"version": draft["version"]})
    assert api.ok("GET", f"/conversations/{conv}/drafts")["_results"] == []
    assert api.get(f"/messages/{draft['id']}").status_code == 404
    again = api.delete(f"/drafts/{draft['id']}", json={"version": draft["version"]})
    assert again.status_code == 404
    kinds = [e["type"] for e in api.ok("GET", "/porch/events", params={"limit": 100})["_results"]]
    assert "draft_deleted" in kinds


def test_private_drafts_are_seen_by_their_token_and_the_private_namespace(
    dunder_mifflin: Company,
) -> None:
    channel, _ = _channel(dunder_mifflin)
    writer = dunder_mifflin.client(dunder_mifflin.token(namespaces=["shared"]))
    reader = dunder_mifflin.client(dunder_mifflin.token(namespaces=["shared"]))
    draft = _draft(writer, channel)
    conv = _conversation_of(draft)
    assert [d["id"] for d in writer.ok("GET", f"/conversations/{conv}/drafts")["_results"]] == [
        draft["id"]
    ]
    # Another shared-only token sees the conversation but not the private draft.
    assert reader.ok("GET", f"/conversations/{conv}/drafts")["_results"] == []
    edit = {"body": "x", "channel_id": channel, "version": draft["version"]}
    assert reader.patch(f"/drafts/{draft['id']}/", json=edit).status_code == 404
    assert reader.delete(f"/drafts/{draft['id']}", json=edit).status_code == 404
    assert reader.get(f"/messages/{draft['id']}").status_code == 404
    assert writer.ok("GET", f"/messages/{draft['id']}")["id"] == draft["id"]
    # A token with the private namespace sees it.
    admin = dunder_mifflin.api
    assert len(admin.ok("GET", f"/conversations/{conv}/drafts")["_results"]) == 1
    # Once shared, whoever sees the conversation sees it.
    writer.ok("PATCH", f"/drafts/{draft['id']}/", json={**edit, "mode": "shared"})
    assert len(reader.ok("GET", f"/conversations/{conv}/drafts")["_results"]) == 1


def test_bad_draft_input_changes_nothing(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    channel, _ = _channel(dunder_mifflin)
    before = api.ok("GET", "/conversations")["_results"]
    for payload in (
        {},
        {"body": "   "},
        {"body": 3},
        {"body": "x", "mode": "public"},
        {"body": "x", "to": [""]},
        {"body": "x\x00"},
    ):
        resp = api.post(f"/channels/{channel}/drafts", json=payload)
        assert resp.status_code == 400, payload
        assert "_error" in resp.json()
    assert api.post("/channels/cha_zzzz/drafts", json={"body": "x"}).status_code == 404
    assert api.ok("GET", "/conversations")["_results"] == before


def test_drafts_of_another_company_are_unknown(
    dunder_mifflin: Company, vance_refrigeration: Company
) -> None:
    channel, _ = _channel(dunder_mifflin)
    draft = _draft(dunder_mifflin.api, channel, mode="shared")
    bob = vance_refrigeration.api
    conv = _conversation_of(draft)
    assert bob.get(f"/conversations/{conv}/drafts").status_code == 404
    assert bob.get(f"/messages/{draft['id']}").status_code == 404
    assert (
        bob.delete(f"/drafts/{draft['id']}", json={"version": draft["version"]}).status_code == 404
    )
    assert dunder_mifflin.api.ok("GET", f"/messages/{draft['id']}")["version"] == draft["version"]
