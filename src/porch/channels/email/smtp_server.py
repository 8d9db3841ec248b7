"""Inbound SMTP: mail for the email channels' addresses, taken only once it is durable.

The server speaks SMTP with aiosmtpd on the process's own event loop (``porch serve`` starts it
next to the API, ``porch smtp`` alone). Each recipient is checked as it is given: an address
that is no email channel's (``local+tag@domain`` counts as ``local@domain``) is refused with
550; a message over the size limit with 552 (aiosmtpd counts the bytes). The DATA reply comes
only after the raw bytes are in the blob store (fsynced) and one intake row per channel is
committed (``porch.domain.email_in``): a 250 is never given for mail a crash could lose.
Parsing, threading and rules run afterwards, from that stored copy.

A sender allow list (only these may send) and deny list hold addresses or ``@domain``. A
connection may give at most ``smtp_max_recipients`` recipients per message and
``smtp_max_messages_per_connection`` messages; STARTTLS is offered when a certificate is set.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from porch.channels.email.addresses import split_plus
from porch.config import Settings
from porch.domain import email_in
from porch.storage import BlobStore
from porch.store import channels as channels_store
from porch.store.channels import Channel
from porch.store.db import Database

logger = logging.getLogger("porch.smtp")

HOSTNAME = "porch"


def _sender_allowed(settings: Settings, address: str) -> bool:
    """Whether mail from ``address`` is taken: not denied, and allowed when a list is set."""
    address = address.strip().lower()
    domain = "@" + address.rpartition("@")[2]

    def listed(patterns: tuple[str, ...]) -> bool:
        return address in patterns or domain in patterns

    if listed(settings.smtp_deny):
        return False
    return not settings.smtp_allow or listed(settings.smtp_allow)


class Handler:
    """aiosmtpd's handler: checks each command and stores each message before its 250."""

    def __init__(
        self,
        db: Database,
        blobs: BlobStore,
        settings: Settings,
        accepted: Callable[[], None] = lambda: None,
    ) -> None:
        self.db = db
        self.blobs = blobs
        self.settings = settings
        self.accepted = accepted

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        count = getattr(session, "porch_messages", 0)
        if count >= self.settings.smtp_max_messages_per_connection:
            return "421 4.7.0 Too many messages on one connection; connect again"
        if address and not _sender_allowed(self.settings, address):
            return "550 5.7.1 Mail from this sender is not accepted here"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        envelope.porch_channels = []  # type: ignore[attr-defined]
        return "250 2.1.0 OK"

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if len(envelope.rcpt_tos) >= self.settings.smtp_max_recipients:
            return "452 4.5.3 Too many recipients"
        base, _ = split_plus(address)
        channels = await channels_store.email_by_address(self.db, address=base)
        if not channels:
            return "550 5.1.1 No mailbox here by that name"
        envelope.rcpt_tos.append(address)
        found: list[tuple[str, Channel]] = envelope.porch_channels  # type: ignore[attr-defined]
        found.extend((address, ch) for ch in channels)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        if isinstance(raw, str):  # only with decode_data, which the server does not set
            raw = raw.encode("utf-8", "surrogateescape")
        found: list[tuple[str, Channel]] = getattr(envelope, "porch_channels", [])
        if not found:
            return "554 5.5.1 No valid recipients"
        try:
            uids = await self.accept(raw, envelope.mail_from, found)
        except Exception:
            logger.exception("could not store a message from %s", envelope.mail_from)
            return "451 4.3.0 Could not store the message; try again later"
        session.porch_messages = getattr(session, "porch_messages", 0) + 1  # type: ignore[attr-defined]
        # The message_uid of each copy: GET /messages/alt:uid:<uid> finds it once written.
        return "250 2.0.0 OK: queued as " + ",".join(uids)

    async def accept(
        self,
        raw: bytes,
        mail_from: str | None,
        recipients: list[tuple[str, Channel]],
        via: str = "smtp",
    ) -> list[str]:
        """Store ``raw`` and queue it for each (envelope recipient, channel); the uids. Durable
        when this returns. ``via`` says how it came (smtp, or pipe for ``porch deliver``)."""
        sha = await email_in.store_raw(self.blobs, raw)
        uids = []
        seen: set[int] = set()
        async with self.db.transaction() as tx:
            for rcpt, channel in recipients:
                if channel.id in seen:  # two addresses of one channel (plus tags): one copy
                    continue
                seen.add(channel.id)
                uids.append(
                    await email_in.enqueue_raw(
                        tx,
                        company_id=channel.company_id,
                        channel_id=channel.id,
                        sha256=sha,
                        size=len(raw),
                        via=via,
                        mail_from=mail_from or None,
                        rcpt=rcpt,
                    )
                )
        self.accepted()
        return uids


def tls_context(settings: Settings) -> ssl.SSLContext | None:
    """The context STARTTLS uses, when a certificate and key are configured."""
    if not (settings.smtp_tls_cert and settings.smtp_tls_key):
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(settings.smtp_tls_cert, settings.smtp_tls_key)
    return context


async def start(
    db: Database,
    blobs: BlobStore,
    settings: Settings,
    accepted: Callable[[], None] = lambda: None,
) -> asyncio.AbstractServer:
    """Listen on ``settings.smtp_host:smtp_port`` on the running loop; the server (close it to
    stop)."""
    assert settings.smtp_port is not None, "no SMTP port configured"
    handler = Handler(db, blobs, settings, accepted)
    context = tls_context(settings)
    loop = asyncio.get_running_loop()

    def protocol() -> Any:
        return SMTP(
            handler,
            data_size_limit=settings.smtp_max_bytes,
            enable_SMTPUTF8=True,
            hostname=HOSTNAME,
            tls_context=context,
            loop=loop,
        )

    server = await loop.create_server(protocol, host=settings.smtp_host, port=settings.smtp_port)
    logger.info("SMTP on %s:%s", settings.smtp_host, settings.smtp_port)
    return server
