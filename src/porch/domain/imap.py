"""IMAP mailboxes: an email channel may import an existing mailbox instead of (or beside)
receiving by SMTP.

The configuration is a Porch extension kept in the channel's settings under ``"imap"``: the
server (``host``, ``port``, ``security``: implicit ``tls``, ``starttls`` or ``none``,
``verify_tls``), the account (``username``, ``password``, stored as given, like a Twilio
channel's ``auth_token``), the ``mailboxes`` to import (INBOX by default), an optional
``sent_mailbox`` whose messages are the team's own copies (written as outbound by the intake),
and an optional ``move_to`` folder the imported messages of ``mailboxes`` are moved to.

The importer (``channels/email/imap.py``) queues each message with ``do_queue_message``: one
transaction moves the mailbox's position to the message's UID and queues the raw message in the
intake, so a restart neither misses nor repeats one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import orjson

from porch.domain import email_in
from porch.domain.errors import BadRequest, NotFound
from porch.domain.principal import Principal
from porch.events import log
from porch.store import channels as channels_store
from porch.store import crud
from porch.store import imap as store
from porch.store.channels import Channel
from porch.store.db import Database, Reader
from porch.store.imap import Position
from porch.store.tables import channels as channels_table
from porch.timeutil import now_ms

SECURITIES = ("tls", "starttls", "none")
DEFAULT_PORTS = {"tls": 993, "starttls": 143, "none": 143}
MAX_MAILBOXES = 20
MASK = "********"
# The source of the events and intake rows the importer writes.
IMAP_SOURCE = log.Source("imap", None)
_CONTROL = {chr(c) for c in range(32)} | {"\x7f"}


@dataclass(frozen=True, slots=True)
class ImapConfig:
    """A channel's IMAP import, as stored in ``settings["imap"]``."""

    host: str
    port: int
    security: str
    username: str
    password: str
    mailboxes: tuple[str, ...] = ("INBOX",)
    sent_mailbox: str | None = None
    move_to: str | None = None
    verify_tls: bool = True

    @classmethod
    def from_settings(cls, stored: dict[str, Any]) -> ImapConfig:
        return cls(
            host=str(stored["host"]),
            port=int(stored["port"]),
            security=str(stored["security"]),
            username=str(stored["username"]),
            password=str(stored["password"]),
            mailboxes=tuple(stored.get("mailboxes") or ("INBOX",)),
            sent_mailbox=stored.get("sent_mailbox"),
            move_to=stored.get("move_to"),
            verify_tls=bool(stored.get("verify_tls", True)),
        )

    def to_settings(self) -> dict[str, Any]:
        return {**asdict(self), "mailboxes": list(self.mailboxes)}

    def shown(self) -> dict[str, Any]:
        """What may be shown or logged: everything but the password."""
        return {**self.to_settings(), "password": MASK}

    @property
    def account(self) -> tuple[str, str]:
        """What names the account: the same UIDs mean the same messages only within it."""
        return (self.host.lower(), self.username)

    def sources(self) -> list[str]:
        """Every mailbox imported: ``mailboxes``, then the sent mailbox."""
        return [*self.mailboxes, *([self.sent_mailbox] if self.sent_mailbox else [])]


def config_of(channel: Channel) -> ImapConfig | None:
    """The channel's IMAP import, if it has one."""
    stored = channel.settings.get("imap")
    return ImapConfig.from_settings(stored) if isinstance(stored, dict) else None


def _text(name: str, value: str, problems: list[str]) -> str:
    if not value.strip():
        problems.append(f"{name} cannot be blank")
    elif any(c in _CONTROL for c in value):
        # CR or LF would end the IMAP command they are sent in.
        problems.append(f"{name} must not contain control characters")
    return value


