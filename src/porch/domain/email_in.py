"""Email that comes in: accepted as raw bytes, written into a conversation afterwards.

Mail arrives by SMTP (``channels/email/smtp_server.py``), from an MTA's pipe (``porch deliver``)
or from an IMAP mailbox (``channels/email/imap.py``). Each way only *accepts* it: the raw message
goes into the blob store (durably) and one intake row per channel it is for is committed, and
only then is the sender told it was taken (SMTP 250, exit status 0, the IMAP position moved).
The intake worker parses, threads and writes it later from that stored copy
(``receive_email``), so a crash between the two never loses a message, and a message that
cannot be parsed is still kept whole.
"""

from __future__ import annotations

import html
import secrets
from dataclasses import dataclass
from typing import Any

import orjson

from porch.channels.email import mime
from porch.channels.email.addresses import conversation_of_token, split_plus, uid_of_message_id
from porch.channels.email.threading import named_ids, normalized_subject, strip_prefixes
from porch.domain.message_contacts import KnownContacts, find_or_create_contact, normalise_handle
from porch.domain.message_writes import Incoming, Person, new_conversation, write_message
from porch.events import log
from porch.storage import BlobStore
from porch.store import conversations as conversations_store
from porch.store import crud
from porch.store import email_messages as email_store
from porch.store import email_threads as threads_store
from porch.store import intake as intake_store
from porch.store import messages as store
from porch.store import secrets as secrets_store
from porch.store import teammates as teammates_store
from porch.store.attachments import StoredFile
from porch.store.channels import Channel
from porch.store.conversations import Conversation
from porch.store.db import Connection
from porch.store.inboxes import Inbox
from porch.store.tables import messages as messages_table
from porch.store.teammates import Teammate
from porch.timeutil import now_ms

KIND = "email"
VIAS = ("smtp", "pipe", "imap")


@dataclass(frozen=True, slots=True)
class EmailPayload:
    """What the intake keeps of an accepted email (as JSON)."""

    # The raw message: its sha256 in the blob store, and its size in bytes.
    raw: str
    size: int
    # How it came: smtp, pipe or imap.
    via: str
    # The SMTP envelope: the reverse path and the recipient this copy is for (a reply address
    # such as support+r.<token>@… names the conversation it answers). None when unknown.
    mail_from: str | None
    rcpt: str | None
    # When it was accepted (ms).
    at: int
    # The IMAP mailbox it was read from (imap only).
    mailbox: str | None = None


async def store_raw(blobs: BlobStore, raw: bytes) -> str:
    """Put the raw message in the blob store, durably; its sha256."""
    return await blobs.put(raw)


async def enqueue_raw(
    tx: Connection,
    *,
    company_id: int,
    channel_id: int,
    sha256: str,
    size: int,
    via: str,
    mail_from: str | None,
    rcpt: str | None,
    at: int | None = None,
    mailbox: str | None = None,
) -> str:
    """Queue a stored raw message (see ``store_raw``) for the channel, in ``tx``; the
    message_uid it will have. Callers commit ``tx`` before telling the sender it was taken."""
    if via not in VIAS:
        raise ValueError(f"via must be one of {VIAS}")
    uid = secrets.token_hex(16)
    at = now_ms() if at is None else at
    payload = EmailPayload(
        raw=sha256, size=size, via=via, mail_from=mail_from, rcpt=rcpt, at=at, mailbox=mailbox
    )
    source = log.Source("imap", None) if via == "imap" else log.Source("inboxes", None)
    await intake_store.add(
        tx,
        company_id=company_id,
        channel_id=channel_id,
        kind=KIND,
        uid=uid,
        source_type=source.type,
        source_id=source.id,
        payload=orjson.dumps(payload).decode(),
        received_at=at,
    )
    return uid


# --- Writing an accepted email ---------------------------------------------------------------

