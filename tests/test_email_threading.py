"""The email threading matrix: which conversation each email lands in.

Each case is a folder of ``tests/email/threading``: ``.eml`` files written for this project and
a ``case.json`` naming the steps in order. A step mails one file into Porch over SMTP (the
session server's), or acts through the API (reply or send a message, archive, merge, import an
old message). Each mail step names the conversation it must land in by a label: steps with the
same label share one conversation, different labels are different conversations, and ``null``
means the mail becomes no message (a duplicate, or a bounce recorded on the message it reports
on). ``direction`` checks inbound or outbound. The decision table these cases pin down is
docs/email-threading.md.

Placeholders in the files: ``{{channel}}`` (the case's channel address, unique per run),
``{{channel_local}}``, ``{{channel_domain}}``, ``{{teammate}}`` (the company's admin teammate),
``{{porch:NAME}}`` (the Message-ID Porch gave the API message a step named NAME) and
``{{token:LABEL}}`` (the reply address of that conversation).
"""

from __future__ import annotations

import json
import re
import smtplib
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Company

CASES = Path(__file__).parent / "email" / "threading"
_PLACEHOLDER = re.compile(r"\{\{([a-z_]+)(?::([A-Za-z0-9_]+))?\}\}")


def _cases() -> list[str]:
    return sorted(p.name for p in CASES.iterdir() if (p / "case.json").is_file())


