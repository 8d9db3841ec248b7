"""Inbound SMTP and ``porch deliver``, with real clients (swaks, smtplib) on loopback.

The session servers listen for mail (see conftest); the tests that need other limits (size,
sender lists, TLS, per-connection caps) start one more Porch on the same database with those
settings, as a second process of the same deployment would be.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import smtplib
import ssl
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from porch.app import Porch
from tests.conftest import Company, Server, _serve, free_port

PORCH = Path(sys.executable).parent / "porch"
_QUEUED = re.compile(rb"queued as ([0-9a-f]{32})")


def _email_channel(company: Company) -> tuple[str, str, str]:
    """A new inbox with an email channel: (inbox id, channel id, address)."""
    api = company.api
    inbox = api.ok("POST", f"/teams/{company.team_id}/inboxes", 201, json={"name": "Mail"})["id"]
    address = f"help-{uuid.uuid4().hex[:10]}@dundermifflin.test"
    api.ok("POST", f"/inboxes/{inbox}/channels", 204, json={"type": "smtp", "send_as": address})
    channel = api.ok("GET", f"/inboxes/{inbox}/channels")["_results"][0]["id"]
    return inbox, channel, address


def _message(subject: str, to: str, *, sender: str = "jan@example.com", body: str = "Hi") -> bytes:
    return (
        f"From: Jan Levinson <{sender}>\r\nTo: {to}\r\nSubject: {subject}\r\n"
        f"Message-ID: <{uuid.uuid4().hex}@example.com>\r\nMIME-Version: 1.0\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    ).encode()


def _uid(reply: bytes) -> str:
    found = _QUEUED.search(reply)
    assert found, reply
    return found.group(1).decode()


@pytest.fixture
def strict_smtp(server: Server, tmp_path: Path) -> Iterator[Server]:
    """A second Porch on the session database: 20 KB messages at most, mail from
    @spam.example refused, two recipients and three messages per connection, STARTTLS."""
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    settings = dataclasses.replace(
        server.settings,
        smtp_port=free_port(),
        smtp_max_bytes=20_000,
        smtp_deny=("@spam.example",),
        smtp_max_recipients=2,
        smtp_max_messages_per_connection=3,
        smtp_tls_cert=str(cert),
        smtp_tls_key=str(key),
    )
    port = free_port()
    srv, thread = _serve(Porch(settings), port)
    yield Server(server.backend, f"http://127.0.0.1:{port}", settings)
    srv.should_exit = True
    thread.join(timeout=10)


def test_mail_sent_with_swaks_appears_through_the_api(
    dunder_mifflin: Company, tmp_path: Path
) -> None:
    if shutil.which("swaks") is None:
        pytest.skip("swaks is not installed (apt-get install swaks)")
    api = dunder_mifflin.api
    inbox, channel, address = _email_channel(dunder_mifflin)
    host, port = dunder_mifflin.server.smtp
    attachment = tmp_path / "scan.pdf"
    attachment.write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 40)
    done = subprocess.run(
        ["swaks", "--server", f"{host}:{port}", "--to", address]
        + ["--from", "stanley@example.com", "--h-From", '"Stanley Hudson" <stanley@example.com>']
        + ["--h-Subject", "Crossword answers", "--body", "Seven down is PRETZEL."]
        + ["--attach-type", "application/pdf", "--attach-name", "scan.pdf"]
        + ["--attach", f"@{attachment}"],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, (done.stdout + done.stderr).decode()
    uid = _uid(done.stdout)
    msg = api.message(uid)
    assert msg["type"] == "email" and msg["is_inbound"] is True
    assert msg["subject"] == "Crossword answers"
    assert "Seven down is PRETZEL." in msg["text"]
    sender = msg["recipients"][0]
    assert (sender["handle"], sender["role"], sender["name"]) == (
        "stanley@example.com",
        "from",
        "Stanley Hudson",
    )
    [attached] = msg["attachments"]
    assert (attached["filename"], attached["content_type"]) == ("scan.pdf", "application/pdf")
    downloaded = api.get(attached["url"][len(api.base_url) :])
    assert downloaded.content == attachment.read_bytes()
    conv = msg["_links"]["related"]["conversation"].rsplit("/", 1)[1]
    listed = api.ok("GET", f"/inboxes/{inbox}/conversations")["_results"]
    assert [c["id"] for c in listed] == [conv]
    assert listed[0]["subject"] == "Crossword answers"
    # The channel is where it came in, and the raw message is kept as it was received.
    raw = api.http.get(f"/messages/{msg['id']}", headers={"Accept": "message/rfc822"})
    assert raw.status_code == 200 and b"Seven down is PRETZEL." in raw.content
    assert b"X-Mailer: swaks" in raw.content


def test_unknown_recipients_get_550_and_the_others_the_mail(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    _, _, address = _email_channel(dunder_mifflin)
    host, port = dunder_mifflin.server.smtp
    with smtplib.SMTP(host, port, timeout=30) as smtp:
        smtp.ehlo()
        assert smtp.mail("jan@example.com")[0] == 250
        assert smtp.rcpt("nobody-here@dundermifflin.test")[0] == 550
        assert smtp.rcpt(address)[0] == 250
        code, reply = smtp.data(_message("Two recipients", f"{address}, nobody@x.test"))
    assert code == 250
    assert api.message(_uid(reply))["subject"] == "Two recipients"
    with smtplib.SMTP(host, port, timeout=30) as smtp:
        smtp.ehlo()
        smtp.mail("jan@example.com")
        assert smtp.rcpt("nobody-here@dundermifflin.test")[0] == 550
        # With no recipient taken there is nothing to send the data to.
        with pytest.raises(smtplib.SMTPDataError) as refused:
            smtp.data(_message("Nobody", "nobody-here@dundermifflin.test"))
        assert refused.value.smtp_code == 503


def test_each_company_with_the_address_gets_its_copy(
    dunder_mifflin: Company, vance_refrigeration: Company
) -> None:
    _, _, address = _email_channel(dunder_mifflin)
    bob = vance_refrigeration.api
    inbox = bob.ok("POST", f"/teams/{vance_refrigeration.team_id}/inboxes", 201, json={"name": "M"})
    bob.ok(
        "POST", f"/inboxes/{inbox['id']}/channels", 204, json={"type": "smtp", "send_as": address}
    )
    host, port = dunder_mifflin.server.smtp
    with smtplib.SMTP(host, port, timeout=30) as smtp:
        smtp.ehlo()
        smtp.mail("jan@example.com")
        smtp.rcpt(address)
        code, reply = smtp.data(_message("Shared address", address))
    assert code == 250
    uids = _QUEUED.search(reply)
    assert uids
    first, second = reply.split(b"queued as ")[1].decode().split(",")
    mine, theirs = dunder_mifflin.api.message(first), bob.message(second)
    assert mine["subject"] == theirs["subject"] == "Shared address"
    # Each company sees only its own copy.
    assert dunder_mifflin.api.get(f"/messages/{theirs['id']}").status_code == 404
    assert bob.get(f"/messages/{mine['id']}").status_code == 404


def test_limits_sender_lists_and_starttls(strict_smtp: Server, dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    _, _, address = _email_channel(dunder_mifflin)
    host, port = strict_smtp.smtp
    with smtplib.SMTP(host, port, timeout=30) as smtp:
        smtp.ehlo()
        assert smtp.has_extn("starttls")
        # Over the size limit: 552, from the size the client declared or the bytes it sent.
        smtp.mail("jan@example.com")
        smtp.rcpt(address)
        code, _ = smtp.data(_message("Big", address, body=("x" * 70 + "\r\n") * 500))
        assert code == 552
        smtp.rset()
        # A denied sender's domain.
        assert smtp.mail("promo@spam.example")[0] == 550
        smtp.rset()
        # Two recipients per message at most.
        smtp.mail("jan@example.com")
        assert smtp.rcpt(address)[0] == 250
        assert smtp.rcpt(address.replace("@", "+a@"))[0] == 250
        assert smtp.rcpt(address.replace("@", "+b@"))[0] == 452
        code, reply = smtp.data(_message("Plus tags", address))
        assert code == 250
        # Both plus addresses are the one channel: one copy.
        assert len(reply.split(b"queued as ")[1].split(b",")) == 1
        assert api.message(_uid(reply))["subject"] == "Plus tags"
    # STARTTLS, then three messages on one connection, and no fourth.
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with smtplib.SMTP(host, port, timeout=30) as smtp:
        smtp.ehlo()
        smtp.starttls(context=context)
        smtp.ehlo()
        uids = []
        for n in range(3):
            smtp.mail("jan@example.com")
            smtp.rcpt(address)
            code, reply = smtp.data(_message(f"Over TLS {n}", address))
            assert code == 250
            uids.append(_uid(reply))
        assert smtp.mail("jan@example.com")[0] == 421
    assert [api.message(u)["subject"] for u in uids] == [f"Over TLS {n}" for n in range(3)]


def _deliver(server: Server, *args: str, stdin: bytes, env: dict[str, str] | None = None) -> Any:
    base = {k: v for k, v in os.environ.items() if not k.startswith("PORCH_")}
    base["PORCH_DATABASE_URL"] = server.settings.database_url
    base.update(env or {})
    cmd = [str(PORCH), "deliver", "--data-dir", str(server.settings.data_dir), *args]
    return subprocess.run(cmd, input=stdin, env=base, capture_output=True, timeout=120)


def test_porch_deliver_takes_mail_from_a_pipe_with_sysexits_codes(
    dunder_mifflin: Company,
) -> None:
    if not PORCH.exists():
        pytest.skip(f"the porch console script is not installed next to {sys.executable}")
    api = dunder_mifflin.api
    inbox, _, address = _email_channel(dunder_mifflin)
    server = dunder_mifflin.server
    done = _deliver(server, "--channel", address, stdin=_message("Piped in", address))
    assert done.returncode == 0, done.stderr
    # The serving process's intake worker finds the row another process committed.
    deadline_body = api.all_pages(f"/inboxes/{inbox}/conversations")
    for _ in range(300):
        if deadline_body:
            break
        import time

        time.sleep(0.05)
        deadline_body = api.all_pages(f"/inboxes/{inbox}/conversations")
    assert [c["subject"] for c in deadline_body] == ["Piped in"]
    # No such channel: 67 (EX_NOUSER), the MTA bounces it.
    nobody = _deliver(server, "--channel", "nobody@nowhere.test", stdin=_message("x", "y"))
    assert nobody.returncode == 67 and b"no email channel" in nobody.stderr
    # Nothing on standard input: 65 (EX_DATAERR).
    assert _deliver(server, "--channel", address, stdin=b"").returncode == 65
    # The database cannot be reached: 75 (EX_TEMPFAIL), the MTA keeps it and tries again.
    unreachable = _deliver(
        server,
        "--channel",
        address,
        stdin=_message("Later", address),
        env={"PORCH_DATABASE_URL": f"postgresql://porch@127.0.0.1:{free_port()}/none"},
    )
    assert unreachable.returncode == 75, unreachable.stderr


def test_a_message_the_parser_struggles_with_is_kept_whole(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    _, _, address = _email_channel(dunder_mifflin)
    raw = (
        b"From: Creed Bratton <creed@example.com>\r\nTo: " + address.encode() + b"\r\n"
        b"Subject: =?x-unknown-charset?Q?strange?=\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="never-closed"\r\n\r\n'
        b"--never-closed\r\nContent-Type: text/plain; charset=x-made-up\r\n\r\n"
        b"Caf\xe9 \xff\xfe and the rest was cut off mid-"
    )
    host, port = dunder_mifflin.server.smtp
    with smtplib.SMTP(host, port, timeout=30) as smtp:
        smtp.ehlo()
        smtp.mail("creed@example.com")
        smtp.rcpt(address)
        code, reply = smtp.data(raw)
    assert code == 250
    msg = api.message(_uid(reply))
    assert "Caf" in msg["text"]
    exported = api.http.get(f"/messages/{msg['id']}", headers={"Accept": "message/rfc822"})
    assert exported.content == raw + b"\r\n" or exported.content == raw
    events = api.ok("GET", "/porch/events", params={"q[types]": "email_parse_fallback"})
    noted = [e for e in events["_results"] if e["target"]["data"]["id"] == msg["id"]]
    assert noted and noted[0]["data"]["notes"]


def test_a_mailed_conversation_can_be_deleted_for_good(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    _, _, address = _email_channel(dunder_mifflin)
    host, port = dunder_mifflin.server.smtp
    with smtplib.SMTP(host, port, timeout=30) as smtp:
        smtp.ehlo()
        smtp.mail("jan@example.com")
        smtp.rcpt(address)
        code, reply = smtp.data(_message("Delete me", address))
    assert code == 250
    msg = api.message(_uid(reply))
    conv = msg["_links"]["related"]["conversation"].rsplit("/", 1)[1]
    api.ok("PATCH", f"/conversations/{conv}", 204, json={"status": "deleted"})
    api.ok("DELETE", f"/conversations/{conv}", 204)
    assert api.get(f"/messages/{msg['id']}").status_code == 404