# The subject fallback joins a conversation of the same contact only if it was active this
# recently.
SUBJECT_WINDOW_MS = 14 * 86_400_000
# Where a message without any sender is filed.
UNKNOWN_SENDER = "unknown-sender@invalid"


class Unreadable(Exception):
    """An intake row whose raw message is not in the blob store (kept, marked failed)."""


@dataclass(frozen=True, slots=True)
class Placed:
    """Where an email goes: a conversation (None for a new one) and why, for the docs' table."""

    conversation: Conversation | None
    rule: str


async def receive_email(
    tx: Connection,
    *,
    blobs: BlobStore,
    company_id: int,
    source: log.Source,
    channel: Channel,
    inbox: Inbox,
    uid: str,
    payload: EmailPayload,
    known: KnownContacts | None = None,
) -> store.Message | None:
    """Write an accepted email (see ``enqueue_raw``) from its stored raw form: parsed, threaded
    as docs/email-threading.md says, with its files, under the uid it was given. None when it
    becomes no message: a bounce of a message Porch sent (recorded on that message), or a copy
    of a message already stored."""
    try:
        raw = await blobs.open(payload.raw)
    except FileNotFoundError as exc:
        raise Unreadable(f"the raw message {payload.raw} is not in the blob store") from exc
    parsed = mime.parse(raw)
    if parsed.report is not None and await _bounced(tx, company_id=company_id, parsed=parsed):
        return None
    if parsed.message_id and await email_store.duplicate_of(
        tx, company_id=company_id, inbox_id=inbox.id, rfc_id=parsed.message_id
    ):
        return None
    sender = parsed.from_ or parsed.sender
    if sender is None or not sender.address.strip():
        sender = mime.Address(None, (payload.mail_from or "").strip() or UNKNOWN_SENDER)
    sender_handle = normalise_handle("email", sender.address)
    author = await _author(tx, company_id=company_id, channel=channel, handle=sender_handle)
    sent_copy = _from_sent_mailbox(channel, payload) or sender_handle in _own(channel)
    contact: int | None = None
    is_new_contact = False
    if not sent_copy and author is None:
        contact, is_new_contact = await find_or_create_contact(
            tx,
            company_id=company_id,
            source="email",
            handle=sender.address,
            name=sender.name,
            known=known,
        )
    placed = await _place(
        tx,
        company_id=company_id,
        inbox=inbox,
        parsed=parsed,
        payload=payload,
        sender=sender_handle,
        contact=None if is_new_contact else contact,
    )
    # A teammate writing from their own client is answering when the mail threads into a
    # conversation, or when the inbox only got a blind copy; else they write to the team.
    outbound = sent_copy or (
        author is not None
        and (placed.conversation is not None or not _addressed_to(parsed, channel))
    )
    if author is not None and not outbound:
        contact, _ = await find_or_create_contact(
            tx,
            company_id=company_id,
            source="email",
            handle=sender.address,
            name=sender.name,
            known=known,
        )
    conv = placed.conversation
    is_new = conv is None
    at = payload.at
    if conv is None:
        conv = await new_conversation(
            tx,
            company_id=company_id,
            source=source,
            inbox=inbox,
            subject=parsed.subject,
            state="open",
            at=at,
        )
    files = [
        StoredFile(
            a.filename,
            a.content_type,
            len(a.data),
            await blobs.put(a.data),
            a.inline,
            a.content_id,
        )
        for a in parsed.attachments
    ]
    msg = Incoming(
        type="email",
        source="email",
        is_inbound=not outbound,
        sender=Person(sender.address, sender.name),
        sender_has_contact=not outbound,
        to=[Person(a.address, a.name) for a in parsed.to],
        cc=[Person(a.address, a.name) for a in parsed.cc],
        bcc=[Person(a.address, a.name) for a in parsed.bcc],
        subject=parsed.subject,
        body=parsed.html if parsed.html is not None else _text_html(parsed.text),
        body_format="html",
        thread_ref=None,
        external_id=None,
        metadata={"email": _metadata(parsed, payload, placed.rule)},
        at=at,
        author_id=author.id if (author is not None and outbound) else None,
        text=parsed.text,
    )
    written = await write_message(
        tx,
        company_id=company_id,
        source=source,
        conv=conv,
        is_new=is_new,
        msg=msg,
        channel_id=channel.id,
        inbox_id=inbox.id,
        state=None if outbound else "open",
        files=files,
        sender_contact=contact if not outbound else None,
        uid=uid,
        known=known,
    )
    await email_store.add(
        tx,
        company_id=company_id,
        message_id=written.id,
        rfc_id=parsed.message_id,
        raw_sha256=payload.raw,
        raw_size=payload.size,
    )
    if parsed.notes:
        # The message may show less than was sent: say so where the log is read.
        await log.append(
            tx,
            company_id=company_id,
            type="email_parse_fallback",
            source=source,
            target_type="message",
            target_id=written.id,
            conversation_id=conv.id,
            data={"notes": list(parsed.notes), "raw_sha256": payload.raw},
        )
    return written