class Run:
    """One case on one company: its channel, and what its steps named."""

    def __init__(self, company: Company, folder: Path) -> None:
        self.company = company
        self.api = company.api
        self.folder = folder
        self.conversations: dict[str, str] = {}  # label -> cnv_ id
        self.porch_ids: dict[str, str] = {}  # step name -> Message-ID
        inbox = self.api.ok(
            "POST", f"/teams/{company.team_id}/inboxes", 201, json={"name": "Email " + folder.name}
        )["id"]
        self.inbox = inbox
        self.address = f"support-{uuid.uuid4().hex[:10]}@dundermifflin.test"
        self.api.ok(
            "POST",
            f"/inboxes/{inbox}/channels",
            204,
            json={"type": "smtp", "send_as": self.address},
        )
        self.channel = self.api.ok("GET", f"/inboxes/{inbox}/channels")["_results"][0]["id"]
        self.teammate = self.api.ok("GET", "/me")
        admin = self.api.ok("GET", f"/teammates/{company.admin_id}")
        self.teammate_email = admin["email"]

    # --- placeholders -------------------------------------------------------------------------

    def render(self, text: str) -> str:
        local, _, domain = self.address.partition("@")

        def one(found: re.Match[str]) -> str:
            name, arg = found.group(1), found.group(2)
            if name == "channel":
                return self.address
            if name == "channel_local":
                return local
            if name == "channel_domain":
                return domain
            if name == "teammate":
                return str(self.teammate_email)
            if name == "porch":
                return self.porch_ids[str(arg)]
            if name == "token":
                return self.reply_address(self.conversations[str(arg)])
            raise AssertionError(f"unknown placeholder {found.group(0)}")

        return _PLACEHOLDER.sub(one, text)

    def reply_address(self, conversation: str) -> str:
        from porch.channels.email.addresses import reply_address, reply_token
        from porch.ids import decode
        from porch.store import secrets
        from porch.timeutil import now_ms

        key = decode("cnv", conversation)
        assert key is not None

        async def secret(db: Any) -> bytes:
            async with db.transaction() as tx:
                made: bytes = await secrets.get_or_make(
                    tx, company_id=self.company.key, purpose="reply_token", now=now_ms()
                )
                return made

        token = reply_token(self.company.server.run(secret), self.company.key, key)
        return reply_address(self.address, token)

    # --- steps ----------------------------------------------------------------------------------

    def mail(self, name: str, rcpt: str | None = None) -> str:
        raw = self.render((self.folder / name).read_text()).replace("\r\n", "\n")
        host, port = self.company.server.smtp
        with smtplib.SMTP(host, port, timeout=30) as smtp:
            smtp.ehlo()
            code, _ = smtp.mail("sender@example.org")
            assert code == 250
            code, reply = smtp.rcpt(self.render(rcpt) if rcpt else self.address)
            assert code == 250, reply
            code, reply = smtp.data(raw.replace("\n", "\r\n").encode("utf-8"))
        assert code == 250, reply
        found = re.search(rb"queued as ([0-9a-f]{32})", reply)
        assert found, reply
        return found.group(1).decode()

    def sentinel(self) -> None:
        """Mail a message of its own and wait until it is written: the intake writes in order,
        so everything mailed before it has been dealt with."""
        raw = (
            f"From: sentinel-{uuid.uuid4().hex[:8]}@example.net\r\nTo: {self.address}\r\n"
            f"Subject: sentinel {uuid.uuid4().hex}\r\nMessage-ID: <{uuid.uuid4().hex}@sentinel>"
            "\r\n\r\nsentinel\r\n"
        )
        host, port = self.company.server.smtp
        with smtplib.SMTP(host, port, timeout=30) as smtp:
            smtp.ehlo()
            smtp.mail("sentinel@example.net")
            smtp.rcpt(self.address)
            code, reply = smtp.data(raw.encode())
        uid = re.search(rb"queued as ([0-9a-f]{32})", reply)
        assert code == 250 and uid
        self.api.message(uid.group(1).decode())

    def lands(self, label: str, conversation: str) -> None:
        known = self.conversations.get(label)
        if known is None:
            others = {v: k for k, v in self.conversations.items()}
            assert conversation not in others, (
                f"expected a conversation of its own ({label}), got {others[conversation]}'s"
            )
            self.conversations[label] = conversation
        else:
            assert conversation == known, f"expected conversation {label}"

    def step(self, step: dict[str, Any]) -> None:
        if "mail" in step:
            uid = self.mail(step["mail"], step.get("rcpt"))
            label = step["lands"]
            if label is None:
                self.sentinel()
                assert self.api.get(f"/messages/alt:uid:{uid}").status_code == 404
                return
            msg = self.api.message(uid)
            conv = msg["_links"]["related"]["conversation"].rsplit("/", 1)[1]
            self.lands(label, conv)
            if "direction" in step:
                assert msg["is_inbound"] is (step["direction"] == "inbound"), msg
            if "status" in step:
                assert self.api.ok("GET", f"/conversations/{conv}")["status"] == step["status"]
        elif "reply" in step or "send" in step:
            body: dict[str, Any] = {"body": step.get("body", "Thanks, we are on it.")}
            for field in ("to", "cc", "bcc"):
                if field in step:
                    body[field] = [self.render(v) for v in step[field]]
            if "subject" in step:
                body["subject"] = step["subject"]
            if "reply" in step:
                conv = self.conversations[step["reply"]]
                path = f"/conversations/{conv}/messages"
                body["channel_id"] = self.channel
            else:
                path = f"/channels/{self.channel}/messages"
            answer = self.api.ok("POST", path, 202, json=body)
            uid = answer["message_uid"]
            msg = self.api.message(uid)
            domain = self.address.partition("@")[2]
            self.porch_ids[step["as"]] = f"porch.{uid}@{domain}"
            if "lands" in step:
                self.lands(step["lands"], msg["_links"]["related"]["conversation"].rsplit("/")[-1])
        elif "archive" in step:
            conv = self.conversations[step["archive"]]
            self.api.ok("PATCH", f"/conversations/{conv}", 204, json={"status": "archived"})
        elif "merge" in step:
            survivor, other = (self.conversations[x] for x in step["merge"])
            self.api.ok(
                "POST",
                f"/porch/conversations/{survivor}/merge",
                200,
                json={"conversation_ids": [other]},
            )
        elif "import" in step:
            spec = step["import"]
            answer = self.api.ok(
                "POST",
                f"/inboxes/{self.inbox}/imported_messages",
                202,
                json={
                    "sender": {"handle": spec["from"]},
                    "to": [self.address],
                    "subject": spec["subject"],
                    "body": spec.get("body", "An old message."),
                    "external_id": uuid.uuid4().hex,
                    "created_at": spec["created_at"],
                    "type": "email",
                    "metadata": {"is_inbound": True, "is_archived": False},
                },
            )
            msg = self.api.message(answer["message_uid"])
            self.lands(step["lands"], msg["_links"]["related"]["conversation"].rsplit("/")[-1])
        elif "bounced" in step or "not_bounced" in step:
            name = step.get("bounced") or step["not_bounced"]
            uid = self.porch_ids[name].split(".", 1)[1].split("@", 1)[0]
            msg = self.api.message(uid)
            if "bounced" in step:
                assert msg.get("error_type") == "bounce", msg
            else:
                assert msg.get("error_type") != "bounce", msg
        else:
            raise AssertionError(f"unknown step {step}")


@pytest.mark.parametrize("case", _cases())
def test_threading(case: str, dunder_mifflin: Company) -> None:
    folder = CASES / case
    spec = json.loads((folder / "case.json").read_text())
    run = Run(dunder_mifflin, folder)
    for step in spec["steps"]:
        run.step(step)


def test_the_matrix_has_forty_cases_of_eml_files() -> None:
    cases = _cases()
    assert len(cases) >= 40
    for case in cases:
        spec = json.loads((CASES / case / "case.json").read_text())
        assert spec.get("about"), case
        for step in spec["steps"]:
            if "mail" in step:
                assert (CASES / case / step["mail"]).is_file(), (case, step["mail"])
