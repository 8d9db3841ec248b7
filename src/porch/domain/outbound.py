"""Sending: a message written by the company, stored before the answer and delivered later.

``do_send`` writes the message (outbound, ``delivery_status`` pending, authored by the named
teammate or the API bot), its recipients, the conversation changes (a new conversation for a
channel send, archive and tags by the options) and an ``outbox`` row, all in one transaction:
the 202 is only answered once delivery is durable. The outbound worker then delivers it (custom
channels: a POST to the channel's ``webhook_url``; email channels: the SMTP relay, see
``workers/email_out.py``).

On email channels the recipients must be email addresses, and a signature ends the stored body
(so the API shows what was sent): the one ``signature_id`` names, or with
``should_add_default_signature`` and an ``author_id`` the author's default signature for the
channel, else the default signature of the channel's team. A signature's ``sender_info`` is the
sender's name unless ``sender_name`` is given.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from porch import ids
from porch.channels.email.compose import html_of
from porch.domain import teammates
from porch.domain.conversations import move_state, retag, tag_keys
from porch.domain.errors import BadRequest, Forbidden, not_found
from porch.domain.message_contacts import check_handle
from porch.domain.message_text import check_body
from porch.domain.message_writes import Incoming, Person, new_conversation, write_message
from porch.domain.principal import Principal
from porch.domain.signatures import Owner, access_signature, list_signatures
from porch.events import log
from porch.store import channels as channels_store
from porch.store import crud
from porch.store import inboxes as inboxes_store
from porch.store import messages as store
from porch.store import outbox as outbox_store
from porch.store.attachments import StoredFile
from porch.store.channels import Channel
from porch.store.conversations import Conversation
from porch.store.db import Connection, Database
from porch.store.signatures import Signature
from porch.store.tables import conversations, messages, outbox
from porch.timeutil import now_ms

# How each channel type sends: (message type, handle source, outbox kind).
SENDERS = {"custom": ("custom", "custom", "custom_webhook"), "smtp": ("email", "email", "email")}


@dataclass(frozen=True, slots=True)
class Outgoing:
    """What a send request asks for, already parsed."""

    to: list[str]
    cc: list[str]
    bcc: list[str]
    sender_name: str | None
    subject: str | None
    author_ref: str | None
    body: str
    archive: bool
    tag_refs: list[str]
    signature_ref: str | None
    # Files sent with the message (already in the blob store): attached to the sent message.
    files: list[StoredFile] = field(default_factory=list)
    # should_add_default_signature: only with an author, only on email channels.
    default_signature: bool = False


def check_outgoing(out: Outgoing, channel: Channel) -> None:
    """Refuse what cannot be sent on ``channel`` before anything is written."""
    if channel.type not in SENDERS:
        raise BadRequest(f"Messages cannot be sent on {channel.type} channels through the API")
    if out.signature_ref is not None and channel.type != "smtp":
        raise Forbidden("Signatures are only supported on email channels")
    if not (out.to or out.cc or out.bcc):
        raise BadRequest("A message needs at least one recipient in to, cc or bcc")
    for handle in [*out.to, *out.cc, *out.bcc]:
        check_handle(handle)
        if channel.type == "smtp":
            teammates.check_email(handle)
    check_body(out.body)


def _fits(signature: Signature, channel: Channel) -> bool:
    return signature.channel_ids is None or channel.id in signature.channel_ids


async def _default_signature(
    db: Database, *, principal: Principal, owner: Owner, channel: Channel
) -> Signature | None:
    """The owner's default signature if it is for ``channel`` (and the token sees it)."""
    after = None
    for _ in range(100):  # bounded: an owner has a handful of signatures
        page, after = await list_signatures(
            db, principal=principal, owner=owner, after=after, limit=100, descending=False
        )
        for found in page:
            if found.is_default:
                return found if _fits(found, channel) else None
        if after is None:
            break
    return None


async def signature_for(
    db: Database, *, principal: Principal, channel: Channel, out: Outgoing
) -> Signature | None:
    """The signature ``out`` ends with on ``channel`` (see the module), if any; NotFound for a
    signature_id the token does not see, BadRequest for one restricted to other channels."""
    if channel.type != "smtp":
        return None
    if out.signature_ref is not None:
        signature = await access_signature(db, principal=principal, ref=out.signature_ref)
        if not _fits(signature, channel):
            raise BadRequest("This signature cannot be used on this channel")
        return signature
    if not out.default_signature or out.author_ref is None:
        return None
    author = await teammates.access_teammate(db, principal=principal, ref=out.author_ref)
    owners = [Owner(teammate_id=author.id)]
    if channel.team_id is not None:
        owners.append(Owner(team_id=channel.team_id))
    for owner in owners:
        found = await _default_signature(db, principal=principal, owner=owner, channel=channel)
        if found is not None:
            return found
    return None


