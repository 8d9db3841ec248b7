"""The Channel API with a real partner on loopback: authorization when the channel is created,
messages both ways threaded by external ids, signed calls to the partner (checked here with a
few lines of hmac, not Porch's code), JWT checks, calls, templates, status and delete."""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import orjson
import pytest

from porch.store import messages as messages_store
from tests.conftest import Api, Company


@dataclass
class Call:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Partner:
    """A partner's server on loopback: records every call and answers what the test sets."""

    calls: list[Call] = field(default_factory=list)
    # Reply to a ``message``: external ids to hand back.
    message_reply: dict[str, Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def start(self) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _record(self) -> Call:
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                call = Call(
                    self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, raw
                )
                with outer.lock:
                    outer.calls.append(call)
                return call

            def _answer(self, body: dict[str, Any]) -> None:
                data = orjson.dumps(body)
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                call = self._record()
                kind = orjson.loads(call.body).get("type")
                if kind == "authorization":
                    self._answer({"type": "success", "webhook_url": outer.url + "/hook/one"})
                elif kind in ("message", "message_autoreply"):
                    self._answer({"type": "success", **outer.message_reply})
                else:
                    self._answer({})

            def do_DELETE(self) -> None:
                self._record()
                self._answer({})

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def of(self, kind: str) -> list[Call]:
        with self.lock:
            calls = list(self.calls)
        if kind == "delete":
            return [c for c in calls if c.method == "DELETE"]
        return [c for c in calls if c.method == "POST" and orjson.loads(c.body)["type"] == kind]


def _wait(cond: Callable[[], Any], seconds: float = 15.0) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        found = cond()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def verify(secret: str, call: Call) -> None:
    """Front's signature, recomputed independently: base64 HMAC-SHA256("<ts>:" + body)."""
    ts = call.headers["x-front-request-timestamp"]
    body = call.body if call.method != "DELETE" else b"undefined"
    want = base64.b64encode(
        hmac.new(secret.encode(), ts.encode() + b":" + body, hashlib.sha256).digest()
    )
    assert call.headers["x-front-signature"] == want.decode()
    assert abs(int(ts) - time.time() * 1000) < 60_000


@dataclass
class Setup:
    api: Api
    company: Company
    partner: Partner
    app_uid: str
    secret: str
    channel: str
    inbox: str

    def token(self, **claims: Any) -> str:
        base = {
            "iss": self.app_uid,
            "sub": self.channel,
            "jti": uuid.uuid4().hex,
            "exp": int(time.time()) + 10,
        }
        base.update(claims)
        body = {k: v for k, v in base.items() if v is not None}
        return jwt.encode(body, self.secret, algorithm="HS256")

    def as_partner(self, **claims: Any) -> Api:
        return self.company.client(self.token(**claims))

    def call(self, method: str, path: str, **kw: Any) -> Any:
        """One Channel API call with a fresh JWT."""
        return self.as_partner().request(method, path, **kw)


@pytest.fixture
def partner() -> Iterator[Partner]:
    p = Partner()
    p.start()
    yield p
    p.close()


def _app(api: Api) -> dict[str, Any]:
    return api.ok("POST", "/porch/applications", 201, json={"name": "Sabre Chat"})  # type: ignore[no-any-return]


@pytest.fixture
def setup(dunder_mifflin: Company, partner: Partner) -> Setup:
    api = dunder_mifflin.api
    app = _app(api)
    inbox = api.ok("POST", f"/teams/{dunder_mifflin.team_id}/inboxes", 201, json={"name": "Sabre"})
    api.ok(
        "POST",
        f"/inboxes/{inbox['id']}/channels",
        204,
        json={
            "type": "custom",
            "application_uid": app["uid"],
            "settings": {"webhook_url": partner.url + "/base"},
        },
    )
    channel = api.ok("GET", f"/inboxes/{inbox['id']}/channels")["_results"][0]["id"]
    return Setup(api, dunder_mifflin, partner, app["uid"], app["secret"], channel, inbox["id"])


def _authorized(s: Setup) -> None:
    assert _wait(lambda: s.api.ok("GET", f"/channels/{s.channel}")["is_valid"])


def _inbound(s: Setup, ext_id: str, ext_conv: str, text: str, **extra: Any) -> dict[str, Any]:
    body = {
        "sender": {"handle": "jim-chat", "name": "Jim Halpert"},
        "body": text,
        "metadata": {"external_id": ext_id, "external_conversation_id": ext_conv},
        **extra,
    }
    answer = s.as_partner().ok("POST", f"/channels/{s.channel}/inbound_messages", 202, json=body)
    assert answer["status"] == "accepted"
    return s.api.message(answer["message_uid"])  # type: ignore[no-any-return]


def _external_id(s: Setup, uid: str) -> str | None:
    """The external id Porch stored for a sent message (read from its database)."""

    async def read(db: Any) -> str | None:
        msg = await messages_store.by_uid(db, company_id=s.company.key, uid=uid)
        return None if msg is None else msg.external_id

    return s.company.server.run(read)  # type: ignore[no-any-return]


def _conv(msg: dict[str, Any]) -> str:
    return str(msg["_links"]["related"]["conversation"].rsplit("/", 1)[1])


def test_creating_a_partner_channel_authorizes_it_with_the_partner(setup: Setup) -> None:
    s = setup
    auth = _wait(lambda: s.partner.of("authorization"))
    assert auth and auth[0].path == "/base"
    assert orjson.loads(auth[0].body)["payload"] == {"channel_id": s.channel}
    verify(s.secret, auth[0])
    _authorized(s)


def test_messages_round_trip_threaded_by_external_ids(setup: Setup) -> None:
    s = setup
    _authorized(s)
    first = _inbound(s, "in-1", "chat-1", "Is the paper in stock?")
    assert first["is_inbound"] is True
    second = _inbound(s, "in-2", "chat-1", "Hello?")
    conv = _conv(first)
    assert _conv(second) == conv
    other = _inbound(s, "in-3", "chat-2", "Different chat")
    assert _conv(other) != conv
    # The same external id again is the same message.
    again = s.as_partner().ok(
        "POST",
        f"/channels/{s.channel}/inbound_messages",
        202,
        json={
            "sender": {"handle": "jim-chat"},
            "body": "dup",
            "metadata": {"external_id": "in-1", "external_conversation_id": "chat-1"},
        },
    )
    assert s.api.message(again["message_uid"])["id"] == first["id"]

    # A teammate replies: the partner receives a signed message and answers its external ids.
    s.partner.message_reply = {"external_id": "out-1", "external_conversation_id": "chat-9"}
    reply = s.api.ok(
        "POST",
        f"/conversations/{conv}/messages",
        202,
        json={"body": "Yes, plenty", "to": ["jim-chat"]},
    )
    sent = _wait(lambda: s.partner.of("message"))
    assert sent and sent[0].path == "/hook/one"
    verify(s.secret, sent[0])
    assert orjson.loads(sent[0].body)["payload"]["id"] == s.api.message(reply["message_uid"])["id"]
    # The partner's next message on the answered conversation id threads into it (once Porch
    # has recorded the answer).
    assert _wait(lambda: _external_id(s, reply["message_uid"]) == "out-1")
    follow = _inbound(s, "in-4", "chat-9", "Thanks!")
    assert _conv(follow) == conv
    # An explicit reply to a known message threads by it, whatever the conversation id.
    explicit = _inbound(
        s,
        "in-5",
        "chat-new",
        "About that paper",
        metadata={
            "external_id": "in-5",
            "external_conversation_id": "chat-new",
            "referenced_message_external_id": "in-2",
        },
    )
    assert _conv(explicit) == conv

    # Outbound messages the partner synced are recorded as sent by the channel.
    out = s.as_partner().ok(
        "POST",
        f"/channels/{s.channel}/outbound_messages",
        202,
        json={
            "to": [{"handle": "jim-chat"}],
            "body": "Sent from the phone",
            "metadata": {"external_id": "out-2", "external_conversation_id": "chat-1"},
        },
    )
    synced = s.api.message(out["message_uid"])
    assert synced["is_inbound"] is False and _conv(synced) == conv


def test_a_failed_status_marks_the_message_failed_and_reopens(setup: Setup) -> None:
    s = setup
    _authorized(s)
    conv = _conv(_inbound(s, "in-1", "chat-1", "Hi"))
    s.partner.message_reply = {"external_id": "out-1", "external_conversation_id": "chat-1"}
    s.api.ok(
        "POST", f"/conversations/{conv}/messages", 202, json={"body": "Hello", "to": ["jim-chat"]}
    )
    assert _wait(lambda: s.api.ok("GET", f"/conversations/{conv}")["status"] == "archived")
    assert _wait(lambda: s.partner.of("message"))
    path = f"/channels/{s.channel}/conversations/chat-1/messages/out-1/status"

    def status() -> int:
        return s.call("PUT", path, json={"status": "failed", "reason": "blocked"}).status_code

    # The reply's ids are stored once the partner's answer is recorded.
    assert _wait(lambda: status() == 204)
    assert s.api.ok("GET", f"/conversations/{conv}")["status"] != "archived"
    kinds = [e["type"] for e in s.api.all_pages(f"/conversations/{conv}/events")]
    assert "sending_error" in kinds and "reopen" in kinds
    unknown = f"/channels/{s.channel}/conversations/chat-1/messages/nope/status"
    assert s.call("PUT", unknown, json={"status": "failed"}).status_code == 404
    assert s.call("PUT", path, json={"status": "sent"}).status_code == 400


def test_jwts_that_do_not_authenticate_the_channel_are_401(
    setup: Setup, vance_refrigeration: Company
) -> None:
    s = setup
    path = f"/channels/{s.channel}/inbound_messages"
    body = {
        "sender": {"handle": "x"},
        "body": "b",
        "metadata": {"external_id": "e", "external_conversation_id": "c"},
    }
    now = int(time.time())
    bad = [
        s.token(exp=None),
        s.token(exp=now - 60),
        s.token(exp=now + 3600),
        s.token(iss="someone-else"),
        s.token(sub="cha_zzzz"),
        s.token(jti=None),
        jwt.encode(
            {"iss": s.app_uid, "sub": s.channel, "jti": "j", "exp": now + 10},
            "wrong-secret-" + "x" * 40,
            algorithm="HS256",
        ),
        "not.a.jwt",
    ]
    for token in bad:
        resp = s.company.client(token).post(path, json=body)
        assert resp.status_code == 401, (token, resp.text)
        assert resp.json()["_error"]["status"] == 401
    once = s.token()
    assert s.company.client(once).post(path, json=body).status_code == 202
    assert s.company.client(once).post(path, json=body).status_code == 401
    # A channel JWT is no API token: other routes refuse it.
    assert s.as_partner().get("/channels").status_code == 401
    assert s.as_partner().get(f"/channels/{s.channel}").status_code == 401
    # Another company's API token does not see the channel.
    assert vance_refrigeration.api.post(path, json=body).status_code == 404


def test_update_channel_with_a_jwt_reports_the_partners_status(setup: Setup) -> None:
    s = setup
    assert s.call("PATCH", f"/channels/{s.channel}", json={"status": "offline"}).status_code == 204
    events = s.api.ok("GET", "/porch/events", params={"limit": 100})["_results"]
    assert any(e["type"] == "partner_channel_status" for e in events)
    assert s.call("PATCH", f"/channels/{s.channel}", json={"status": "broken"}).status_code == 400
    # The Core API's update-channel is unchanged for API tokens.
    s.api.ok("PATCH", f"/channels/{s.channel}", 204, json={"name": "Sabre chat"})


def test_calls_become_events_on_their_conversation(setup: Setup) -> None:
    s = setup
    base = f"/channels/{s.channel}/calls"
    create = {
        "external_call_id": "call-1",
        "initial_status": "ringing",
        "direction": "inbound",
        "from": {"handle": "+15705550100", "name": "Jan"},
        "parent_external_call_id": "",
    }
    assert s.call("POST", base, json=create).status_code == 202
    assert s.call("POST", base, json=create).status_code == 409
    assert (
        s.call(
            "POST", base, json={**create, "external_call_id": "call-2", "from": None}
        ).status_code
        == 400
    )
    assert (
        s.call(
            "PATCH",
            f"{base}/call-1",
            json={"call_status": "connected", "occurred_at": int(time.time() * 1000)},
        ).status_code
        == 202
    )
    assert s.call("PATCH", f"{base}/call-1", json={"call_status": "nope"}).status_code == 400
    assert s.call("PATCH", f"{base}/unknown", json={"call_status": "hangup"}).status_code == 404
    lines = [
        {
            "speaker_name": "Jan",
            "content": "Hi",
            "start_time_seconds": 0,
            "speaker_type": "external",
        }
    ]
    assert s.call("POST", f"{base}/call-1/transcript", json={"lines": lines}).status_code == 202
    assert s.call("POST", f"{base}/call-1/transcript", json={"lines": []}).status_code == 400
    assert (
        s.call("POST", f"{base}/call-1/summary", json={"content": "Jan called"}).status_code == 202
    )
    audio = [("attachments", ("call.mp3", b"ID3fake-audio", "audio/mpeg"))]
    assert (
        s.call(
            "POST", f"{base}/call-1/recording", data={"recording_type": "call"}, files=audio
        ).status_code
        == 202
    )
    text = [("attachments", ("notes.txt", b"text", "text/plain"))]
    assert (
        s.call(
            "POST", f"{base}/call-1/recording", data={"recording_type": "call"}, files=text
        ).status_code
        == 400
    )
    assert s.call("PATCH", f"{base}/call-1", json={"call_status": "hangup"}).status_code == 202

    def conversation() -> str | None:
        for c in s.api.all_pages(f"/inboxes/{s.inbox}/conversations"):
            return str(c["id"])
        return None

    conv = _wait(conversation)
    assert conv

    def kinds() -> list[str]:
        return [e["type"] for e in s.api.all_pages(f"/conversations/{conv}/events")]

    want = ["call_started", "call_connected", "call_transcript_added", "call_hangup"]
    assert _wait(lambda: all(k in kinds() for k in want)), kinds()
    msgs = s.api.all_pages(f"/conversations/{conv}/messages")
    assert msgs[0]["type"] == "call"
    assert [a["filename"] for a in msgs[0]["attachments"]] == ["call.mp3"]


def test_application_message_templates_sync_and_update(
    setup: Setup, dunder_mifflin: Company
) -> None:
    s = setup
    tpl = {
        "external_id": "welcome",
        "name": "Welcome",
        "blurb": "Hi {{1}}",
        "is_disabled": False,
        "status_name": "APPROVED",
        "variable_mappings": [{"uid": "1", "name": "first", "type": "text"}],
        "template_preview": "Hi Jim",
    }
    path = f"/channels/{s.channel}/application_message_templates"
    first = s.call("PUT", path, json=tpl)
    assert first.status_code == 200, first.text
    again = s.call("PUT", path, json={**tpl, "name": "Welcome back"}).json()
    assert again["template_id"] == first.json()["template_id"]
    assert s.call("PATCH", f"{path}/welcome", json={"is_disabled": True}).json() == again
    assert s.call("PATCH", f"{path}/unknown", json={"is_disabled": True}).status_code == 404
    assert s.call("PUT", path, json={"external_id": "x"}).status_code == 400
    # A plain custom channel is not an application channel.
    api = dunder_mifflin.api
    inbox = api.ok("POST", f"/teams/{dunder_mifflin.team_id}/inboxes", 201, json={"name": "Plain"})
    api.ok("POST", f"/inboxes/{inbox['id']}/channels", 204, json={"type": "custom"})
    plain = api.ok("GET", f"/inboxes/{inbox['id']}/channels")["_results"][0]["id"]
    assert api.put(f"/channels/{plain}/application_message_templates", json=tpl).status_code == 400


def test_deleting_a_partner_channel_tells_the_partner_and_retires_its_jwts(setup: Setup) -> None:
    s = setup
    _authorized(s)
    s.api.ok("DELETE", f"/porch/channels/{s.channel}/partner", 204)
    deleted = _wait(lambda: s.partner.of("delete"))
    assert deleted and deleted[0].path == "/hook/one" and deleted[0].body == b""
    verify(s.secret, deleted[0])
    path = f"/channels/{s.channel}/inbound_messages"
    body = {
        "sender": {"handle": "x"},
        "body": "b",
        "metadata": {"external_id": "e", "external_conversation_id": "c"},
    }
    assert s.as_partner().post(path, json=body).status_code == 401
    assert s.api.delete(f"/porch/channels/{s.channel}/partner").status_code == 400


def test_an_unknown_application_is_refused(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    inbox = api.ok("POST", f"/teams/{dunder_mifflin.team_id}/inboxes", 201, json={"name": "X"})
    path = f"/inboxes/{inbox['id']}/channels"
    resp = api.post(
        path,
        json={
            "type": "custom",
            "application_uid": "nope",
            "settings": {"webhook_url": "http://127.0.0.1:9/x"},
        },
    )
    assert resp.status_code == 400
    app = _app(api)
    # An app without a webhook_url needs the channel base URL in the settings.
    assert api.post(path, json={"type": "custom", "application_uid": app["uid"]}).status_code == 400
    assert api.ok("GET", path)["_results"] == []


def test_a_plain_custom_channels_webhook_is_signed_with_its_own_secret(
    dunder_mifflin: Company, partner: Partner
) -> None:
    api = dunder_mifflin.api
    inbox = api.ok("POST", f"/teams/{dunder_mifflin.team_id}/inboxes", 201, json={"name": "Plain"})
    api.ok(
        "POST",
        f"/inboxes/{inbox['id']}/channels",
        204,
        json={"type": "custom", "settings": {"webhook_url": partner.url + "/plain"}},
    )
    channel = api.ok("GET", f"/inboxes/{inbox['id']}/channels")["_results"][0]["id"]
    api.ok("POST", f"/channels/{channel}/messages", 202, json={"to": ["kevin"], "body": "Chili"})
    sent = _wait(lambda: partner.of("message"))
    assert sent
    shown = api.ok("GET", f"/porch/channels/{channel}/webhook_secret")
    assert shown["signed_with"] == "channel"
    verify(shown["secret"], sent[0])


def test_a_channel_jwt_reaches_its_channels_conversations_and_messages_only(
    setup: Setup, vance_refrigeration: Company
) -> None:
    s = setup
    _authorized(s)
    msg = _inbound(s, "in-1", "chat-1", "Is the paper in stock?")
    conv = _conv(msg)
    partner = s.as_partner
    # Front: the JWT also works on /conversations/:id* and /messages/:id*.
    assert partner().ok("GET", f"/conversations/{conv}")["id"] == conv
    listed = partner().ok("GET", f"/conversations/{conv}/messages")["_results"]
    assert [m["id"] for m in listed] == [msg["id"]]
    assert partner().ok("GET", f"/messages/{msg['id']}")["id"] == msg["id"]
    kinds = [e["type"] for e in partner().ok("GET", f"/conversations/{conv}/events")["_results"]]
    assert "inbound" in kinds
    partner().ok("PATCH", f"/conversations/{conv}", 204, json={"status": "archived"})
    assert s.api.ok("GET", f"/conversations/{conv}")["status"] == "archived"
    # The JWT has no delete permission.
    assert partner().delete(f"/conversations/{conv}").status_code == 403

    # A conversation of the same inbox without a message on the channel is not its own.
    task = s.api.ok(
        "POST",
        "/conversations",
        201,
        json={"type": "task", "subject": "Stock", "inbox_id": s.inbox},
    )["id"]
    assert partner().get(f"/conversations/{task}").status_code == 404
    # Nor is a message of another channel's conversation.
    plain = s.api.ok(
        "POST", f"/teams/{s.company.team_id}/inboxes", 201, json={"name": "Plain chat"}
    )
    s.api.ok("POST", f"/inboxes/{plain['id']}/channels", 204, json={"type": "custom"})
    other_channel = s.api.ok("GET", f"/inboxes/{plain['id']}/channels")["_results"][0]["id"]
    sent = s.api.ok(
        "POST", f"/channels/{other_channel}/messages", 202, json={"to": ["kevin"], "body": "Chili"}
    )
    other = s.api.message(sent["message_uid"])
    assert partner().get(f"/messages/{other['id']}").status_code == 404
    assert partner().get(f"/conversations/{_conv(other)}/messages").status_code == 404
    # Nor another company's conversation.
    vance_inbox = vance_refrigeration.api.ok(
        "POST", f"/teams/{vance_refrigeration.team_id}/inboxes", 201, json={"name": "Cold"}
    )
    theirs = vance_refrigeration.api.ok(
        "POST",
        "/conversations",
        201,
        json={"type": "task", "subject": "Cold", "inbox_id": vance_inbox["id"]},
    )["id"]
    assert partner().get(f"/conversations/{theirs}").status_code == 404
    # Lists and every other route stay closed to the JWT.
    for path in ["/conversations", "/inboxes", f"/inboxes/{s.inbox}", "/events"]:
        assert partner().get(path).status_code == 401, path
    assert partner().get(f"/inboxes/{s.inbox}/conversations").status_code == 401
    # The JWT is checked as on the Channel API: spent once, signed with the app's secret.
    once = s.token()
    assert s.company.client(once).get(f"/conversations/{conv}").status_code == 200
    assert s.company.client(once).get(f"/conversations/{conv}").status_code == 401
    assert s.as_partner(sub=other_channel).get(f"/conversations/{conv}").status_code == 401
    forged = jwt.encode(
        {"iss": s.app_uid, "sub": s.channel, "jti": "j2", "exp": int(time.time()) + 10},
        "wrong-secret-" + "x" * 40,
        algorithm="HS256",
    )
    assert s.company.client(forged).get(f"/conversations/{conv}").status_code == 401


def _import(s: Setup, ext_id: str, inbox: str | None = None, **extra: Any) -> dict[str, Any]:
    """Import a message from Jim into the partner's inbox (or ``inbox``); the message."""
    body = {
        "sender": {"handle": "jim-chat", "name": "Jim Halpert"},
        "to": ["sabre"],
        "body": f"Imported {ext_id}",
        "external_id": ext_id,
        "created_at": int(time.time()) - 3600,
        "type": "custom",
        **extra,
    }
    body.setdefault("metadata", {"is_inbound": True})
    answer = s.api.ok("POST", f"/inboxes/{inbox or s.inbox}/imported_messages", 202, json=body)
    return s.api.message(answer["message_uid"])  # type: ignore[no-any-return]


def test_an_imported_message_is_announced_to_the_partner(setup: Setup) -> None:
    s = setup
    _authorized(s)
    conv = _conv(_inbound(s, "in-1", "chat-1", "Is the paper in stock?"))
    # Into the partner's conversation: its external conversation id comes along.
    first = _import(s, "imp-1", conversation_id=conv)
    [call] = _wait(lambda: s.partner.of("message_imported"))
    assert call.path == "/hook/one"
    verify(s.secret, call)
    sent = orjson.loads(call.body)
    assert sent["type"] == "message_imported"
    assert sent["payload"]["id"] == first["id"]
    assert sent["payload"]["body"] == first["body"] and sent["payload"]["is_inbound"] is True
    assert sent["metadata"] == {
        "external_conversation_id": "chat-1",
        "external_conversation_ids": ["chat-1"],
    }
    # Into a new conversation threaded by the importer's own reference.
    second = _import(s, "imp-2", metadata={"is_inbound": True, "thread_ref": "legacy-7"})
    assert _wait(lambda: len(s.partner.of("message_imported")) == 2)
    call = s.partner.of("message_imported")[1]
    verify(s.secret, call)
    sent = orjson.loads(call.body)
    assert sent["payload"]["id"] == second["id"]
    assert sent["metadata"] == {
        "external_conversation_id": "legacy-7",
        "external_conversation_ids": ["legacy-7"],
    }
    # The same external id again imports nothing and calls nobody; an inbox without a partner
    # channel calls nobody either.
    assert _import(s, "imp-2", metadata={"is_inbound": True})["id"] == second["id"]
    plain = s.api.ok("POST", f"/teams/{s.company.team_id}/inboxes", 201, json={"name": "Plain"})
    _import(s, "imp-3", inbox=plain["id"])
    time.sleep(1.0)
    assert len(s.partner.of("message_imported")) == 2
    # The partner's plain messages were never called for the imports.
    assert s.partner.of("message") == []


def test_a_rules_automatic_reply_reaches_the_partner_as_message_autoreply(
    setup: Setup,
) -> None:
    s = setup
    api = s.api
    folder = api.ok(
        "POST",
        f"/teams/{s.company.team_id}/message_template_folders",
        201,
        json={"name": "Auto"},
    )
    template = api.ok(
        "POST",
        f"/message_template_folders/{folder['id']}/message_templates",
        201,
        json={"name": "Away", "body": "We are at the Sabre launch; back soon."},
    )
    api.ok(
        "POST",
        "/porch/rules",
        201,
        json={
            "name": "Away",
            "triggers": [{"type": "inbound_message"}],
            "conditions": [{"type": "channel", "channel_ids": [s.channel]}],
            "actions": [{"type": "reply_template", "template_id": template["id"]}],
        },
    )
    _authorized(s)
    s.partner.message_reply = {"external_id": "auto-1", "external_conversation_id": "chat-1"}
    conv = _conv(_inbound(s, "in-1", "chat-1", "Anyone there?"))
    [auto] = _wait(lambda: s.partner.of("message_autoreply"))
    assert auto.path == "/hook/one"
    verify(s.secret, auto)
    payload = orjson.loads(auto.body)["payload"]
    assert "back soon" in payload["body"] and payload["is_inbound"] is False
    assert _conv(payload) == conv
    assert s.partner.of("message") == []
    # A teammate's reply is a plain message.
    api.ok("POST", f"/conversations/{conv}/messages", 202, json={"body": "Hi", "to": ["jim-chat"]})
    assert _wait(lambda: s.partner.of("message"))
    assert len(s.partner.of("message_autoreply")) == 1
