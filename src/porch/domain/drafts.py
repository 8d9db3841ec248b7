"""Drafts: messages not yet sent, written on a channel and kept in a conversation.

A draft is a message row with ``is_draft`` set: outbound, authored (by the teammate named, else
the API bot), in ``private`` (the default) or ``shared`` mode, with an opaque ``version`` that
changes on every edit. An edit or a delete must name the current version; a stale one is a 409
and changes nothing. A draft's mode only ever goes from private to shared.

Who sees a draft: a shared draft, whoever sees its conversation; a private draft, besides that,
only the token that created it and tokens holding the private namespace (an API token has no
teammate of its own to be "the author"). Anyone else gets a 404, as for a missing draft.

A draft's files (sent with it as ``multipart/form-data``) are attachments owned as ``draft``; an
edit keeps them (Front's edit takes no files) and a delete removes them.

Drafts are never among a conversation's messages, never its recipient, and never bump its
activity. They emit the Porch events ``draft_created``, ``draft_updated`` and ``draft_deleted``
(Front has no draft event).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

import orjson

from porch import ids
from porch.domain import teammates
from porch.domain.errors import BadRequest, Conflict, not_found
from porch.domain.message_contacts import check_handle
from porch.domain.message_text import blurb, check_body, plain_text
from porch.domain.message_writes import new_conversation
from porch.domain.messages import MessageView, views
from porch.domain.principal import Principal
from porch.events import log
from porch.store import attachments as attachments_store
from porch.store import conversations as conversations_store
from porch.store import crud
from porch.store import inboxes as inboxes_store
from porch.store import messages as store
from porch.store.attachments import StoredFile
from porch.store.channels import Channel
from porch.store.conversations import Conversation
from porch.store.db import Connection, Database, Reader
from porch.store.tables import messages
from porch.timeutil import now_ms

# The message type a draft on each kind of channel will be sent as.
CHANNEL_MESSAGE_TYPES = {"custom": "custom", "smtp": "email", "twilio": "sms"}
MODES = ("private", "shared")
# Draft bodies are HTML, as Front's composer writes them.
BODY_FORMAT = "html"


@dataclass(frozen=True, slots=True)
class Recipients:
    """The handles a draft will be sent to."""

    to: list[str]
    cc: list[str]
    bcc: list[str]


def _new_version() -> str:
    return secrets.token_hex(12)


def sees_draft(principal: Principal, draft: store.Message) -> bool:
    """Whether the caller, who sees the draft's conversation, may see the draft itself."""
    if draft.draft_mode == "shared" or principal.private:
        return True
    creator = draft.meta.get("draft_token_id")
    return creator is not None and creator == principal.token_id


async def access_draft(conn: Reader, *, principal: Principal, ref: str) -> store.Message:
    """The draft ``ref`` (``msg_...``) names if the caller sees it; NotFound otherwise (also
    for a message that is not a draft)."""
    key = ids.decode(ids.MESSAGE, ref)
    found = None
    if key is not None:
        found = await store.get(conn, company_id=principal.company_id, key=key)
    if found is not None and (not found.is_draft or not sees_draft(principal, found)):
        found = None
    if found is not None:
        conv = await conversations_store.get_visible(
            conn,
            company_id=principal.company_id,
            key=found.conversation_id,
            vis=principal.visibility(),
        )
        if conv is None:
            found = None
    if found is None:
        raise not_found("draft", ref)
    return found


async def list_drafts(
    conn: Reader, *, principal: Principal, conversation: Conversation
) -> list[MessageView]:
    """The drafts of a conversation the caller sees, oldest first."""
    rows = await store.drafts_of(
        conn, company_id=principal.company_id, conversation_id=conversation.id
    )
    return await views(
        conn, principal=principal, msgs=[m for m in rows if sees_draft(principal, m)]
    )


def check_draft(*, body: str, recipients: Recipients | None, channel: Channel) -> None:
    check_body(body)
    if recipients is not None:
        for handle in [*recipients.to, *recipients.cc, *recipients.bcc]:
            check_handle(handle)
    if channel.type not in CHANNEL_MESSAGE_TYPES:
        raise BadRequest(f"Drafts cannot be written on a {channel.type} channel")


async def _write_recipients(
    tx: Connection, *, company_id: int, key: int, channel: Channel, recipients: Recipients
) -> None:
    # A draft names handles only: contacts are created when a message is really sent.
    people: list[tuple[str, str]] = []
    sender = channel.send_as or channel.address
    if sender:
        people.append(("from", sender))
    for role, handles in (("to", recipients.to), ("cc", recipients.cc), ("bcc", recipients.bcc)):
        people += [(role, h.strip()) for h in handles]
    for position, (role, handle) in enumerate(people):
        await store.add_recipient(
            tx,
            company_id=company_id,
            message_id=key,
            position=position,
            contact_id=None,
            handle=handle,
            name=None,
            role=role,
        )