def _own(channel: Channel) -> set[str]:
    """The channel's own addresses (mail from them is the team's)."""
    return {a.strip().lower() for a in (channel.address, channel.send_as) if a}


def _from_sent_mailbox(channel: Channel, payload: EmailPayload) -> bool:
    imap = channel.settings.get("imap") or {}
    sent = imap.get("sent_mailbox") if isinstance(imap, dict) else None
    return bool(sent) and payload.via == "imap" and payload.mailbox == sent


def _addressed_to(parsed: mime.ParsedEmail, channel: Channel) -> bool:
    """Whether the channel is in the email's To or Cc (not only a blind copy)."""
    own = _own(channel)
    return any(split_plus(a.address)[0] in own for a in (*parsed.to, *parsed.cc))


async def _author(
    tx: Connection, *, company_id: int, channel: Channel, handle: str
) -> Teammate | None:
    if handle in _own(channel):
        return None
    return await teammates_store.by_email(tx, company_id=company_id, email=handle)


def _text_html(text: str) -> str:
    """A plain text body as the HTML Front's ``body`` is."""
    return "<div>" + html.escape(text).replace("\n", "<br>\n") + "</div>"


def _metadata(parsed: mime.ParsedEmail, payload: EmailPayload, rule: str) -> dict[str, Any]:
    out: dict[str, Any] = {"via": payload.via, "thread": rule}
    if parsed.auto_submitted:
        out["auto_submitted"] = True
    if parsed.is_list:
        out["is_list"] = True
    if payload.mailbox:
        out["mailbox"] = payload.mailbox
    if parsed.notes:
        out["notes"] = list(parsed.notes)
    return out


async def _follow(tx: Connection, *, company_id: int, key: int) -> Conversation | None:
    conv = await conversations_store.get(tx, company_id=company_id, key=key)
    for _ in range(100):
        if conv is None or conv.merged_into_id is None:
            break
        conv = await conversations_store.get(tx, company_id=company_id, key=conv.merged_into_id)
    return conv


