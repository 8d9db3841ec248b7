"""Messages through the API: custom channel inbound, imports, fetching and listing."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.conftest import Api, Company


def _custom_channel(company: Company, name: str = "Support") -> tuple[str, str]:
    """A custom channel in a new inbox: (channel id, inbox id)."""
    api = company.api
    inbox = api.ok("POST", f"/teams/{company.team_id}/inboxes", 201, json={"name": name})
    api.ok("POST", f"/inboxes/{inbox['id']}/channels", 204, json={"type": "custom"})
    channel = api.ok("GET", f"/inboxes/{inbox['id']}/channels")["_results"][0]["id"]
    return channel, inbox["id"]


def _receive(api: Api, channel: str, handle: str, body: str, **extra: Any) -> dict[str, Any]:
    """Receive a message and return it as GET /messages shows it."""
    payload: dict[str, Any] = {"sender": {"handle": handle}, "body": body, **extra}
    answer = api.ok("POST", f"/channels/{channel}/incoming_messages", 202, json=payload)
    assert answer["status"] == "accepted"
    msg: dict[str, Any] = api.message(answer["message_uid"])
    assert msg["message_uid"] == answer["message_uid"]
    return msg


def _conversation_of(msg: dict[str, Any]) -> str:
    return str(msg["_links"]["related"]["conversation"].rsplit("/", 1)[1])


def _import(api: Api, inbox: str, **fields: Any) -> Any:
    payload: dict[str, Any] = {
        "sender": {"handle": "Jan@Example.com", "name": "Jan Levinson"},
        "to": ["sales@dundermifflin.com"],
        "body": "<p>Hello &amp; welcome</p>",
        "body_format": "html",
        "external_id": "ext-1",
        "created_at": 1_700_000_000,
        "metadata": {"is_inbound": True},
        **fields,
    }
    return api.post(f"/inboxes/{inbox}/imported_messages", json=payload)


def _contact_of(msg: dict[str, Any], role: str = "from") -> str | None:
    [person] = [r for r in msg["recipients"] if r["role"] == role]
    link: str | None = person["_links"]["related"]["contact"]
    return link


def test_incoming_messages_thread_by_ref_and_by_sender(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    channel, inbox = _custom_channel(dunder_mifflin)
    first = _receive(
        api,
        channel,
        "jan",
        "Paper, please.",
        subject="Order",
        metadata={"thread_ref": "t-1", "headers": {"k": "v"}},
    )
    assert first["id"].startswith("msg_") and first["is_inbound"] is True
    assert first["type"] == "custom" and "author" not in first
    assert first["subject"] == "Order" and first["text"] == "Paper, please."
    assert first["blurb"] == "Paper, please." and first["attachments"] == []
    assert first["metadata"] == {"thread_ref": "t-1", "headers": {"k": "v"}}
    assert [(r["role"], r["handle"]) for r in first["recipients"]][0] == ("from", "jan")
    conv = _conversation_of(first)
    shown = api.ok("GET", f"/conversations/{conv}")
    assert shown["type"] == "conversation" and shown["subject"] == "Order"
    assert shown["status"] == "unassigned"
    assert shown["recipient"]["handle"] == "jan" and shown["recipient"]["role"] == "from"
    inboxes = api.ok("GET", f"/conversations/{conv}/inboxes")["_results"]
    assert [i["id"] for i in inboxes] == [inbox]
    # Same thread_ref from someone else: same conversation.
    by_ref = _receive(api, channel, "pam", "Me too.", metadata={"thread_ref": "t-1"})
    assert _conversation_of(by_ref) == conv
    # No thread_ref: the sender's latest conversation on the channel.
    by_sender = _receive(api, channel, "jan", "Still waiting.")
    assert _conversation_of(by_sender) == conv
    # Another thread_ref starts a conversation of its own.
    other = _receive(api, channel, "jan", "New topic.", metadata={"thread_ref": "t-2"})
    assert _conversation_of(other) != conv
    listed = api.ok("GET", f"/conversations/{conv}/messages")
    assert [m["id"] for m in listed["_results"]] == [by_sender["id"], by_ref["id"], first["id"]]
    assert listed["_results"][0] == by_sender
    # The main recipient follows the latest message.
    assert api.ok("GET", f"/conversations/{conv}")["recipient"]["handle"] == "jan"
    events = api.ok("GET", f"/conversations/{conv}/events")["_results"]
    assert [e["type"] for e in events].count("inbound") == 3


def test_a_new_sender_starts_a_conversation_and_paging_works(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    channel, _ = _custom_channel(dunder_mifflin)
    jan = _receive(api, channel, "jan", "One.")
    karen = _receive(api, channel, "karen", "Two.")
    assert _conversation_of(jan) != _conversation_of(karen)
    conv = _conversation_of(jan)
    more = [_receive(api, channel, "jan", f"Again {i}.") for i in range(3)]
    assert {_conversation_of(m) for m in more} == {conv}
    page = api.ok("GET", f"/conversations/{conv}/messages", params={"limit": 2})
    assert [m["id"] for m in page["_results"]] == [more[2]["id"], more[1]["id"]]
    everything = api.all_pages(f"/conversations/{conv}/messages", limit=2)
    assert [m["id"] for m in everything] == [m["id"] for m in [*reversed(more), jan]]
    oldest_first = api.ok(
        "GET",
        f"/conversations/{conv}/messages",
        params={"sort_by": "created_at", "sort_order": "asc"},
    )
    assert oldest_first["_results"][0]["id"] == jan["id"]


def test_an_archived_conversation_reopens_on_an_inbound_message(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    channel, _ = _custom_channel(dunder_mifflin)
    conv = _conversation_of(_receive(api, channel, "jan", "Hello."))
    api.ok("PATCH", f"/conversations/{conv}", 204, json={"status": "archived"})
    assert api.ok("GET", f"/conversations/{conv}")["status"] == "archived"
    again = _receive(api, channel, "jan", "Hello again.")
    assert _conversation_of(again) == conv
    assert api.ok("GET", f"/conversations/{conv}")["status"] == "unassigned"
    events = [e["type"] for e in api.ok("GET", f"/conversations/{conv}/events")["_results"]]
    assert "reopen" in events
    # A trashed conversation takes no new messages by sender: a new one starts.
    api.ok("PATCH", f"/conversations/{conv}", 204, json={"status": "deleted"})
    assert _conversation_of(_receive(api, channel, "jan", "Anyone?")) != conv


def test_one_contact_per_handle(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    channel, inbox = _custom_channel(dunder_mifflin)
    one = _receive(api, channel, "jan", "One.", metadata={"thread_ref": "a"})
    two = _receive(api, channel, "jan", "Two.", metadata={"thread_ref": "b"})
    assert _conversation_of(one) != _conversation_of(two)
    assert _contact_of(one) is not None and _contact_of(one) == _contact_of(two)
    assert _contact_of(one) != _contact_of(_receive(api, channel, "pam", "Three."))
    # Email handles compare lower-cased.
    assert _import(api, inbox).status_code == 202
    first = _import(api, inbox, external_id="ext-2", sender={"handle": "jan@example.com"})
    second = _import(api, inbox, external_id="ext-3", sender={"handle": "JAN@EXAMPLE.COM"})
    a = api.message(first.json()["message_uid"])
    b = api.message(second.json()["message_uid"])
    assert _contact_of(a) == _contact_of(b) and _contact_of(a) is not None
    assert a["recipients"][0]["handle"] == "jan@example.com"


def test_import_dedupes_by_external_id(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    _, inbox = _custom_channel(dunder_mifflin)
    first = _import(api, inbox, subject="Paper", tags=["imported", "imported"])
    assert first.status_code == 202
    uid = first.json()["message_uid"]
    msg = api.message(uid)
    assert msg["type"] == "email" and msg["created_at"] == 1_700_000_000
    assert msg["body"] == "<p>Hello &amp; welcome</p>" and msg["text"] == "Hello & welcome"
    assert [(r["role"], r["handle"], r["name"]) for r in msg["recipients"]] == [
        ("from", "jan@example.com", "Jan Levinson"),
        ("to", "sales@dundermifflin.com", None),
    ]
    again = _import(api, inbox, subject="Paper again", body="changed")
    assert again.status_code == 202 and again.json()["message_uid"] == uid
    conv = _conversation_of(msg)
    assert len(api.ok("GET", f"/conversations/{conv}/messages")["_results"]) == 1
    shown = api.ok("GET", f"/conversations/{conv}")
    assert shown["status"] == "archived" and shown["subject"] == "Paper"
    assert [t["name"] for t in shown["tags"]] == ["imported"]
    assert shown["created_at"] == 1_700_000_000
    # The same external id in another inbox is another message.
    _, other_inbox = _custom_channel(dunder_mifflin, "Other")
    elsewhere = _import(api, other_inbox)
    assert elsewhere.status_code == 202 and elsewhere.json()["message_uid"] != uid


def test_import_outbound_with_author_and_conversation(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    _, inbox = _custom_channel(dunder_mifflin)
    conv = _conversation_of(api.message(_import(api, inbox).json()["message_uid"]))
    reply = _import(
        api,
        inbox,
        external_id="ext-reply",
        sender={"handle": "michael@dundermifflin.com", "author_id": dunder_mifflin.admin_id},
        to=["jan@example.com"],
        created_at=1_700_000_100,
        conversation_id=conv,
        assignee_id=dunder_mifflin.admin_id,
        metadata={"is_inbound": False, "thread_ref": "ignored", "is_archived": False},
    )
    assert reply.status_code == 202
    msg = api.message(reply.json()["message_uid"])
    assert _conversation_of(msg) == conv and msg["is_inbound"] is False
    assert msg["author"]["id"] == dunder_mifflin.admin_id
    assert _contact_of(msg, "from") is None and _contact_of(msg, "to") is not None
    shown = api.ok("GET", f"/conversations/{conv}")
    assert shown["status"] == "assigned" and shown["assignee"]["id"] == dunder_mifflin.admin_id
    assert shown["recipient"]["handle"] == "jan@example.com" and shown["recipient"]["role"] == "to"
    events = [e["type"] for e in api.ok("GET", f"/conversations/{conv}/events")["_results"]]
    assert "out_reply" in events and "assign" in events and "reopen" in events


def test_message_lookup(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    channel, _ = _custom_channel(dunder_mifflin)
    msg = _receive(api, channel, "jan", "Hello.")
    assert api.ok("GET", f"/messages/{msg['id']}") == msg
    assert api.get("/messages/alt:uid:0123456789abcdef0123456789abcdef").status_code == 404
    assert api.get("/messages/msg_zzzzzz").status_code == 404
    assert api.get("/messages/cnv_1").status_code == 404
    assert api.get("/conversations/cnv_zzzzzz/messages").status_code == 404


def test_bad_input_changes_nothing(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    channel, inbox = _custom_channel(dunder_mifflin)
    smtp_inbox = api.ok("POST", f"/teams/{dunder_mifflin.team_id}/inboxes", 201, json={"name": "M"})
    api.ok(
        "POST",
        f"/inboxes/{smtp_inbox['id']}/channels",
        204,
        json={"type": "smtp", "send_as": "m@example.com"},
    )
    smtp = api.ok("GET", f"/inboxes/{smtp_inbox['id']}/channels")["_results"][0]["id"]
    before = api.ok("GET", "/porch/events", params={"limit": 100})["_results"]
    for body in (
        {"sender": {"handle": "jan"}},
        {"sender": {"handle": "jan"}, "body": "   "},
        {"sender": {"handle": "jan"}, "body": 3},
        {"sender": {"handle": ""}, "body": "x"},
        {"sender": {"handle": "ja\x00n"}, "body": "x"},
        {"sender": {"handle": "jan"}, "body": "a\x01b"},
        {"sender": "jan", "body": "x"},
        {"sender": {"handle": "jan"}, "body": "x", "body_format": "rtf"},
        {"sender": {"handle": "jan"}, "body": "x", "metadata": {"thread_ref": 5}},
        {"body": "x"},
    ):
        resp = api.post(f"/channels/{channel}/incoming_messages", json=body)
        assert resp.status_code == 400, body
    good = {"sender": {"handle": "jan"}, "body": "x"}
    assert api.post("/channels/cha_zzzzzz/incoming_messages", json=good).status_code == 404
    assert api.post(f"/channels/{smtp}/incoming_messages", json=good).status_code == 400
    for fields in (
        {"external_id": None},
        {"created_at": "yesterday"},
        {"created_at": 1.5},
        {"created_at": -1},
        {"to": []},
        {"to": "jan@example.com"},
        {"type": "fax"},
        {"metadata": {}},
        {"body": "a\x00"},
        {"tags": [""]},
    ):
        assert _import(api, inbox, **fields).status_code == 400, fields
    assert _import(api, inbox, assignee_id="tea_zzzzzz").status_code == 404
    assert _import(api, inbox, conversation_id="cnv_zzzzzz").status_code == 404
    assert _import(api, "inb_zzzzzz").status_code == 404
    after = api.ok("GET", "/porch/events", params={"limit": 100})["_results"]
    assert after == before
    assert api.ok("GET", "/conversations", params={"limit": 100})["_results"] == []


def test_another_companys_channel_and_inbox_are_404(
    dunder_mifflin: Company, vance_refrigeration: Company
) -> None:
    api = dunder_mifflin.api
    channel, inbox = _custom_channel(dunder_mifflin)
    msg = _receive(api, channel, "jan", "Hello.")
    bob = vance_refrigeration.api
    good = {"sender": {"handle": "jan"}, "body": "x"}
    assert bob.post(f"/channels/{channel}/incoming_messages", json=good).status_code == 404
    assert _import(bob, inbox).status_code == 404
    assert bob.get(f"/messages/{msg['id']}").status_code == 404
    assert bob.get(f"/messages/alt:uid:{msg['message_uid']}").status_code == 404
    assert bob.get(f"/conversations/{_conversation_of(msg)}/messages").status_code == 404
    # Their import into their own inbox does not dedupe against ours.
    _, theirs = _custom_channel(vance_refrigeration)
    assert _import(api, inbox).status_code == 202
    assert _import(bob, theirs).json()["message_uid"] != _import(api, inbox).json()["message_uid"]
    assert len(api.ok("GET", f"/conversations/{_conversation_of(msg)}/messages")["_results"]) == 1


def test_deleting_a_conversation_for_good_deletes_its_messages(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    channel, _ = _custom_channel(dunder_mifflin)
    msg = _receive(api, channel, "jan", "Hello.")
    conv = _conversation_of(msg)
    api.ok("PATCH", f"/conversations/{conv}", 204, json={"status": "deleted"})
    assert api.delete(f"/conversations/{conv}").status_code == 204
    assert api.get(f"/messages/{msg['id']}").status_code == 404
    # The sender's next message starts a new conversation.
    assert _conversation_of(_receive(api, channel, "jan", "Hello?")) != conv


def test_deleting_for_good_takes_files_receipts_and_pending_sends_along(
    dunder_mifflin: Company,
) -> None:
    api = dunder_mifflin.api
    channel, _ = _custom_channel(dunder_mifflin)
    conv = _conversation_of(_receive(api, channel, "jan", "Hello."))
    sent = api.ok(
        "POST",
        f"/conversations/{conv}/messages",
        202,
        data={"body": "See attached", "to[]": "jan"},
        files=[("attachments[]", ("order.pdf", b"%PDF-1.4 order", "application/pdf"))],
    )
    reply = api.message(sent["message_uid"])
    [file] = reply["attachments"]
    api.ok("POST", f"/messages/{reply['id']}/seen", 204, json={})
    api.ok(
        "POST",
        f"/conversations/{conv}/comments",
        201,
        data={"body": "internal copy"},
        files=[("attachments[]", ("note.txt", b"note", "text/plain"))],
    )
    api.ok("PATCH", f"/conversations/{conv}", 204, json={"status": "deleted"})
    assert api.delete(f"/conversations/{conv}").status_code == 204
    assert api.get(f"/messages/{reply['id']}").status_code == 404
    assert api.get(f"/download/{file['id']}").status_code == 404


def test_merging_moves_the_messages_to_the_survivor(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    channel, _ = _custom_channel(dunder_mifflin)
    kept = _receive(api, channel, "jan", "First thread", metadata={"thread_ref": "a"})
    gone = _receive(api, channel, "jan", "Second thread", metadata={"thread_ref": "b"})
    survivor, old = _conversation_of(kept), _conversation_of(gone)
    assert survivor != old
    api.ok("POST", f"/porch/conversations/{survivor}/merge", 200, json={"conversation_ids": [old]})
    shown = [m["id"] for m in api.all_pages(f"/conversations/{survivor}/messages")]
    assert sorted(shown) == sorted([kept["id"], gone["id"]])
    # The moved message now belongs to the survivor.
    assert _conversation_of(api.ok("GET", f"/messages/{gone['id']}")) == survivor


def test_simultaneous_first_messages_from_one_sender_share_one_contact(
    dunder_mifflin: Company,
) -> None:
    api = dunder_mifflin.api
    channel, _ = _custom_channel(dunder_mifflin)

    async def flood() -> list[httpx.Response]:
        async with httpx.AsyncClient(
            base_url=api.base_url, headers=dict(api.http.headers), timeout=30
        ) as client:
            return await asyncio.gather(
                *(
                    client.post(
                        f"/channels/{channel}/incoming_messages",
                        json={"sender": {"handle": "stanley"}, "body": f"Pretzel {n}"},
                    )
                    for n in range(24)
                )
            )

    answers = asyncio.run(flood())
    assert [a.status_code for a in answers] == [202] * 24
    uids = [a.json()["message_uid"] for a in answers]
    contacts = {_contact_of(api.message(uid)) for uid in uids}
    assert len(contacts) == 1