def check_imap(
    *,
    host: str,
    port: int | None,
    security: str,
    username: str,
    password: str,
    mailboxes: list[str] | None,
    sent_mailbox: str | None,
    move_to: str | None,
    verify_tls: bool,
) -> ImapConfig:
    """The configuration to store, or BadRequest listing what is wrong with it."""
    problems: list[str] = []
    host = _text("host", host.strip(), problems)
    if any(c.isspace() or c in "/@" for c in host):
        problems.append(f"host must be a host name or an IP address, not {host!r}")
    if security not in SECURITIES:
        problems.append(f"security must be one of: {', '.join(SECURITIES)}")
    if port is None:
        port = DEFAULT_PORTS.get(security, 993)
    elif not 0 < port < 65536:
        problems.append("port must be between 1 and 65535")
    _text("username", username, problems)
    _text("password", password, problems)
    boxes = list(mailboxes) if mailboxes is not None else ["INBOX"]
    if not boxes or len(boxes) > MAX_MAILBOXES:
        problems.append(f"mailboxes must name between 1 and {MAX_MAILBOXES} mailboxes")
    for box in boxes:
        _text("a mailbox name", box, problems)
    # INBOX is case-insensitive in IMAP; other names are compared as given.
    keys = [b.upper() if b.upper() == "INBOX" else b for b in boxes]
    if len(set(keys)) != len(keys):
        problems.append("mailboxes must not name a mailbox twice")
    for name, value in (("sent_mailbox", sent_mailbox), ("move_to", move_to)):
        if value is not None:
            _text(name, value, problems)
            if value in boxes:
                # Importing the folder messages are moved to would import them again.
                problems.append(f"{name} cannot be one of the imported mailboxes")
    if move_to is not None and move_to == sent_mailbox:
        problems.append("move_to cannot be the sent mailbox")
    if problems:
        raise BadRequest("Invalid IMAP configuration", details=problems)
    return ImapConfig(
        host=host,
        port=port,
        security=security,
        username=username,
        password=password,
        mailboxes=tuple(boxes),
        sent_mailbox=sent_mailbox,
        move_to=move_to,
        verify_tls=verify_tls,
    )


async def do_set_imap(
    db: Database,
    *,
    principal: Principal,
    channel: Channel,
    host: str,
    port: int | None,
    security: str,
    username: str,
    password: str | None,
    mailboxes: list[str] | None,
    sent_mailbox: str | None,
    move_to: str | None,
    verify_tls: bool,
) -> ImapConfig:
    """Make the channel import an IMAP mailbox (or change what it imports); the importers of
    the running processes pick it up within a few seconds. ``password`` None keeps the stored
    one (clients read it back masked). Another account (host or username) starts over from
    its first message; the same account resumes where its mailboxes stood. Logged as the Porch
    event ``channel_imap_set`` (without the password)."""
    if channel.type != "smtp":
        raise BadRequest("Only email (smtp) channels can import an IMAP mailbox")
    async with db.transaction() as tx:
        # Read again in the transaction: the other settings are written back as they are now.
        current = await channels_store.get(tx, company_id=principal.company_id, key=channel.id)
        if current is None:
            raise NotFound("Unknown channel")
        before = config_of(current)
        same_account = before is not None and before.account == (host.strip().lower(), username)
        if password is None:
            if before is None or not same_account:
                raise BadRequest("password is required for a new IMAP account")
            password = before.password
        config = check_imap(
            host=host,
            port=port,
            security=security,
            username=username,
            password=password,
            mailboxes=mailboxes,
            sent_mailbox=sent_mailbox,
            move_to=move_to,
            verify_tls=verify_tls,
        )
        if before is not None and not same_account:
            await store.forget(tx, company_id=principal.company_id, channel_id=channel.id)
        settings = {**current.settings, "imap": config.to_settings()}
        await crud.update(
            tx,
            channels_table,
            company_id=principal.company_id,
            key=channel.id,
            settings=orjson.dumps(settings).decode(),
        )
        shown = config.shown()
        del shown["password"]
        await log.append(
            tx,
            company_id=principal.company_id,
            type="channel_imap_set",
            source=log.source_of(principal),
            target_type="channel",
            target_id=channel.id,
            data=shown,
        )
    return config