async def _place(
    tx: Connection,
    *,
    company_id: int,
    inbox: Inbox,
    parsed: mime.ParsedEmail,
    payload: EmailPayload,
    sender: str,
    contact: int | None,
) -> Placed:
    """The decision table of docs/email-threading.md, in its order."""
    # 1. A reply address names its conversation (signed, so it cannot be guessed).
    if payload.rcpt:
        _, tag = split_plus(payload.rcpt)
        secret = await secrets_store.get(tx, company_id=company_id, purpose="reply_token")
        if tag and secret is not None:
            key = conversation_of_token(secret, company_id, tag)
            conv = await _follow(tx, company_id=company_id, key=key) if key else None
            if conv is not None:
                return Placed(conv, "reply address")
    # 2. The Message-IDs it names: Porch's own by uid, the others as stored.
    named = named_ids(parsed)
    if named:
        found = await _by_headers(tx, company_id=company_id, named=named, sender=sender)
        if found is not None:
            return found
    # 3. The subject, only for the same contact, recently, and only for a reply or forward.
    stripped, replied, forwarded = strip_prefixes(parsed.subject)
    if contact is not None and (replied or forwarded) and stripped.strip():
        wanted = normalized_subject(parsed.subject)
        since = payload.at - SUBJECT_WINDOW_MS
        for key, subject in await threads_store.recent_with_contact(
            tx, company_id=company_id, inbox_id=inbox.id, contact_id=contact, since=since
        ):
            if normalized_subject(subject) == wanted:
                conv = await _follow(tx, company_id=company_id, key=key)
                if conv is not None:
                    return Placed(conv, "subject and contact")
    return Placed(None, "new")


async def _by_headers(
    tx: Connection, *, company_id: int, named: list[str], sender: str
) -> Placed | None:
    """The conversation of the first named Message-ID Porch knows, unless the sender only got a
    blind copy of that message and takes no part in the conversation (a newsletter's readers
    answering each for themselves)."""
    hits: dict[str, tuple[int, int]] = {}
    others = []
    for rfc_id in named:
        own = uid_of_message_id(rfc_id)
        if own is not None:
            msg = await store.by_uid(tx, company_id=company_id, uid=own)
            if msg is not None and not msg.is_draft:
                hits.setdefault(rfc_id, (msg.id, msg.conversation_id))
                continue
        others.append(rfc_id)
    # Newest first, so that a Message-ID stored twice (a copy in two inboxes) names the latest.
    for known in reversed(
        await email_store.messages_with_rfc_ids(tx, company_id=company_id, rfc_ids=others)
    ):
        hits.setdefault(known.rfc_id, (known.message_id, known.conversation_id))
    for rfc_id in named:
        if rfc_id not in hits:
            continue
        message_key, conv_key = hits[rfc_id]
        conv = await _follow(tx, company_id=company_id, key=conv_key)
        if conv is None:
            continue
        if await _blind_reader(
            tx, company_id=company_id, conv=conv, message=message_key, who=sender
        ):
            return Placed(None, "blind copy reader")
        return Placed(conv, "in-reply-to" if rfc_id in named[:1] else "references")
    return None


async def _blind_reader(
    tx: Connection, *, company_id: int, conv: Conversation, message: int, who: str
) -> bool:
    """Whether ``who`` got ``message`` as a blind copy and is nowhere else in ``conv``."""
    rows = (await store.recipients_of(tx, company_id=company_id, keys=[message])).get(message, [])
    if not any(r["role"] == "bcc" and r["handle"] == who for r in rows):
        return False
    return who not in await threads_store.participants(
        tx, company_id=company_id, conversation_id=conv.id
    )


async def _bounced(tx: Connection, *, company_id: int, parsed: mime.ParsedEmail) -> bool:
    """Record a delivery report on the message it reports on, if Porch sent that message:
    a permanent failure marks it failed and logs Front's ``message_bounce_error``. True when
    the report was about one of Porch's messages (it then becomes no message of its own)."""
    report = parsed.report
    if report is None or not report.original_message_id:
        return False
    own = uid_of_message_id(report.original_message_id)
    original = await store.by_uid(tx, company_id=company_id, uid=own) if own else None
    if original is None:
        return False
    if report.permanent:
        await crud.update(
            tx,
            messages_table,
            company_id=company_id,
            key=original.id,
            delivery_status="failed",
            error_type="bounce",
        )
        await log.append(
            tx,
            company_id=company_id,
            type="message_bounce_error",
            source=log.Source("inboxes", None),
            target_type="message",
            target_id=original.id,
            conversation_id=original.conversation_id,
            data={"recipients": list(report.recipients), "status": report.status},
        )
    return True
