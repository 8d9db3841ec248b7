"""Sending messages: stored before the 202, delivered to a custom channel's webhook_url by the
outbound worker (retried with backoff, failed after the last attempt), replies threaded into
their conversation."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
import pytest

from porch import config, ids
from porch.app import Porch
from porch.domain import companies, teammates
from porch.store import migrate
from porch.store.db import connect
from tests.conftest import Api, Company, Server, _serve
from tests.pg import PgServer, free_port


class Receiver:
    """A webhook receiver on loopback: answers the scripted statuses (then 200), records bodies."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.statuses = list(statuses or [])
        self.bodies: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                with outer.lock:
                    outer.bodies.append(orjson.loads(raw))
                    status = outer.statuses.pop(0) if outer.statuses else 200
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def count(self) -> int:
        with self.lock:
            return len(self.bodies)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def _wait(cond: Callable[[], bool], seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while not cond():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _hooked_channel(api: Api, team_id: str, url: str | None) -> tuple[str, str]:
    """A custom channel (with this webhook_url) in a new inbox: (channel id, inbox id)."""
    inbox = api.ok("POST", f"/teams/{team_id}/inboxes", 201, json={"name": "Warehouse"})
    body: dict[str, Any] = {"type": "custom"}
    if url is not None:
        body["settings"] = {"webhook_url": url}
    api.ok("POST", f"/inboxes/{inbox['id']}/channels", 204, json=body)
    channel = api.ok("GET", f"/inboxes/{inbox['id']}/channels")["_results"][0]["id"]
    return str(channel), str(inbox["id"])


def _send(api: Api, path: str, **body: Any) -> dict[str, Any]:
    answer = api.ok("POST", path, 202, json=body)
    assert answer["status"] == "accepted"
    msg: dict[str, Any] = api.message(answer["message_uid"])
    return msg


def _conversation_of(msg: dict[str, Any]) -> str:
    return str(msg["_links"]["related"]["conversation"].rsplit("/", 1)[1])


def test_a_sent_message_reaches_the_webhook_once(
    dunder_mifflin: Company, receiver: Receiver
) -> None:
    api = dunder_mifflin.api
    channel, inbox = _hooked_channel(api, dunder_mifflin.team_id, receiver.url)
    tag = api.ok("POST", "/tags", 201, json={"name": "Shipping"})
    msg = _send(
        api,
        f"/channels/{channel}/messages",
        to=["darryl@warehouse.example"],
        body="The forklift is fixed",
        subject="Forklift",
        options={"tag_ids": [tag["id"]]},
    )
    assert msg["is_inbound"] is False and msg["body"] == "The forklift is fixed"
    # Without author_id the API bot is the author.
    assert msg["author"]["username"] == teammates.API_BOT_USERNAME
    assert [(r["role"], r["handle"]) for r in msg["recipients"]][1:] == [
        ("to", "darryl@warehouse.example")
    ]
    assert _wait(lambda: receiver.count() >= 1)
    [got] = receiver.bodies
    assert got["type"] == "message"
    assert got["payload"]["message_uid"] == msg["message_uid"]
    assert got["payload"]["body"] == "The forklift is fixed"
    conv = _conversation_of(msg)
    shown = api.ok("GET", f"/conversations/{conv}")
    # Sending archives by default and the options' tags are added.
    assert shown["status"] == "archived"
    assert [t["id"] for t in shown["tags"]] == [tag["id"]]
    kinds = [e["type"] for e in api.all_pages(f"/conversations/{conv}/events")]
    assert {"outbound", "archive", "tag"} <= set(kinds)
    inbox_convs = api.all_pages(f"/inboxes/{inbox}/conversations")
    assert [c["id"] for c in inbox_convs] == [conv]
    # Delivered once: later polls do not send it again.
    time.sleep(1.5)
    assert receiver.count() == 1


def test_a_reply_lands_in_the_same_conversation(
    dunder_mifflin: Company, receiver: Receiver
) -> None:
    api = dunder_mifflin.api
    channel, _ = _hooked_channel(api, dunder_mifflin.team_id, receiver.url)
    first = _send(
        api,
        f"/channels/{channel}/messages",
        to=["darryl@warehouse.example"],
        body="First",
        options={"archive": False},
    )
    conv = _conversation_of(first)
    assert api.ok("GET", f"/conversations/{conv}")["status"] != "archived"
    # No channel_id: the reply leaves by the channel of the latest message.
    reply = _send(
        api, f"/conversations/{conv}/messages", cc=["roy@warehouse.example"], body="Second"
    )
    assert _conversation_of(reply) == conv
    listed = api.all_pages(f"/conversations/{conv}/messages")
    assert sorted(m["body"] for m in listed) == ["First", "Second"]
    kinds = [e["type"] for e in api.all_pages(f"/conversations/{conv}/events")]
    assert "out_reply" in kinds
    assert api.ok("GET", f"/conversations/{conv}")["status"] == "archived"
    assert _wait(lambda: receiver.count() >= 2)
    assert sorted(b["payload"]["body"] for b in receiver.bodies) == ["First", "Second"]


def test_bad_sends_change_nothing(
    dunder_mifflin: Company, vance_refrigeration: Company, receiver: Receiver
) -> None:
    api = dunder_mifflin.api
    channel, inbox = _hooked_channel(api, dunder_mifflin.team_id, receiver.url)
    theirs, _ = _hooked_channel(vance_refrigeration.api, vance_refrigeration.team_id, None)
    path = f"/channels/{channel}/messages"
    ok = {"to": ["darryl@warehouse.example"], "body": "Hi"}
    assert api.post(path, json={"body": "Hi", "to": [], "cc": []}).status_code == 400
    assert api.post(path, json={**ok, "to": "darryl@warehouse.example"}).status_code == 400
    assert api.post(path, json={**ok, "body": 5}).status_code == 400
    assert api.post(path, json={**ok, "to": ["  "]}).status_code == 400
    assert api.post(path, json={**ok, "options": {"archive": "yes"}}).status_code == 400
    assert api.post(path, json={**ok, "options": {"tag_ids": ["tag_zzz"]}}).status_code == 404
    assert api.post(path, json={**ok, "author_id": "tea_zzz"}).status_code == 404
    assert api.post(path, json={**ok, "signature_id": "sig_abc"}).status_code == 403
    # A form is the same body: its fields are checked as JSON's are.
    form = {"body": (None, "Hi"), "to[]": (None, "a@b.c"), "options[archive]": (None, "yes")}
    assert api.post(path, files=form).status_code == 400
    assert api.post(path, files={"to[]": (None, "a@b.c")}).status_code == 400
    assert api.post("/channels/cha_zzzz/messages", json=ok).status_code == 404
    assert api.post(f"/channels/{theirs}/messages", json=ok).status_code == 404
    assert api.post("/conversations/cnv_zzzz/messages", json=ok).status_code == 404
    assert api.all_pages(f"/inboxes/{inbox}/conversations") == []
    # A conversation without any channel message has nothing to reply on.
    conv = api.ok(
        "POST",
        "/conversations",
        201,
        json={"type": "task", "subject": "Party planning", "inbox_id": inbox},
    )
    before = api.all_pages(f"/conversations/{conv['id']}/messages")
    assert api.post(f"/conversations/{conv['id']}/messages", json=ok).status_code == 400
    assert api.all_pages(f"/conversations/{conv['id']}/messages") == before
    time.sleep(1.2)
    assert receiver.count() == 0


@dataclass
class Lonely:
    """A database no other server watches, its one company, and how to start Porch on it."""

    url: str
    token: str
    team_id: str
    tmp_path: Path

    def start(self, **outbox: Any) -> tuple[Api, Callable[[], None]]:
        """A Porch on this database with these outbox settings; an admin client and a stop."""
        settings = config.Settings(data_dir=self.tmp_path, database_url=self.url, **outbox)
        port = free_port()
        srv, thread = _serve(Porch(settings), port)
        api = Api(f"http://127.0.0.1:{port}", self.token)

        def stop() -> None:
            api.close()
            srv.should_exit = True
            thread.join(timeout=10)
            assert not thread.is_alive()

        return api, stop


@pytest.fixture
def lonely(server: Server, request: pytest.FixtureRequest, tmp_path: Path) -> Lonely:
    if server.backend == "postgresql":
        pg: PgServer = request.getfixturevalue("pg_server")
        url = pg.create_database("porch_" + uuid.uuid4().hex[:12])
    else:
        url = f"sqlite:///{tmp_path / 'porch.db'}"
    migrate.upgrade(url)

    async def setup() -> companies.NewCompany:
        db = await connect(url, pool_size=1)
        try:
            return await companies.do_create_company(
                db, name="Vance", admin_email="bob@vance.example", rate_limit_per_minute=100_000
            )
        finally:
            await db.close()

    new = asyncio.run(setup())
    return Lonely(url, new.token, ids.encode(ids.TEAM, new.team_id), tmp_path)


# Retries after 0.2 s, 0.4 s ... and gives up after 3 attempts.
QUICK = {"outbox_backoff_seconds": 0.2, "outbox_max_attempts": 3, "outbox_poll_seconds": 0.05}


@pytest.fixture
def quick(lonely: Lonely) -> Iterator[Api]:
    """An admin client of a Porch of its own whose outbox retries quickly."""
    api, stop = lonely.start(**QUICK)
    api.team_id = lonely.team_id  # type: ignore[attr-defined]
    yield api
    stop()


def test_a_failing_webhook_is_retried_until_it_answers(quick: Api) -> None:
    receiver = Receiver([500, 500])
    try:
        channel, _ = _hooked_channel(quick, quick.team_id, receiver.url)  # type: ignore[attr-defined]
        msg = _send(quick, f"/channels/{channel}/messages", to=["bob@x.example"], body="Hi")
        assert _wait(lambda: receiver.count() >= 3)
        assert [b["payload"]["message_uid"] for b in receiver.bodies] == [msg["message_uid"]] * 3
        time.sleep(1.0)
        assert receiver.count() == 3
        conv = _conversation_of(msg)
        kinds = [e["type"] for e in quick.all_pages(f"/conversations/{conv}/events")]
        assert "sending_error" not in kinds
    finally:
        receiver.close()


def test_a_webhook_that_never_answers_fails_the_send(quick: Api) -> None:
    receiver = Receiver([500] * 10)
    try:
        channel, _ = _hooked_channel(quick, quick.team_id, receiver.url)  # type: ignore[attr-defined]
        msg = _send(quick, f"/channels/{channel}/messages", to=["bob@x.example"], body="Hi")
        conv = _conversation_of(msg)

        def failed() -> bool:
            events = quick.all_pages(f"/conversations/{conv}/events")
            return any(e["type"] == "sending_error" for e in events)

        assert _wait(failed)
        # Three attempts, then no more.
        time.sleep(1.0)
        assert receiver.count() == 3
    finally:
        receiver.close()


def test_a_message_sent_before_a_restart_is_delivered_after_it(
    lonely: Lonely, receiver: Receiver
) -> None:
    # The first server looks at its outbox only at startup (then once a minute): it stops
    # before it would deliver.
    first, stop = lonely.start(outbox_poll_seconds=60.0)
    try:
        channel, _ = _hooked_channel(first, lonely.team_id, receiver.url)
        msg = _send(first, f"/channels/{channel}/messages", to=["bob@x.example"], body="Later")
    finally:
        stop()
    assert receiver.count() == 0
    second, stop = lonely.start(**QUICK)
    try:
        assert _wait(lambda: receiver.count() >= 1)
        assert receiver.bodies[0]["payload"]["message_uid"] == msg["message_uid"]
        time.sleep(0.5)
        assert receiver.count() == 1
    finally:
        stop()


def test_a_sent_file_is_listed_in_the_webhook_payload(
    dunder_mifflin: Company, receiver: Receiver
) -> None:
    api = dunder_mifflin.api
    channel, _ = _hooked_channel(api, dunder_mifflin.team_id, receiver.url)
    answer = api.ok(
        "POST",
        f"/channels/{channel}/messages",
        202,
        data={"to[]": "darryl@warehouse.example", "body": "Invoice attached"},
        files=[("attachments[]", ("invoice.pdf", b"%PDF-1.4 invoice", "application/pdf"))],
    )
    msg = api.message(answer["message_uid"])
    assert _wait(lambda: receiver.count() >= 1)
    [got] = receiver.bodies
    [file] = got["payload"]["attachments"]
    [shown] = msg["attachments"]
    # The worker addresses the server by its configured public URL (none here: localhost).
    assert {**file, "url": None} == {**shown, "url": None}
    assert file["filename"] == "invoice.pdf" and file["size"] == len(b"%PDF-1.4 invoice")
    # The receiver fetches the file at that path, with a token.
    path = "/download/" + file["id"]
    assert file["url"].endswith(path) and api.get(path).content == b"%PDF-1.4 invoice"