def signed(out: Outgoing, signature: Signature | None) -> Outgoing:
    """``out`` with the signature after its body (both as HTML), and the signature's
    sender_info as the sender's name unless one was given."""
    if signature is None:
        return out
    body = f'{html_of(out.body)}<br>\n<div class="signature">{html_of(signature.body)}</div>'
    return replace(out, body=body, sender_name=out.sender_name or signature.sender_info)


async def reply_channel(
    db: Database, *, principal: Principal, conversation: Conversation, channel: Channel | None
) -> Channel:
    """The channel a reply leaves by: the one named, else that of the conversation's latest
    message; 400 when the conversation has none."""
    if channel is not None:
        return channel
    key = await outbox_store.latest_channel_of(
        db, company_id=principal.company_id, conversation_id=conversation.id
    )
    found = None
    if key is not None:
        found = await channels_store.get(db, company_id=principal.company_id, key=key)
    if found is None:
        raise BadRequest("This conversation has no channel to reply on: give channel_id")
    return found


async def do_send(
    db: Database,
    *,
    principal: Principal,
    channel: Channel,
    conversation: Conversation | None,
    out: Outgoing,
) -> store.Message:
    """Write ``out`` on ``channel`` (a new conversation in its inbox when ``conversation`` is
    None) with its outbox row, in one transaction, and return the stored message."""
    check_outgoing(out, channel)
    out = signed(out, await signature_for(db, principal=principal, channel=channel, out=out))
    msg_type, source, kind = SENDERS[channel.type]
    company_id = principal.company_id
    async with db.transaction() as tx:
        inbox = await inboxes_store.get(tx, company_id=company_id, key=channel.inbox_id)
        if inbox is None:
            raise not_found("channel", ids.encode(ids.CHANNEL, channel.id))
        if out.author_ref is not None:
            author = await teammates.access_teammate(tx, principal=principal, ref=out.author_ref)
            author_id = author.id
        else:
            author_id = await teammates.api_author(tx, principal=principal)
        wanted_tags = await tag_keys(tx, principal=principal, refs_=out.tag_refs)
        at = now_ms()
        subject = out.subject if out.subject is not None else ""
        is_new = conversation is None
        if conversation is None:
            conv = await new_conversation(
                tx,
                company_id=principal.company_id,
                source=log.source_of(principal),
                inbox=inbox,
                subject=subject,
                state="open",
                at=at,
            )
        else:
            conv = conversation
            if out.subject is None:
                subject = conv.subject or ""
        written = await write_message(
            tx,
            company_id=principal.company_id,
            source=log.source_of(principal),
            conv=conv,
            is_new=is_new,
            msg=Incoming(
                type=msg_type,
                source=source,
                is_inbound=False,
                # The company sends: its address is the sender, not a contact.
                sender=Person(
                    channel.send_as or channel.address or ids.encode(ids.CHANNEL, channel.id),
                    out.sender_name,
                ),
                sender_has_contact=False,
                to=[Person(h) for h in out.to],
                cc=[Person(h) for h in out.cc],
                bcc=[Person(h) for h in out.bcc],
                subject=subject,
                body=out.body,
                body_format="html" if channel.type == "smtp" else "markdown",
                thread_ref=None,
                external_id=None,
                # A rule's reply is automatic: email marks it Auto-Submitted, a partner channel
                # gets it as message_autoreply.
                metadata={"auto": True} if principal.rule_id is not None else {},
                at=at,
                author_id=author_id,
            ),
            channel_id=channel.id,
            inbox_id=inbox.id,
            state=None,
            files=out.files,
        )
        await crud.update(
            tx, messages, company_id=company_id, key=written.id, delivery_status="pending"
        )
        await crud.insert(
            tx,
            outbox,
            company_id=company_id,
            message_id=written.id,
            channel_id=channel.id,
            kind=kind,
            state="pending",
            attempts=0,
            next_attempt_at=at,
            last_error=None,
            created_at=at,
            updated_at=at,
        )
        await _after_send(tx, principal=principal, conv=conv, out=out, tag_keys=wanted_tags, at=at)
        final = await store.get(tx, company_id=company_id, key=written.id)
        assert final is not None
        return final


async def _after_send(
    tx: Connection,
    *,
    principal: Principal,
    conv: Conversation,
    out: Outgoing,
    tag_keys: list[int],
    at: int,
) -> None:
    """The options: tag the conversation, then archive it (an open one) when asked."""
    source = log.source_of(principal)
    await retag(tx, conv=conv, add=tag_keys, remove=[], source=source)
    if out.archive and conv.state == "open":
        values = await move_state(tx, conv=conv, state="archived", source=source, now=at)
        await crud.update(tx, conversations, company_id=conv.company_id, key=conv.id, **values)