async def do_create_draft(
    db: Database,
    *,
    principal: Principal,
    channel: Channel,
    conversation: Conversation | None,
    author_ref: str | None,
    recipients: Recipients,
    subject: str | None,
    body: str,
    mode: str,
    files: Sequence[StoredFile] = (),
) -> store.Message:
    """Write a draft on ``channel`` into ``conversation`` (a reply draft), or into a new
    conversation of the channel's inbox when it is None, with ``files`` (already in the blob
    store) attached, and return it."""
    check_draft(body=body, recipients=recipients, channel=channel)
    if mode not in MODES:
        raise BadRequest("mode must be private or shared")
    company_id = principal.company_id
    at = now_ms()
    async with db.transaction() as tx:
        if author_ref is not None:
            author_id = (
                await teammates.access_teammate(tx, principal=principal, ref=author_ref)
            ).id
        else:
            author_id = await teammates.api_author(tx, principal=principal)
        conv = conversation
        if conv is None:
            inbox = await inboxes_store.get(tx, company_id=company_id, key=channel.inbox_id)
            if inbox is None:
                raise not_found("channel", ids.encode(ids.CHANNEL, channel.id))
            conv = await new_conversation(
                tx,
                company_id=company_id,
                source=log.source_of(principal),
                inbox=inbox,
                subject=subject or "",
                state="open",
                at=at,
            )
        text = plain_text(body, BODY_FORMAT)
        key = await crud.insert(
            tx,
            messages,
            company_id=company_id,
            conversation_id=conv.id,
            uid=secrets.token_hex(16),
            type=CHANNEL_MESSAGE_TYPES[channel.type],
            is_inbound=False,
            is_draft=True,
            author_id=author_id,
            subject=subject if subject is not None else conv.subject,
            body=body,
            text=text,
            blurb=blurb(text),
            external_id=None,
            thread_ref=None,
            created_at=at,
            channel_id=channel.id,
            inbox_id=channel.inbox_id,
            metadata=orjson.dumps({"draft_token_id": principal.token_id}).decode(),
            draft_mode=mode,
            version=_new_version(),
            delivery_status=None,
            error_type=None,
        )
        await _write_recipients(
            tx, company_id=company_id, key=key, channel=channel, recipients=recipients
        )
        await attachments_store.insert(
            tx,
            company_id=company_id,
            owner_type=attachments_store.DRAFT,
            owner_id=key,
            files=files,
            now=at,
        )
        await log.append(
            tx,
            company_id=company_id,
            type="draft_created",
            source=log.source_of(principal),
            target_type="message",
            target_id=key,
            conversation_id=conv.id,
            data={"mode": mode},
        )
        written = await store.get(tx, company_id=company_id, key=key)
    assert written is not None
    return written


async def do_edit_draft(
    db: Database,
    *,
    principal: Principal,
    draft: store.Message,
    channel: Channel,
    author_ref: str | None,
    recipients: Recipients | None,
    subject: str | None,
    body: str,
    version: str,
    mode: str | None,
) -> store.Message:
    """Rewrite a draft whose current version is ``version`` (409 otherwise, nothing changed):
    its channel, body, and the subject, recipients and mode given. Recipients given replace
    all of them; a shared draft cannot become private again."""
    check_draft(body=body, recipients=recipients, channel=channel)
    new_mode = draft.draft_mode or "private"
    if mode is not None:
        if mode not in MODES:
            raise BadRequest("mode can only be shared")
        if mode == "private" and new_mode == "shared":
            raise BadRequest("A shared draft cannot become private")
        new_mode = mode
    company_id = principal.company_id
    text = plain_text(body, BODY_FORMAT)
    async with db.transaction() as tx:
        if author_ref is not None:
            # The author is who the edit is made on behalf of; the draft keeps its author.
            await teammates.access_teammate(tx, principal=principal, ref=author_ref)
        changed = await store.set_draft(
            tx,
            company_id=company_id,
            key=draft.id,
            old_version=version,
            new_version=_new_version(),
            channel_id=channel.id,
            inbox_id=channel.inbox_id,
            type=CHANNEL_MESSAGE_TYPES[channel.type],
            subject=subject if subject is not None else draft.subject,
            body=body,
            text=text,
            blurb=blurb(text),
            draft_mode=new_mode,
        )
        if not changed:
            raise Conflict("The draft has changed since this version: fetch it again")
        if recipients is None:
            # Keep the handles, but the sender follows the channel.
            old = (await store.recipients_of(tx, company_id=company_id, keys=[draft.id])).get(
                draft.id, []
            )
            recipients = Recipients(
                to=[r["handle"] for r in old if r["role"] == "to"],
                cc=[r["handle"] for r in old if r["role"] == "cc"],
                bcc=[r["handle"] for r in old if r["role"] == "bcc"],
            )
        await store.drop_recipients(tx, company_id=company_id, key=draft.id)
        await _write_recipients(
            tx, company_id=company_id, key=draft.id, channel=channel, recipients=recipients
        )
        await log.append(
            tx,
            company_id=company_id,
            type="draft_updated",
            source=log.source_of(principal),
            target_type="message",
            target_id=draft.id,
            conversation_id=draft.conversation_id,
            data={"mode": new_mode},
        )
        written = await store.get(tx, company_id=company_id, key=draft.id)
    assert written is not None
    return written


async def do_delete_draft(
    db: Database, *, principal: Principal, draft: store.Message, version: str
) -> None:
    """Delete a draft whose current version is ``version`` (409 otherwise, nothing changed),
    and its attachments."""
    async with db.transaction() as tx:
        gone = await store.drop_draft(
            tx, company_id=principal.company_id, key=draft.id, version=version
        )
        if not gone:
            raise Conflict("The draft has changed since this version: fetch it again")
        await attachments_store.drop_of_owner(
            tx,
            company_id=principal.company_id,
            owner_type=attachments_store.DRAFT,
            owner_id=draft.id,
        )
        await log.append(
            tx,
            company_id=principal.company_id,
            type="draft_deleted",
            source=log.source_of(principal),
            target_type="message",
            target_id=draft.id,
            conversation_id=draft.conversation_id,
        )