async def do_remove_imap(db: Database, *, principal: Principal, channel: Channel) -> None:
    """Stop importing the channel's IMAP mailbox (404 if it imports none). The positions stay:
    set up again for the same account, the import resumes where it stopped. Logged as the Porch
    event ``channel_imap_removed``."""
    async with db.transaction() as tx:
        current = await channels_store.get(tx, company_id=principal.company_id, key=channel.id)
        if current is None or config_of(current) is None:
            raise NotFound("This channel imports no IMAP mailbox")
        settings = {k: v for k, v in current.settings.items() if k != "imap"}
        await crud.update(
            tx,
            channels_table,
            company_id=principal.company_id,
            key=channel.id,
            settings=orjson.dumps(settings).decode(),
        )
        await log.append(
            tx,
            company_id=principal.company_id,
            type="channel_imap_removed",
            source=log.source_of(principal),
            target_type="channel",
            target_id=channel.id,
        )


async def positions(conn: Reader, *, channel: Channel) -> list[Position]:
    """How far each of the channel's mailboxes is imported."""
    return await store.positions(conn, company_id=channel.company_id, channel_id=channel.id)


# --- What the importer writes ----------------------------------------------------------------


async def do_open_mailbox(
    db: Database, *, company_id: int, channel_id: int, mailbox: str, uidvalidity: int
) -> int:
    """The highest UID of ``mailbox`` already queued, under the UIDVALIDITY the server gives
    now: 0 the first time, and 0 again when the server's UIDVALIDITY differs from the one
    stored (the UIDs then name other messages). Importing the mailbox again from its start may
    offer messages already written; the intake recognises those by their Message-ID and writes
    them once. A reset is logged as the Porch event ``imap_mailbox_reset``."""
    found = await store.get(db, company_id=company_id, channel_id=channel_id, mailbox=mailbox)
    if found is not None and found.uidvalidity == uidvalidity:
        return found.last_uid
    now = now_ms()
    async with db.transaction() as tx:
        if found is None:
            await store.start(
                tx,
                company_id=company_id,
                channel_id=channel_id,
                mailbox=mailbox,
                uidvalidity=uidvalidity,
                now=now,
            )
        elif await store.reset(
            tx,
            company_id=company_id,
            channel_id=channel_id,
            mailbox=mailbox,
            old=found.uidvalidity,
            new=uidvalidity,
            now=now,
        ):
            await log.append(
                tx,
                company_id=company_id,
                type="imap_mailbox_reset",
                source=IMAP_SOURCE,
                target_type="channel",
                target_id=channel_id,
                data={
                    "mailbox": mailbox,
                    "old_uidvalidity": found.uidvalidity,
                    "uidvalidity": uidvalidity,
                    "last_uid": found.last_uid,
                },
            )
        now_at = await store.get(tx, company_id=company_id, channel_id=channel_id, mailbox=mailbox)
    if now_at is None or now_at.uidvalidity != uidvalidity:
        raise PositionMoved(f"{mailbox}: another importer changed the position meanwhile")
    return now_at.last_uid


class PositionMoved(Exception):
    """Another importer moved the mailbox's position: this one must read it again."""


async def do_queue_message(
    db: Database,
    *,
    company_id: int,
    channel_id: int,
    mailbox: str,
    uidvalidity: int,
    uid: int,
    sha256: str,
    size: int,
) -> str:
    """Queue the message ``uid`` of ``mailbox`` (its raw form already in the blob store) and
    move the mailbox's position to it, in one transaction; the message_uid it will have.
    PositionMoved (and nothing written) if the position is not below ``uid`` any more."""
    async with db.transaction() as tx:
        claimed = await store.claim(
            tx,
            company_id=company_id,
            channel_id=channel_id,
            mailbox=mailbox,
            uidvalidity=uidvalidity,
            uid=uid,
            now=now_ms(),
        )
        if not claimed:
            raise PositionMoved(f"{mailbox}: UID {uid} was queued by another importer")
        return await email_in.enqueue_raw(
            tx,
            company_id=company_id,
            channel_id=channel_id,
            sha256=sha256,
            size=size,
            via="imap",
            mail_from=None,
            rcpt=None,
            mailbox=mailbox,
        )
