"""A message as an email file (RFC 5322, ``message/rfc822``), as Front exports email messages.

Headers: ``From`` (the sender), ``To`` and ``Cc`` (Bcc is left out, as in the copy a recipient
receives), ``Subject``, ``Date`` (the message's time) and ``Message-ID``: the original one when
the stored metadata headers carry it, else ``<message_uid@porch.invalid>``, so the same message
always exports with the same id. The body is ``text/plain`` (the stored text) and, when the
stored body is HTML (it differs from its text), a ``text/html`` alternative. Each attachment is
a MIME part with its filename and content type, its bytes read from the blob store.

A message whose raw form is kept (``email_messages``: mail as received, or as handed to the
relay when Porch sent it) exports as exactly those bytes; the others are rendered as above.

Only email messages have this form; asking for it of any other type is a 406.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr
from typing import Any

from porch.domain.errors import PorchError
from porch.domain.messages import MessageView
from porch.storage import BlobStore
from porch.store import email_messages as email_store
from porch.store.db import Reader

MEDIA_TYPE = "message/rfc822"
# A Message-ID a client sent: one <id-left@id-right>, nothing around it.
_MESSAGE_ID = re.compile(r"<[^<>\s@]+@[^<>\s@]+>")
_MIME_TYPE = re.compile(r"[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+")


class NotAcceptable(PorchError):
    """The object exists, but not in the representation the ``Accept`` header asks for."""

    status = 406
    title = "Not acceptable"


def check_exportable(view: MessageView) -> None:
    if view.message.type != "email":
        raise NotAcceptable(
            f"Only email messages can be fetched as {MEDIA_TYPE}; "
            f"this message is of type {view.message.type!r}"
        )


def message_id(view: MessageView) -> str:
    """The message's Message-ID: the original one if it came with the message, else derived
    from its uid."""
    headers: Any = view.message.meta.get("headers")
    if isinstance(headers, dict):
        for name, value in headers.items():
            if name.lower() == "message-id" and isinstance(value, str):
                value = value.strip()
                if _MESSAGE_ID.fullmatch(value):
                    return value
    return f"<{view.message.uid}@porch.invalid>"


def _addresses(view: MessageView, role: str) -> str:
    return ", ".join(
        formataddr((r["name"] or "", r["handle"])) for r in view.recipients if r["role"] == role
    )


async def export(conn: Reader, blobs: BlobStore, *, view: MessageView) -> bytes:
    """The EML bytes of an email message (check_exportable first): the raw form when it is
    kept, else rendered."""
    m = view.message
    kept = await email_store.get(conn, company_id=m.company_id, message_id=m.id)
    if kept is not None and kept.raw_sha256:
        try:
            return await blobs.open(kept.raw_sha256)
        except FileNotFoundError:
            # The raw copy is gone from the blob store: the stored parts still say it all.
            pass
    return await render(blobs, view=view)


async def render(blobs: BlobStore, *, view: MessageView) -> bytes:
    """The EML bytes of an email message (check_exportable first)."""
    m = view.message
    eml = EmailMessage(policy=SMTP)
    for header, role in (("From", "from"), ("To", "to"), ("Cc", "cc")):
        value = _addresses(view, role)
        if value:
            eml[header] = value
    eml["Subject"] = m.subject
    eml["Date"] = format_datetime(datetime.fromtimestamp(m.created_at / 1000, UTC))
    eml["Message-ID"] = message_id(view)
    eml.set_content(m.text)
    if m.body != m.text:
        eml.add_alternative(m.body, subtype="html")
    for a in view.attachments:
        data = await blobs.open(a.sha256)
        ctype = a.content_type.split(";", 1)[0].strip()
        if _MIME_TYPE.fullmatch(ctype) is None or ctype.lower().startswith(
            ("multipart/", "message/")
        ):
            # A container type would have to be parsed as MIME itself: ship its bytes opaque.
            ctype = "application/octet-stream"
        maintype, subtype = ctype.lower().split("/", 1)
        extra: dict[str, Any] = {"cid": f"<{a.cid}>"} if a.cid else {}
        eml.add_attachment(
            data,
            maintype=maintype,
            subtype=subtype,
            filename=a.filename,
            disposition="inline" if a.is_inline else "attachment",
            **extra,
        )
    return eml.as_bytes(policy=SMTP)
