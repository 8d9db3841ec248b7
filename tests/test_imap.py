"""IMAP mailboxes imported into email channels, against a real Dovecot on loopback.

Each test starts its own Dovecot (tests/dovecot.py), puts messages in it with the stdlib's
imaplib, configures a channel through the admin API (or the CLI) and watches what Porch
accepted: the intake rows still waiting, and the messages written (read through the API).
"Once" means: every message appended is a message of the inbox exactly once, and nothing is
left in the intake. The module's servers read mailboxes without IDLE only every minute, so a
message that arrives sooner came by IDLE. The restart test runs ``porch serve`` as a process of
its own and kills it with SIGKILL in the middle of an import.
"""

from __future__ import annotations

import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.utils import formatdate
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import sqlalchemy as sa

from porch import config, ids
from porch.app import Porch
from porch.channels.email.imap import mailbox_name
from porch.cli.main import main as porch_cli
from porch.storage.local import LocalBlobStore
from porch.store import migrate
from porch.store.db import Database, Query
from porch.store.tables import intake, messages
from porch.workers.imap import RESCAN_SECONDS
from tests import dovecot as dovecot_module
from tests.conftest import BACKENDS, Api, Company, Server, _serve, make_company
from tests.dovecot import PASSWORD, USER, Dovecot
from tests.pg import PgServer, free_port

# The module's servers read a mailbox without IDLE this seldom.
POLL_SECONDS = 60.0
ADDRESS = "support@dundermifflin.com"
PORCH = Path(sys.executable).parent / "porch"


# --- Servers ------------------------------------------------------------------------------------


def _porch(
    request: pytest.FixtureRequest, data_dir: Path, backend: str, poll: float
) -> Iterator[Server]:
    if backend == "postgresql":
        pg: PgServer = request.getfixturevalue("pg_server")
        url = pg.create_database("porch_imap_" + uuid.uuid4().hex[:12])
    else:
        url = f"sqlite:///{data_dir / 'porch.db'}"
    settings = config.Settings(
        data_dir=data_dir, database_url=url, auth_cache_seconds=5.0, imap_poll_seconds=poll
    )
    migrate.upgrade(url)
    srv, thread = _serve(Porch(settings), free_port())
    yield Server(backend, f"http://127.0.0.1:{srv.config.port}", settings)
    srv.should_exit = True
    thread.join(timeout=20)


