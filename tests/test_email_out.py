"""Sending email: messages sent through the API on an email channel reach a real SMTP server on
loopback (aiosmtpd, standing in for the relay) with the headers and MIME structure mail clients
thread and show; refusals fail the message at once, a busy or absent relay is tried again, and
two processes send a message once."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage, MIMEPart
from email.policy import default
from email.utils import getaddresses
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from porch import config, ids
from porch.app import Porch
from porch.channels.email import addresses, compose, relay
from porch.store import email_messages as email_store
from porch.store import messages as messages_store
from porch.store import migrate
from porch.store import secrets as secrets_store
from porch.store.db import Database, Query
from porch.store.tables import channels, messages, outbox
from tests.conftest import BACKENDS, Api, Company, Server, _serve, make_company
from tests.pg import PgServer, free_port

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
AWKWARD = bytes(range(256)) + b"\x00\r\n.\r\n\x00\xff"
# Retries after 0.2 s, 0.4 s, 0.8 s; fails after the fourth attempt.
QUICK: dict[str, Any] = {
    "outbox_backoff_seconds": 0.2,
    "outbox_max_attempts": 4,
    "outbox_poll_seconds": 0.05,
}


# --- A relay on loopback --------------------------------------------------------------------


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes

    @property
    def email(self) -> EmailMessage:
        parsed = message_from_bytes(self.content, policy=default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Sink:
    """An SMTP server that keeps what it is given. ``answers`` scripts the replies to RCPT TO
    per address (each used once, then 250); ``rcpts`` is every RCPT TO it was asked."""

    port: int
    answers: dict[str, list[str]] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    rcpts: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    controller: Controller | None = None

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        with self.lock:
            self.rcpts.append(address)
            scripted = self.answers.get(address.lower())
            if scripted:
                return scripted.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content))
            )
        return "250 2.0.0 Queued"

    def start(self) -> Sink:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def with_id(self, rfc_id: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.email["Message-ID"] == f"<{rfc_id}>"]

    def asked(self, address: str) -> int:
        with self.lock:
            return sum(1 for a in self.rcpts if a.lower() == address.lower())


def _wait(cond: Callable[[], Any], seconds: float = 15.0) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        got = cond()
        if got or time.monotonic() > deadline:
            return got
        time.sleep(0.05)


# --- Porch servers that send through it -------------------------------------------------------


@dataclass
class Place:
    """A database of its own, and how to start Porch on it."""

    backend: str
    url: str
    data_dir: Path

    def start(self, **settings: Any) -> tuple[Server, Callable[[], None]]:
        cfg = config.Settings(data_dir=self.data_dir, database_url=self.url, **settings)
        port = free_port()
        srv, thread = _serve(Porch(cfg), port)

        def stop() -> None:
            srv.should_exit = True
            thread.join(timeout=10)
            assert not thread.is_alive()

        return Server(self.backend, f"http://127.0.0.1:{port}", cfg), stop


def _place(request: pytest.FixtureRequest, backend: str, data_dir: Path) -> Place:
    if backend == "postgresql":
        pg: PgServer = request.getfixturevalue("pg_server")
        url = pg.create_database("porch_" + uuid.uuid4().hex[:12])
    else:
        url = f"sqlite:///{data_dir / 'porch.db'}"
    migrate.upgrade(url)
    return Place(backend, url, data_dir)


@dataclass
class Mail:
    """A Porch whose email leaves through ``sink``."""

    server: Server
    sink: Sink


@pytest.fixture(scope="module", params=BACKENDS)
def mail(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Mail]:
    place = _place(request, request.param, tmp_path_factory.mktemp(f"mail-{request.param}"))
    sink = Sink(free_port()).start()
    server, stop = place.start(smtp_relay_url=f"smtp://127.0.0.1:{sink.port}", **QUICK)
    yield Mail(server, sink)
    stop()
    sink.stop()


@pytest.fixture
def scranton(mail: Mail) -> Iterator[Company]:
    company = make_company(mail.server, "Dunder Mifflin Scranton", "michael@dundermifflin.com")
    yield company
    company.close()


def _email_channel(api: Api, team_id: str, name: str = "Scranton Sales") -> tuple[str, str]:
    """An email channel with a new address in a new inbox: (channel id, its address)."""
    address = f"Sales-{uuid.uuid4().hex[:8]}@Scranton.example"
    inbox = api.ok("POST", f"/teams/{team_id}/inboxes", 201, json={"name": address})
    api.ok(
        "POST",
        f"/inboxes/{inbox['id']}/channels",
        204,
        json={"type": "smtp", "send_as": address, "name": name},
    )
    channel = api.ok("GET", f"/channels/alt:address:{address}")
    return str(channel["id"]), address


def _send(api: Api, path: str, **kw: Any) -> dict[str, Any]:
    answer = api.ok("POST", path, 202, **kw)
    msg: dict[str, Any] = api.message(answer["message_uid"])
    return msg


def _conversation_of(msg: dict[str, Any]) -> str:
    return str(msg["_links"]["related"]["conversation"].rsplit("/", 1)[1])


def _rfc_id(msg: dict[str, Any], address: str) -> str:
    return addresses.message_id_for(msg["message_uid"], addresses.domain_of(address))


def _stored(server: Server, company: Company, uid: str) -> messages_store.Message:
    async def read(db: Database) -> messages_store.Message | None:
        return await messages_store.by_uid(db, company_id=company.key, uid=uid)

    found = server.run(read)
    assert found is not None
    return found  # type: ignore[no-any-return]


def _status_becomes(server: Server, company: Company, uid: str, status: str) -> bool:
    return bool(_wait(lambda: _stored(server, company, uid).delivery_status == status, seconds=20))


_OUTBOX = Query(
    sa.select(outbox.c.state, outbox.c.attempts).where(
        outbox.c.message_id == sa.bindparam("message_id")
    )
)


def _outbox(server: Server, key: int) -> tuple[str, int]:
    async def read(db: Database) -> tuple[str, int]:
        row = await db.fetch_one(_OUTBOX, message_id=key)
        assert row is not None
        return str(row["state"]), int(row["attempts"])

    return server.run(read)  # type: ignore[no-any-return]


def _events(api: Api, conversation: str) -> list[str]:
    return [e["type"] for e in api.all_pages(f"/conversations/{conversation}/events")]


def _tree(part: MIMEPart) -> Any:
    """A part's content type, with its parts' trees when it is multipart."""
    if part.is_multipart():
        return (part.get_content_type(), [_tree(p) for p in part.iter_parts()])
    return part.get_content_type()


# --- Sending --------------------------------------------------------------------------------


def test_a_message_and_its_replies_arrive_with_correct_headers(
    mail: Mail, scranton: Company
) -> None:
    api, sink = scranton.api, mail.sink
    channel, address = _email_channel(api, scranton.team_id)
    body = '<p>Our prices are <b>low</b>.</p><p><img src="cid:logo.png" alt="logo"></p>'
    first = _send(
        api,
        f"/channels/{channel}/messages",
        data={
            "to[]": ["jim@athlead.example", "Karen@Utica.example"],
            "cc[]": "dwight@schrute-farms.example",
            "bcc[]": "toby@dundermifflin.example",
            "subject": "Paper prices — été",
            "body": body,
            "sender_name": "Michael Scott",
            "options[archive]": "false",
        },
        files=[
            ("attachments[]", ("logo.png", PNG, "image/png")),
            ("attachments[]", ("prices.bin", AWKWARD, "application/octet-stream")),
        ],
    )
    rfc_id = _rfc_id(first, address)
    [got] = _wait(lambda: sink.with_id(rfc_id))
    assert got.mail_from == address
    # Blind copies are in the envelope, and nowhere in the message.
    assert sorted(got.rcpt_tos) == sorted(
        [
            "jim@athlead.example",
            "karen@utica.example",
            "dwight@schrute-farms.example",
            "toby@dundermifflin.example",
        ]
    )
    assert b"toby@" not in got.content
    eml = got.email
    assert eml["Bcc"] is None
    assert getaddresses([str(eml["From"])]) == [("Michael Scott", address)]
    assert [a for _, a in getaddresses([str(eml["To"])])] == [
        "jim@athlead.example",
        "karen@utica.example",
    ]
    assert [a for _, a in getaddresses([str(eml["Cc"])])] == ["dwight@schrute-farms.example"]
    assert eml["Subject"] == "Paper prices — été"
    assert eml["Message-ID"] == f"<porch.{first['message_uid']}@scranton.example>"
    assert eml["In-Reply-To"] is None and eml["References"] is None
    assert eml["X-Mailer"] == "Porch" and eml["MIME-Version"] == "1.0"
    assert eml["Auto-Submitted"] is None and eml["Reply-To"] is None
    assert eml["Date"].datetime == datetime.fromtimestamp(int(first["created_at"]), UTC)
    # Text and HTML; the image the HTML names inline beside it; the other file attached.
    assert _tree(eml) == (
        "multipart/mixed",
        [
            (
                "multipart/alternative",
                ["text/plain", ("multipart/related", ["text/html", "image/png"])],
            ),
            "application/octet-stream",
        ],
    )
    text = eml.get_body(preferencelist=("plain",))
    html = eml.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    assert text.get_content().strip() == first["text"] == "Our prices are low."
    assert html.get_content().strip() == body
    [image] = [p for p in eml.walk() if p.get_content_type() == "image/png"]
    assert image["Content-ID"] == "<logo.png>"
    assert image.get_payload(decode=True) == PNG
    [attached] = list(eml.iter_attachments())
    assert attached.get_filename() == "prices.bin"
    assert attached.get_payload(decode=True) == AWKWARD

    assert _status_becomes(mail.server, scranton, first["message_uid"], "sent")
    # The EML of a sent message is exactly what went to the relay.
    resp = api.http.get(f"/messages/{first['id']}", headers={"accept": "message/rfc822"})
    assert resp.status_code == 200 and resp.content == got.content

    # A reply (no sender_name: the author's name) names the first message.
    conv = _conversation_of(first)
    reply = _send(
        api,
        f"/conversations/{conv}/messages",
        json={
            "to": ["jim@athlead.example"],
            "body": "Jim,\nplease call.",
            "author_id": scranton.admin_id,
        },
    )
    reply_id = _rfc_id(reply, address)
    [answer] = _wait(lambda: sink.with_id(reply_id))
    assert answer.rcpt_tos == ["jim@athlead.example"]
    eml = answer.email
    assert getaddresses([str(eml["From"])]) == [(f"Admin {scranton.name}", address)]
    assert eml["In-Reply-To"] == f"<{rfc_id}>"
    assert eml["References"] == f"<{rfc_id}>"
    assert eml["Subject"] == "Paper prices — été"
    assert _tree(eml) == ("multipart/alternative", ["text/plain", "text/html"])
    html = eml.get_body(preferencelist=("html",))
    assert html is not None
    assert html.get_content().replace("\r\n", "\n").strip() == "Jim,<br>\nplease call."

    # The next one (the API bot writes: the channel's name) names both.
    last = _send(
        api, f"/conversations/{conv}/messages", json={"to": ["jim@athlead.example"], "body": "?"}
    )
    [third] = _wait(lambda: sink.with_id(_rfc_id(last, address)))
    eml = third.email
    assert getaddresses([str(eml["From"])]) == [("Scranton Sales", address)]
    assert eml["In-Reply-To"] == f"<{reply_id}>"
    assert str(eml["References"]).split() == [f"<{rfc_id}>", f"<{reply_id}>"]
    assert _status_becomes(mail.server, scranton, last["message_uid"], "sent")
    assert "sending_error" not in _events(api, conv)
    # Each went once.
    time.sleep(0.5)
    assert len(sink.with_id(rfc_id)) == len(sink.with_id(reply_id)) == 1


def test_email_recipients_must_be_addresses(mail: Mail, scranton: Company) -> None:
    api = scranton.api
    channel, _ = _email_channel(api, scranton.team_id)
    path = f"/channels/{channel}/messages"
    assert api.post(path, json={"to": ["not an address"], "body": "Hi"}).status_code == 400
    assert api.post(path, json={"to": ["a@b.example"], "bcc": ["@"], "body": "Hi"}).status_code == (
        400
    )


def test_a_refused_message_fails_at_once(mail: Mail, scranton: Company) -> None:
    api, sink = scranton.api, mail.sink
    channel, address = _email_channel(api, scranton.team_id)
    nobody = f"nobody-{uuid.uuid4().hex[:8]}@vance.example"
    sink.answers[nobody] = ["550 5.1.1 No such user"] * 10
    msg = _send(api, f"/channels/{channel}/messages", json={"to": [nobody], "body": "Hello?"})
    conv = _conversation_of(msg)
    assert _wait(lambda: "sending_error" in _events(api, conv))
    stored = _stored(mail.server, scranton, msg["message_uid"])
    assert stored.delivery_status == "failed"
    assert api.ok("GET", f"/messages/{msg['id']}")["error_type"] == "delivery_failure"
    # One attempt: a 5xx will not change its mind.
    time.sleep(1.0)
    assert sink.asked(nobody) == 1
    assert _outbox(mail.server, stored.id) == ("failed", 1)
    assert sink.with_id(_rfc_id(msg, address)) == []


def test_a_busy_relay_is_tried_again(mail: Mail, scranton: Company) -> None:
    api, sink = scranton.api, mail.sink
    channel, address = _email_channel(api, scranton.team_id)
    busy = f"busy-{uuid.uuid4().hex[:8]}@vance.example"
    sink.answers[busy] = ["451 4.3.0 Try again later"] * 2
    msg = _send(api, f"/channels/{channel}/messages", json={"to": [busy], "body": "Hello?"})
    [got] = _wait(lambda: sink.with_id(_rfc_id(msg, address)))
    assert got.rcpt_tos == [busy]
    assert sink.asked(busy) == 3
    assert _status_becomes(mail.server, scranton, msg["message_uid"], "sent")
    assert "sending_error" not in _events(api, _conversation_of(msg))


# --- Signatures and Reply-To ----------------------------------------------------------------


def test_signatures_end_the_sent_email(mail: Mail, scranton: Company) -> None:
    api, sink = scranton.api, mail.sink
    channel, address = _email_channel(api, scranton.team_id)
    team = scranton.team_id
    api.ok(
        "POST",
        f"/teams/{team}/signatures",
        201,
        json={
            "name": "Sales",
            "body": "<p>Dunder Mifflin, <i>limitless paper</i></p>",
            "sender_info": "Michael from Dunder Mifflin",
            "is_default": True,
        },
    )
    other, _ = _email_channel(api, scranton.team_id, name="Stamford")
    narrow = api.ok(
        "POST",
        f"/teams/{team}/signatures",
        201,
        json={"name": "Stamford", "body": "Stamford branch", "channel_ids": [other]},
    )
    path = f"/channels/{channel}/messages"
    to = {"to": ["jan@corporate.example"]}
    # The default: only with an author, and sender_info names the sender.
    msg = _send(
        api,
        path,
        json={
            **to,
            "body": "Numbers\nattached",
            "author_id": scranton.admin_id,
            "should_add_default_signature": True,
        },
    )
    assert msg["body"] == (
        'Numbers<br>\nattached<br>\n<div class="signature">'
        "<p>Dunder Mifflin, <i>limitless paper</i></p></div>"
    )
    [got] = _wait(lambda: sink.with_id(_rfc_id(msg, address)))
    eml = got.email
    assert getaddresses([str(eml["From"])]) == [("Michael from Dunder Mifflin", address)]
    html = eml.get_body(preferencelist=("html",))
    text = eml.get_body(preferencelist=("plain",))
    assert html is not None and "limitless paper</i>" in html.get_content()
    assert text is not None and "Dunder Mifflin, limitless paper" in text.get_content()
    plain = _send(api, path, json={**to, "body": "No author", "should_add_default_signature": True})
    assert plain["body"] == "No author"
    # A signature for other channels only is refused here, and used there.
    assert api.post(path, json={**to, "body": "x", "signature_id": narrow["id"]}).status_code == (
        400
    )
    there = _send(
        api,
        f"/channels/{other}/messages",
        json={**to, "body": "Hi", "signature_id": narrow["id"], "sender_name": "Karen"},
    )
    assert there["body"] == 'Hi<br>\n<div class="signature">Stamford branch</div>'


_SET_SETTINGS = Query(
    sa.update(channels)
    .where(channels.c.id == sa.bindparam("key"))
    .values(settings=sa.bindparam("settings"))
)


def test_a_reply_address_names_the_conversation(mail: Mail, scranton: Company) -> None:
    api, sink = scranton.api, mail.sink
    channel, address = _email_channel(api, scranton.team_id)
    key = ids.decode(ids.CHANNEL, channel)
    assert key is not None

    async def ask_for_reply_to(db: Database) -> None:
        async with db.transaction() as tx:
            await tx.execute(
                _SET_SETTINGS, key=key, settings='{"undo_send_time":0,"reply_to_token":true}'
            )

    mail.server.run(ask_for_reply_to)
    msg = _send(
        api,
        f"/channels/{channel}/messages",
        json={"to": ["jim@athlead.example"], "body": "Reply here", "sender_name": "Pam"},
    )
    [got] = _wait(lambda: sink.with_id(_rfc_id(msg, address)))
    [(name, reply_to)] = getaddresses([str(got.email["Reply-To"])])
    assert name == "Pam"
    base, tag = addresses.split_plus(reply_to)
    assert base == address.lower() and tag is not None

    async def secret(db: Database) -> bytes | None:
        return await secrets_store.get(db, company_id=scranton.key, purpose="reply_token")

    found = mail.server.run(secret)
    assert found is not None
    named = addresses.conversation_of_token(found, scranton.key, tag)
    assert named == ids.decode(ids.CONVERSATION, _conversation_of(msg))


# --- Relays that are not there, and several processes ---------------------------------------


@pytest.fixture(params=BACKENDS)
def place(request: pytest.FixtureRequest, tmp_path: Path) -> Place:
    return _place(request, request.param, tmp_path)


def test_a_relay_that_is_down_gets_the_message_once_it_is_up(place: Place) -> None:
    sink = Sink(free_port())
    settings = {
        **QUICK,
        "outbox_max_attempts": 50,
        "smtp_relay_url": f"smtp://127.0.0.1:{sink.port}",
    }
    server, stop = place.start(**settings)
    company = make_company(server, "Vance Refrigeration", "bob@vance.example")
    try:
        channel, address = _email_channel(company.api, company.team_id)
        msg = _send(
            company.api,
            f"/channels/{channel}/messages",
            json={"to": ["phyllis@vance.example"], "body": "Cold?"},
        )
        key = ids.decode(ids.MESSAGE, msg["id"])
        assert key is not None
        # Refused connections, tried again with backoff.
        assert _wait(lambda: _outbox(server, key)[1] >= 3)
        assert _outbox(server, key)[0] == "pending"
        sink.start()
        [got] = _wait(lambda: sink.with_id(_rfc_id(msg, address)))
        assert got.rcpt_tos == ["phyllis@vance.example"]
        assert _status_becomes(server, company, msg["message_uid"], "sent")
        assert "sending_error" not in _events(company.api, _conversation_of(msg))
    finally:
        company.close()
        stop()
        sink.stop()


def test_two_processes_send_each_message_once(place: Place) -> None:
    sink = Sink(free_port()).start()
    relay_url = f"smtp://127.0.0.1:{sink.port}"
    # The first process starts without a relay: its messages wait for one.
    first, stop_first = place.start(**QUICK)
    company = make_company(first, "Prince Paper", "prince@paper.example")
    stops = [stop_first]
    try:
        channel, address = _email_channel(company.api, company.team_id)
        sent = [
            _send(
                company.api,
                f"/channels/{channel}/messages",
                json={"to": [f"customer{i}@paper.example"], "body": f"Offer {i}"},
            )
            for i in range(8)
        ]
        time.sleep(0.5)
        assert sink.received == []
        for _ in range(2):
            _, stop = place.start(**QUICK, smtp_relay_url=relay_url)
            stops.append(stop)
        for msg in sent:
            assert _status_becomes(first, company, msg["message_uid"], "sent")
        time.sleep(1.0)
        assert sorted(r.email["Message-ID"] for r in sink.received) == sorted(
            f"<{_rfc_id(m, address)}>" for m in sent
        )
    finally:
        company.close()
        for stop in stops:
            stop()
        sink.stop()


_SET_METADATA = Query(
    sa.update(messages)
    .where(messages.c.uid == sa.bindparam("uid"))
    .values(metadata=sa.bindparam("metadata"))
)


def test_an_automatic_message_never_answers_a_robot(place: Place) -> None:
    sink = Sink(free_port()).start()
    # Written while no relay is configured, so that rules' marks can be added before it leaves.
    first, stop_first = place.start(**QUICK)
    company = make_company(first, "Sabre", "jo@sabre.example")
    stops = [stop_first]
    try:
        api = company.api
        channel, address = _email_channel(api, company.team_id)
        robot, person = "ooo@printers.example", "gabe@sabre.example"
        to_robot = _send(api, f"/channels/{channel}/messages", json={"to": [robot], "body": "A"})
        conv = _conversation_of(to_robot)
        inbox = api.ok("GET", f"/channels/{channel}")["_links"]["related"]["inbox"].rsplit("/")[-1]
        answer = api.ok(
            "POST",
            f"/inboxes/{inbox}/imported_messages",
            202,
            json={
                "sender": {"handle": robot},
                "to": [address],
                "body": "I am out of the office",
                "external_id": uuid.uuid4().hex,
                "created_at": 1_700_000_000,
                "conversation_id": conv,
                "metadata": {"is_inbound": True},
            },
        )
        to_person = _send(api, f"/channels/{channel}/messages", json={"to": [person], "body": "B"})

        async def mark(db: Database) -> None:
            async with db.transaction() as tx:
                for uid, meta in (
                    (to_robot["message_uid"], '{"auto": true}'),
                    (to_person["message_uid"], '{"auto": true}'),
                    (answer["message_uid"], '{"auto_submitted": true}'),
                ):
                    await tx.execute(_SET_METADATA, uid=uid, metadata=meta)

        first.run(mark)
        _, stop = place.start(**QUICK, smtp_relay_url=f"smtp://127.0.0.1:{sink.port}")
        stops.append(stop)
        [got] = _wait(lambda: sink.with_id(_rfc_id(to_person, address)))
        assert got.email["Auto-Submitted"] == "auto-replied"
        assert got.email["Precedence"] == "auto_reply"
        assert _wait(lambda: "sending_error" in _events(api, conv))
        assert _stored(first, company, to_robot["message_uid"]).delivery_status == "failed"
        assert sink.asked(robot) == 0
    finally:
        company.close()
        for stop in stops:
            stop()
        sink.stop()


# --- The pure parts -------------------------------------------------------------------------


def test_relay_urls() -> None:
    assert relay.parse_url("smtp://mail.example") == relay.Relay("mail.example", 25)
    plain = relay.parse_url("smtp://mail.example:2525")
    assert (plain.port, plain.start_tls, plain.use_tls) == (2525, False, False)
    upgraded = relay.parse_url("smtp://me%40x.example:p%2Fss@mail.example?starttls=true")
    assert (upgraded.port, upgraded.start_tls, upgraded.use_tls) == (587, True, False)
    assert (upgraded.username, upgraded.password) == ("me@x.example", "p/ss")
    assert "p/ss" not in repr(upgraded)
    tls = relay.parse_url("smtps://mail.example?verify=false")
    assert (tls.port, tls.use_tls, tls.start_tls, tls.verify) == (465, True, False, False)
    for bad in ("http://mail.example", "smtp://", "smtp://h?tls=1", "smtp://h:99999"):
        with pytest.raises(ValueError):
            relay.parse_url(bad)


def test_relay_answers_are_classified() -> None:
    import aiosmtplib

    refused = aiosmtplib.SMTPRecipientsRefused
    one = aiosmtplib.SMTPRecipientRefused
    assert relay.classify(refused([one(550, "no", "a@x"), one(553, "no", "b@x")])).permanent
    assert not relay.classify(refused([one(550, "no", "a@x"), one(451, "later", "b@x")])).permanent
    assert relay.classify(aiosmtplib.SMTPDataError(554, "spam")).permanent
    assert not relay.classify(aiosmtplib.SMTPDataError(452, "full")).permanent
    assert not relay.classify(aiosmtplib.SMTPAuthenticationError(535, "bad login")).permanent
    assert not relay.classify(ConnectionRefusedError()).permanent
    assert not relay.classify(TimeoutError()).permanent


def test_threading_headers_keep_the_first_and_the_latest() -> None:
    assert compose.thread_headers([]) == (None, ())
    ids_ = [f"m{i}@x" for i in range(30)]
    in_reply_to, refs = compose.thread_headers(ids_)
    assert in_reply_to == "m29@x"
    assert refs == ("m0@x", *ids_[11:])
    assert len(refs) == compose.MAX_REFERENCES


def test_automatic_mail_never_answers_a_robot() -> None:
    assert compose.is_automatic({"auto": True}) and not compose.is_automatic({})
    assert compose.was_auto_submitted({"auto_submitted": True})
    assert compose.was_auto_submitted({"headers": {"Auto-Submitted": "auto-replied"}})
    assert compose.was_auto_submitted({"headers": {"Precedence": "bulk"}})
    assert compose.was_auto_submitted({"is_list": True})
    assert not compose.was_auto_submitted({"headers": {"Auto-Submitted": "no"}})
    inbound = [("jim@x.example", True), ("pam@x.example", True), ("Jim@x.example", False)]
    # Jim wrote himself since his out-of-office; Pam's robot wrote last.
    blocked = compose.loop_recipients(["JIM@x.example", "pam@X.example", "new@x.example"], inbound)
    assert blocked == {"pam@x.example"}
    mail = compose.Mail(
        message_id="porch.1@x.example",
        sender=compose.Mailbox("support@x.example", "Support"),
        to=[compose.Mailbox("jim@x.example")],
        cc=[],
        bcc=[],
        subject="Re: out of office",
        text="We got your message.",
        body="We got your message.",
        date=datetime(2026, 1, 1, tzinfo=UTC),
        automatic=True,
    )
    eml = message_from_bytes(compose.compose(mail), policy=default)
    assert eml["Auto-Submitted"] == "auto-replied"
    assert eml["Precedence"] == "auto_reply"
    # Composing is a function of the message: a retry sends the same bytes.
    assert compose.compose(mail) == compose.compose(mail)


def test_header_injection_and_bad_addresses() -> None:
    base = compose.Mail(
        message_id="porch.2@x.example",
        sender=compose.Mailbox("support@x.example", "Sup\r\nBcc: evil@x.example"),
        to=[compose.Mailbox("jim@x.example")],
        cc=[],
        bcc=[],
        subject="Hi\r\nBcc: evil@x.example",
        text="x",
        body="x",
        date=datetime(2026, 1, 1, tzinfo=UTC),
    )
    raw = compose.compose(base)
    assert b"\r\nBcc:" not in raw
    with pytest.raises(compose.ComposeError):
        compose.compose(replace(base, to=[compose.Mailbox("not an address")]))


def test_the_email_row_is_kept_with_the_delivery(mail: Mail, scranton: Company) -> None:
    api, sink = scranton.api, mail.sink
    channel, address = _email_channel(api, scranton.team_id)
    msg = _send(
        api, f"/channels/{channel}/messages", json={"to": ["jim@athlead.example"], "body": "Hi"}
    )
    [got] = _wait(lambda: sink.with_id(_rfc_id(msg, address)))
    assert _status_becomes(mail.server, scranton, msg["message_uid"], "sent")
    key = ids.decode(ids.MESSAGE, msg["id"])
    assert key is not None

    async def row(db: Database) -> Any:
        return await email_store.get(db, company_id=scranton.key, message_id=key)

    kept = mail.server.run(row)
    assert kept is not None
    assert kept.rfc_id == _rfc_id(msg, address) and kept.raw_size == len(got.content)