@pytest.fixture(scope="module", params=BACKENDS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """This module's Porch (conftest's ``server``, with a poll interval of a minute)."""
    data_dir = tmp_path_factory.mktemp(f"porch-imap-{request.param}")
    yield from _porch(request, data_dir, request.param, POLL_SECONDS)


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    if not dovecot_module.available():
        if os.environ.get("CI"):
            raise RuntimeError("Dovecot is not installed (apt-get install dovecot-imapd)")
        pytest.skip("Dovecot is not installed (apt-get install dovecot-imapd)")
    server = Dovecot().start()
    yield server
    server.stop()


@dataclass
class Channel:
    """An email channel of a fresh inbox, and the admin API to configure it with."""

    id: str
    inbox_id: str
    api: Api
    server: Server

    @property
    def key(self) -> int:
        key = ids.decode(ids.CHANNEL, self.id)
        assert key is not None
        return key

    def imap(self, dovecot: Dovecot, **settings: Any) -> Any:
        """Configure the import of ``dovecot`` (plain IMAP unless ``settings`` say otherwise)."""
        body = {
            "host": "127.0.0.1",
            "port": dovecot.port,
            "security": "none",
            "username": USER,
            "password": PASSWORD,
            **settings,
        }
        return self.api.ok("PUT", f"/porch/channels/{self.id}/imap", json=body)


def _channel(company: Company, server: Server) -> Channel:
    api = company.api
    inbox = api.ok("POST", "/inboxes", 201, json={"name": "Support"})["id"]
    api.ok("POST", f"/inboxes/{inbox}/channels", 204, json={"type": "smtp", "send_as": ADDRESS})
    [found] = api.ok("GET", f"/inboxes/{inbox}/channels")["_results"]
    return Channel(found["id"], inbox, api, server)


@pytest.fixture
def channel(dunder_mifflin: Company, server: Server) -> Iterator[Channel]:
    ch = _channel(dunder_mifflin, server)
    yield ch
    # The module's server lives on: it must stop knocking at this test's Dovecot.
    ch.api.request("DELETE", f"/porch/channels/{ch.id}/imap")


# --- What was accepted --------------------------------------------------------------------------


def message(subject: str, *, sender: str = "pam@example.com", **headers: str) -> bytes:
    """A small email with a unique Message-ID (unless given)."""
    fields = {
        "From": sender,
        "To": ADDRESS,
        "Subject": subject,
        "Date": formatdate(),
        "Message-ID": f"<{uuid.uuid4().hex}@example.com>",
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=utf-8",
        **{k.replace("_", "-"): v for k, v in headers.items()},
    }
    head = "".join(f"{k}: {v}\r\n" for k, v in fields.items())
    return f"{head}\r\nThis is {subject}.\r\n".encode()


@dataclass(frozen=True)
class Accepted:
    uid: str
    subject: str
    # pending | failed (in the intake) | written (a message)
    state: str
    mailbox: str | None
    is_inbound: bool | None


_INTAKE = Query(
    sa.select(intake.c.uid, intake.c.payload, intake.c.failed_at, intake.c.error).where(
        intake.c.channel_id == sa.bindparam("channel"), intake.c.kind == "email"
    )
)
_WRITTEN = Query(
    sa.select(messages.c.uid, messages.c.subject, messages.c.is_inbound, messages.c.metadata).where(
        messages.c.channel_id == sa.bindparam("channel")
    )
)


def accepted(ch: Channel) -> list[Accepted]:
    """Every message Porch took for the channel: in the intake, or written."""

    async def read(db: Database) -> tuple[list[Any], list[Any]]:
        return (
            await db.fetch_all(_INTAKE, channel=ch.key),
            await db.fetch_all(_WRITTEN, channel=ch.key),
        )

    waiting, written = ch.server.run(read)
    blobs = LocalBlobStore(ch.server.settings.data_dir / "attachments")
    out = []
    for row in waiting:
        payload = orjson.loads(row["payload"])
        raw = blobs.path_of(payload["raw"]).read_bytes()
        subject = str(BytesHeaderParser().parsebytes(raw)["subject"])
        state = "failed" if row["failed_at"] is not None else "pending"
        out.append(Accepted(row["uid"], subject, state, payload.get("mailbox"), None))
    for row in written:
        meta = orjson.loads(row["metadata"] or "{}").get("email", {})
        out.append(
            Accepted(row["uid"], row["subject"], "written", meta.get("mailbox"), row["is_inbound"])
        )
    return out


def wait_for(check: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def written(ch: Channel, subjects: list[str], timeout: float = 30.0) -> list[Accepted]:
    """Wait until each of ``subjects`` is written, then insist each was accepted once (and
    that nothing more comes a moment later)."""

    def done() -> list[Accepted] | None:
        found = accepted(ch)
        have = {a.subject for a in found if a.state == "written"}
        return found if set(subjects) <= have else None

    wait_for(done, f"{subjects} to be written", timeout)
    time.sleep(0.5)
    found = accepted(ch)
    assert Counter(a.subject for a in found) == Counter(subjects), found
    assert all(a.state == "written" for a in found), found
    # And through the API: every message of the inbox, once.
    seen: Counter[str] = Counter()
    for conv in ch.api.all_pages(f"/inboxes/{ch.inbox_id}/conversations"):
        for msg in ch.api.all_pages(f"/conversations/{conv['id']}/messages"):
            seen[msg["subject"]] += 1
    assert seen == Counter(subjects), seen
    return found


def imap_state(ch: Channel) -> dict[str, Any]:
    body = ch.api.ok("GET", f"/porch/channels/{ch.id}/imap")
    return {s["mailbox"]: s for s in body["mailbox_states"]}


# --- Tests --------------------------------------------------------------------------------------


@pytest.mark.parametrize("security", ["none", "starttls", "tls"])
def test_a_mailbox_is_imported_once_over_plain_starttls_and_tls(
    channel: Channel, dovecot: Dovecot, security: str
) -> None:
    subjects = [f"Paper order {n} ({security})" for n in range(3)]
    for s in subjects:
        dovecot.append(message(s))
    port = dovecot.tls_port if security == "tls" else dovecot.port
    shown = channel.imap(dovecot, security=security, port=port, verify_tls=False)
    assert shown["password"] == "********"
    assert shown["mailboxes"] == ["INBOX"]
    found = written(channel, subjects)
    assert {a.mailbox for a in found} == {"INBOX"}
    assert all(a.is_inbound for a in found)
    state = imap_state(channel)["INBOX"]
    assert state["last_uid"] == 3
    assert state["uidvalidity"] == dovecot.uidvalidity()
    # Nothing was marked read or moved: the mailbox is the team's as it was.
    assert dovecot.uids() == [1, 2, 3]
    with dovecot.client() as imap:
        imap.select("INBOX", readonly=True)
        _, flags = imap.uid("FETCH", "1:*", "(FLAGS)")
    assert all(b"\\Seen" not in f for f in flags if isinstance(f, bytes)), flags


def test_idle_brings_a_new_message_without_waiting_for_the_poll(
    channel: Channel, dovecot: Dovecot
) -> None:
    dovecot.append(message("Before"))
    channel.imap(dovecot)
    written(channel, ["Before"])
    # Porch is connected and idling now; the next message must not wait the minute.
    time.sleep(0.5)
    started = time.monotonic()
    dovecot.append(message("During"))
    written(channel, ["Before", "During"], timeout=POLL_SECONDS / 3)
    assert time.monotonic() - started < 10


def test_imported_messages_are_moved_to_a_folder(channel: Channel, dovecot: Dovecot) -> None:
    for s in ("Stapler", "Jello"):
        dovecot.append(message(s))
    channel.imap(dovecot, move_to="Archive/Imported")
    written(channel, ["Stapler", "Jello"])
    wait_for(lambda: dovecot.uids() == [], "the INBOX to be emptied")
    assert len(dovecot.uids("Archive/Imported")) == 2
    # One more, while Porch idles: imported and moved too, and nothing imported twice.
    dovecot.append(message("Pretzel day"))
    written(channel, ["Stapler", "Jello", "Pretzel day"])
    wait_for(lambda: len(dovecot.uids("Archive/Imported")) == 3, "the third move")
    assert dovecot.uids() == []
    assert imap_state(channel)["INBOX"]["last_uid"] == 3


def test_the_sent_mailbox_is_imported_as_the_teams_own_copies(
    channel: Channel, dovecot: Dovecot
) -> None:
    question = message("Where is my paper?", sender="karen@example.com")
    question_id = BytesHeaderParser().parsebytes(question)["message-id"]
    dovecot.append(question)
    channel.imap(dovecot, sent_mailbox="Sent")
    written(channel, ["Where is my paper?"])
    # The reply a teammate sent from their own mail client, copied to Sent by it.
    reply = message(
        "Re: Where is my paper?",
        sender=ADDRESS,
        To="karen@example.com",
        In_Reply_To=question_id,
        References=question_id,
    )
    dovecot.append(reply, "Sent")
    found = written(channel, ["Where is my paper?", "Re: Where is my paper?"])
    by_subject = {a.subject: a for a in found}
    assert by_subject["Where is my paper?"].mailbox == "INBOX"
    assert by_subject["Re: Where is my paper?"].mailbox == "Sent"
    # Written as outbound, in the customer's conversation.
    [conv] = channel.api.all_pages(f"/inboxes/{channel.inbox_id}/conversations")
    msgs = channel.api.all_pages(f"/conversations/{conv['id']}/messages")
    assert {m["subject"]: m["is_inbound"] for m in msgs} == {
        "Where is my paper?": True,
        "Re: Where is my paper?": False,
    }
    assert set(imap_state(channel)) == {"INBOX", "Sent"}
    # The sent mailbox is never moved from (there is no move_to here anyway) nor emptied.
    assert dovecot.uids("Sent") == [1]


def test_a_new_uidvalidity_starts_the_mailbox_over(channel: Channel, dovecot: Dovecot) -> None:
    first = [message(f"Branch report {n}") for n in range(3)]
    for raw in first:
        dovecot.append(raw, "Support")
    channel.imap(dovecot, mailboxes=["Support"])
    written(channel, [f"Branch report {n}" for n in range(3)])
    old = imap_state(channel)["Support"]
    assert old["last_uid"] == 3
    # The mailbox is made anew: same name, new UIDVALIDITY, UIDs from 1 again. Without the
    # reset these UIDs (1 to 3, at or below the position) would never be imported.
    dovecot.recreate("Support")
    assert dovecot.uidvalidity("Support") != old["uidvalidity"]
    dovecot.append(first[0], "Support")  # a message already written (same Message-ID)
    dovecot.append(message("Branch report 3"), "Support")
    dovecot.append(message("Branch report 4"), "Support")
    written(channel, [f"Branch report {n}" for n in range(5)])
    new = wait_for(
        lambda: (s := imap_state(channel)["Support"])["uidvalidity"] != old["uidvalidity"] and s,
        "the new UIDVALIDITY",
    )
    assert new["uidvalidity"] == dovecot.uidvalidity("Support")
    assert new["last_uid"] == 3
    events = channel.api.ok("GET", "/porch/events", params={"limit": 100})["_results"]
    assert "imap_mailbox_reset" in {e["type"] for e in events}


@pytest.mark.parametrize("server", ["sqlite"], indirect=True)
def test_a_wrong_password_is_logged_and_retried_not_fatal(
    channel: Channel, dovecot: Dovecot, caplog: pytest.LogCaptureFixture
) -> None:
    # (Dovecot delays each further failure from the same address by a few seconds.)
    dovecot.append(message("Fax from Corporate"))
    with caplog.at_level(logging.WARNING, logger="porch.imap"):
        channel.imap(dovecot, password="not-the-password")

        def failures() -> list[str]:
            return [
                r.getMessage() for r in caplog.records if "AUTHENTICATIONFAILED" in r.getMessage()
            ]

        wait_for(lambda: len(failures()) >= 2, "two failed logins (one retry)", timeout=20)
    assert not any("not-the-password" in r.getMessage() for r in caplog.records)
    assert accepted(channel) == []
    assert httpx.get(f"{channel.server.url}/healthz").status_code == 200
    # Fixed (same account: the positions stay), the import starts.
    channel.imap(dovecot, password=PASSWORD)
    written(channel, ["Fax from Corporate"])


@pytest.mark.parametrize("server", ["sqlite"], indirect=True)
def test_an_untrusted_certificate_is_refused_when_verified(
    channel: Channel, dovecot: Dovecot, caplog: pytest.LogCaptureFixture
) -> None:
    dovecot.append(message("Secret memo"))
    with caplog.at_level(logging.WARNING, logger="porch.imap"):
        channel.imap(dovecot, security="tls", port=dovecot.tls_port)  # verify_tls by default
        wait_for(
            lambda: any("CERTIFICATE_VERIFY_FAILED" in r.getMessage() for r in caplog.records),
            "the certificate to be refused",
        )
    assert accepted(channel) == []


def test_the_admin_api_checks_masks_and_removes_the_configuration(
    dunder_mifflin: Company, channel: Channel, dovecot: Dovecot
) -> None:
    api = channel.api
    path = f"/porch/channels/{channel.id}/imap"
    assert api.get(path).status_code == 404
    assert api.delete(path).status_code == 404
    bad = [
        ({"security": "ssl"}, "security"),
        ({"port": 0}, "port"),
        ({"port": "993"}, "port"),
        ({"mailboxes": []}, "mailboxes"),
        ({"mailboxes": ["INBOX", "inbox"]}, "twice"),
        ({"mailboxes": ["INBOX"], "move_to": "INBOX"}, "move_to"),
        ({"sent_mailbox": "Sent", "move_to": "Sent"}, "move_to"),
        ({"host": "imap.example.com/x"}, "host"),
        ({"password": None}, "password is required"),
    ]
    for change, word in bad:
        body = {
            "host": "127.0.0.1",
            "port": dovecot.port,
            "security": "none",
            "username": USER,
            "password": PASSWORD,
            **change,
        }
        body = {k: v for k, v in body.items() if v is not None}
        resp = api.put(path, json=body)
        assert resp.status_code == 400, (change, resp.text)
        assert word in resp.text, (change, resp.text)
    # A custom channel cannot import mail.
    api.ok("POST", f"/inboxes/{channel.inbox_id}/channels", 204, json={"type": "custom"})
    custom = next(
        c["id"]
        for c in api.ok("GET", f"/inboxes/{channel.inbox_id}/channels")["_results"]
        if c["type"] == "custom"
    )
    resp = api.put(
        f"/porch/channels/{custom}/imap", json={"host": "h", "username": "u", "password": "p"}
    )
    assert resp.status_code == 400
    # Set: the password never comes back, nor goes into the event log.
    shown = channel.imap(dovecot, sent_mailbox="Sent", move_to="Archive")
    assert shown["password"] == "********" and shown["port"] == dovecot.port
    assert PASSWORD not in str(api.ok("GET", "/porch/events", params={"limit": 100}))
    assert PASSWORD not in str(api.ok("GET", f"/channels/{channel.id}"))
    # Sent again without the password (as read back), the stored one stays.
    again = {
        k: v for k, v in shown.items() if k not in ("password", "channel_id", "mailbox_states")
    }
    again["verify_tls"] = False
    assert api.ok("PUT", path, json=again)["verify_tls"] is False
    wait_for(lambda: imap_state(channel).get("INBOX"), "the import to run with the kept password")
    # Another token without the provisioning namespace may not.
    plain = dunder_mifflin.client(dunder_mifflin.token(namespaces=["shared"]))
    assert plain.get(path).status_code == 403
    # Removed: 204, then gone, and Porch hangs up.
    assert api.delete(path).status_code == 204
    assert api.get(path).status_code == 404
    wait_for(lambda: dovecot.sessions() == 0, "the importer to disconnect")
    events = api.ok("GET", "/porch/events", params={"limit": 100})["_results"]
    kinds = [e["type"] for e in events]
    assert "channel_imap_set" in kinds and "channel_imap_removed" in kinds


@pytest.mark.parametrize("server", ["sqlite"], indirect=True)
def test_the_cli_configures_the_import(
    dunder_mifflin: Company,
    channel: Channel,
    dovecot: Dovecot,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret = tmp_path / "password"
    secret.write_text(PASSWORD + "\n")
    monkeypatch.setenv("PORCH_DATABASE_URL", channel.server.settings.database_url)
    dovecot.append(message("Dundie awards"))
    args = ["channels", "imap", ADDRESS, "--data-dir", str(channel.server.settings.data_dir)]
    args += ["--company", dunder_mifflin.id]
    porch_cli(
        [
            *args,
            "--host",
            "127.0.0.1",
            "--port",
            str(dovecot.port),
            "--security",
            "none",
            "--username",
            USER,
            "--password-file",
            str(secret),
        ]
    )
    written(channel, ["Dundie awards"])
    porch_cli([*args, "--remove"])
    assert channel.api.get(f"/porch/channels/{channel.id}/imap").status_code == 404
    # Without a username: refused before anything is written.
    with pytest.raises(SystemExit):
        porch_cli([*args, "--host", "127.0.0.1"])


def test_a_server_without_idle_or_move_is_polled_and_copied(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    if not dovecot_module.available():
        pytest.skip("Dovecot is not installed")
    plain = Dovecot(capabilities="IMAP4rev1 LITERAL+").start()
    polling = _porch(request, tmp_path, "sqlite", poll=0.5)
    try:
        srv = next(polling)
        company = make_company(srv, "Dunder Mifflin Stamford", "josh@dundermifflin.com")
        ch = _channel(company, srv)
        plain.append(message("Stamford merger"))
        ch.imap(plain, move_to="Archive")
        written(ch, ["Stamford merger"])
        plain.append(message("Stamford closing"))
        written(ch, ["Stamford merger", "Stamford closing"])
        # Copied, flagged \Deleted and expunged: gone from INBOX, in Archive.
        wait_for(lambda: plain.uids() == [], "the INBOX to be emptied")
        assert len(plain.uids("Archive")) == 2
        company.close()
    finally:
        with pytest.raises(StopIteration):
            next(polling)
        plain.stop()


@pytest.mark.parametrize("server", ["postgresql"], indirect=True)
def test_one_process_imports_a_channel_at_a_time(
    server: Server, channel: Channel, dovecot: Dovecot, pg_server: PgServer
) -> None:
    # A second Porch process on the same database (in this test process: its own event loop
    # and connections, as a separate process would have).
    second, thread = _serve(Porch(server.settings), free_port())
    try:
        for n in range(10):
            dovecot.append(message(f"Shared report {n}"))
        channel.imap(dovecot)
        written(channel, [f"Shared report {n}" for n in range(10)])
        import psycopg

        url = server.settings.database_url
        with psycopg.connect(url, autocommit=True) as conn:
            held = conn.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND classid = %s AND objid = %s",
                (0x494D4150, channel.key),
            ).fetchone()
        assert held is not None and held[0] == 1
        # And Dovecot sees one importer's connection, not one per process.
        time.sleep(2 * RESCAN_SECONDS)
        assert dovecot.sessions() == 1
    finally:
        second.should_exit = True
        thread.join(timeout=20)
    # Whichever process held the channel, the one left imports it (within a rescan).
    dovecot.append(message("Shared report 10"))
    written(channel, [f"Shared report {n}" for n in range(11)])


def test_mailbox_names_are_sent_in_modified_utf7() -> None:
    assert mailbox_name("INBOX") == '"INBOX"'
    assert mailbox_name("Entwürfe") == '"Entw&APw-rfe"'
    assert mailbox_name("Sales & Ops") == '"Sales &- Ops"'
    assert mailbox_name('Say "hi"') == '"Say \\"hi\\""'
    assert mailbox_name("台北") == '"&U,BTFw-"'


# --- Across a restart ---------------------------------------------------------------------------


def _serve_process(
    data_dir: Path, port: int, fresh: bool = True
) -> tuple[subprocess.Popen[str], str]:
    """``porch serve`` on ``data_dir`` (no SMTP server); a fresh one prints the demo
    company's token."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORCH_")}
    env["PORCH_SMTP_PORT"] = "0"
    proc = subprocess.Popen(
        [str(PORCH), "serve", "--data-dir", str(data_dir), "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE if fresh else subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        text=True,
    )
    token = ""
    if fresh:
        assert proc.stdout is not None
        for line in proc.stdout:
            if "admin API token" in line:
                token = proc.stdout.readline().strip()
                break
        assert token, "porch serve printed no demo token"
    for _ in range(400):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc, token
        except httpx.TransportError:
            time.sleep(0.05)
    proc.kill()
    raise AssertionError("porch serve did not come up")


def _stored(db_file: Path, channel: int) -> tuple[list[str], list[str], int]:
    """The uids written and queued for the channel, and the INBOX position."""
    conn = sqlite3.connect(db_file)
    try:
        written = [
            r[0] for r in conn.execute("SELECT uid FROM messages WHERE channel_id = ?", (channel,))
        ]
        queued = [
            r[0]
            for r in conn.execute(
                "SELECT uid FROM intake WHERE channel_id = ? AND kind = 'email'", (channel,)
            )
        ]
        row = conn.execute(
            "SELECT last_uid FROM imap_states WHERE channel_id = ? AND mailbox = 'INBOX'",
            (channel,),
        ).fetchone()
    finally:
        conn.close()
    return written, queued, int(row[0]) if row else 0


def _kill(proc: subprocess.Popen[str]) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    if proc.stdout is not None:
        proc.stdout.close()


@pytest.mark.slow
def test_a_mailbox_is_imported_once_across_a_restart(dovecot: Dovecot, tmp_path: Path) -> None:
    if not PORCH.exists():
        pytest.skip(f"the porch console script is not installed next to {sys.executable}")
    total = 150
    subjects = [f"Inventory {n}" for n in range(total)]
    for s in subjects:
        dovecot.append(message(s))
    data_dir = tmp_path / "data"
    port = free_port()
    proc, token = _serve_process(data_dir, port)
    db_file = data_dir / "porch.db"
    try:
        api = Api(f"http://127.0.0.1:{port}", token)
        inbox = api.ok("POST", "/inboxes", 201, json={"name": "Warehouse"})["id"]
        api.ok("POST", f"/inboxes/{inbox}/channels", 204, json={"type": "smtp", "send_as": ADDRESS})
        [found] = api.ok("GET", f"/inboxes/{inbox}/channels")["_results"]
        key = ids.decode(ids.CHANNEL, found["id"])
        assert key is not None
        body = {"host": "127.0.0.1", "port": dovecot.port, "security": "none"}
        api.ok(
            "PUT",
            f"/porch/channels/{found['id']}/imap",
            json={**body, "username": USER, "password": PASSWORD},
        )
        api.close()
        # Killed as soon as the import has begun.
        wait_for(lambda: sum(map(len, _stored(db_file, key)[:2])) > 0, "the import to begin")
    finally:
        _kill(proc)
    done, queued, position = _stored(db_file, key)
    # The position is exactly the messages taken (UIDs 1..n): none without the other.
    assert len(done) + len(queued) == position
    assert not set(done) & set(queued)
    print(f"killed after {position} of {total} messages")

    port = free_port()
    proc, _ = _serve_process(data_dir, port, fresh=False)
    try:
        wait_for(lambda: _stored(db_file, key)[2] == total, "the rest of the import", timeout=90)
        wait_for(lambda: not _stored(db_file, key)[1], "the intake to be written", timeout=60)
        time.sleep(1)
        done, queued, position = _stored(db_file, key)
        # Through the API: each message of the mailbox once.
        api = Api(f"http://127.0.0.1:{port}", token)
        seen: Counter[str] = Counter()
        for conv in api.all_pages(f"/inboxes/{inbox}/conversations"):
            for msg in api.all_pages(f"/conversations/{conv['id']}/messages"):
                seen[msg["subject"]] += 1
        api.close()
    finally:
        _kill(proc)
    assert position == total
    assert len(done) == len(set(done)) == total
    assert seen == Counter(subjects)
