"""An outbound message as the email that leaves (RFC 5322 / MIME): inputs in, bytes out.

``compose(mail)`` builds the bytes handed to the relay; ``envelope(mail)`` the recipients they
go to. Headers: ``From`` (the sender's name, RFC 2047-encoded when it is not ASCII, and the
channel's address), ``To``, ``Cc`` (never ``Bcc``: blind copies are in the envelope only),
``Reply-To`` when given, ``Subject``, ``Date`` (when the message was written), ``Message-ID``,
``In-Reply-To`` and ``References`` for a reply, ``MIME-Version`` and ``X-Mailer: Porch``.

The body is ``multipart/alternative``: the text, and the HTML (the body itself when it is HTML,
else the text escaped). Files the HTML names as ``cid:`` (by their Content-ID, else by their
file name) go with it into a ``multipart/related`` as inline parts; the others are attachments
of a ``multipart/mixed``. The MIME boundaries derive from the Message-ID, so composing the same
message again gives the same bytes (a retry sends what the first attempt kept).

Auto-reply loops. A message is *automatic* when nobody wrote it for this moment (a rule's
auto-reply: its metadata has ``"auto": true``). It goes out with ``Auto-Submitted:
auto-replied``, ``Precedence: auto_reply`` and ``X-Auto-Response-Suppress: All``, so that other
robots do not answer it, and it must never go to an address whose latest inbound message in the
conversation was itself automatic (``was_auto_submitted``): two robots would answer each other
for ever. ``loop_recipients`` names those addresses; it is pure, so the rules engine asks it
before it sends, and the email worker asks it again before anything leaves.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from typing import Any
from urllib.parse import unquote

MAILER = "Porch"
# RFC 5322 asks for the first Message-ID of the thread and as many recent ones as fit; 20 in
# all keeps the header short whatever the length of the conversation.
MAX_REFERENCES = 20
_MARKUP = re.compile(r"<[a-zA-Z!/][^>]*>|&(?:[a-zA-Z][a-zA-Z0-9]*|#[0-9]+|#x[0-9a-fA-F]+);")
_CID = re.compile(r"""cid:([^"'\s<>()]+)""", re.IGNORECASE)
_MIME_TYPE = re.compile(r"[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+")
# Precedence values of mail no robot should answer (RFC 3834 §2 and common practice).
_ROBOT_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}
_ROBOT_HEADERS = ("x-autoreply", "x-autorespond", "x-autoresponder")


class ComposeError(ValueError):
    """The message cannot be written as an email (an address that is none, say); sending it
    again will not help."""


@dataclass(frozen=True, slots=True)
class Mailbox:
    address: str
    name: str | None = None


@dataclass(frozen=True, slots=True)
class File:
    """A file sent with the message; ``cid`` is its Content-ID (without angle brackets), when
    it has one."""

    filename: str
    content_type: str
    data: bytes
    cid: str | None = None


@dataclass(frozen=True, slots=True)
class Mail:
    """Everything the email is made of. ``message_id``, ``in_reply_to`` and ``references``
    are Message-IDs without angle brackets; ``body`` is HTML or plain text."""

    message_id: str
    sender: Mailbox
    to: Sequence[Mailbox]
    cc: Sequence[Mailbox]
    bcc: Sequence[Mailbox]
    subject: str
    text: str
    body: str
    date: datetime
    in_reply_to: str | None = None
    references: Sequence[str] = ()
    reply_to: Mailbox | None = None
    files: Sequence[File] = ()
    automatic: bool = False


# --- Bodies ---------------------------------------------------------------------------------


def looks_like_html(body: str) -> bool:
    """Whether ``body`` has markup (a tag or an entity): plain text has neither."""
    return _MARKUP.search(body) is not None


def html_of(body: str) -> str:
    """``body`` as HTML: itself when it is HTML, else escaped with its line breaks kept."""
    if looks_like_html(body):
        return body
    return html.escape(body).replace("\r\n", "\n").replace("\n", "<br>\n")


# --- Threading and loops --------------------------------------------------------------------


def thread_headers(rfc_ids: Sequence[str]) -> tuple[str | None, tuple[str, ...]]:
    """In-Reply-To and References of a reply in a conversation whose earlier messages have
    ``rfc_ids`` (in order): the latest one, and the first with the latest ones."""
    if not rfc_ids:
        return None, ()
    refs = list(dict.fromkeys(rfc_ids))
    if len(refs) > MAX_REFERENCES:
        refs = refs[:1] + refs[-(MAX_REFERENCES - 1) :]
    return rfc_ids[-1], tuple(refs)


def is_automatic(metadata: Mapping[str, Any]) -> bool:
    """Whether an outbound message's metadata marks it as automatic (a rule's auto-reply)."""
    return metadata.get("auto") is True


def was_auto_submitted(metadata: Mapping[str, Any]) -> bool:
    """Whether an inbound message came from a robot or a mailing list (RFC 3834 §2): the email
    intake's ``auto_submitted`` or ``is_list`` flag, or, in the headers kept with it, an
    ``Auto-Submitted`` other than ``no``, a bulk, junk, list or auto_reply ``Precedence``, or
    an ``X-Autoreply``-like header."""
    if metadata.get("auto_submitted") is True or metadata.get("is_list") is True:
        return True
    headers = metadata.get("headers")
    if not isinstance(headers, Mapping):
        return False
    for name, value in headers.items():
        key = str(name).lower()
        text = str(value).strip().lower()
        if key == "auto-submitted" and text and text != "no":
            return True
        if key == "precedence" and text in _ROBOT_PRECEDENCE:
            return True
        if key in _ROBOT_HEADERS:
            return True
    return False


def loop_recipients(recipients: Iterable[str], inbound: Iterable[tuple[str, bool]]) -> set[str]:
    """The addresses among ``recipients`` an automatic message must not go to: those whose
    latest inbound message in the conversation was automatic. ``inbound`` is the
    conversation's inbound messages in order, each as (sender address, was_auto_submitted).
    Addresses compare case-insensitively; the result is lower-cased."""
    latest: dict[str, bool] = {}
    for address, automatic in inbound:
        latest[address.strip().lower()] = automatic
    return {a.strip().lower() for a in recipients if latest.get(a.strip().lower(), False)}


# --- The message ----------------------------------------------------------------------------


def envelope(mail: Mail) -> list[str]:
    """The envelope recipients: To, Cc and Bcc, each address once."""
    seen: dict[str, str] = {}
    for box in [*mail.to, *mail.cc, *mail.bcc]:
        seen.setdefault(box.address.strip().lower(), box.address.strip())
    return list(seen.values())


def _one_line(value: str) -> str:
    # A header value never holds a line break: one would start a header of the sender's choosing.
    return " ".join(value.split())


def _address(box: Mailbox) -> Address:
    try:
        return Address(display_name=_one_line(box.name or ""), addr_spec=box.address.strip())
    except (ValueError, IndexError) as exc:
        raise ComposeError(f"not an email address: {box.address!r}") from exc


def _media_type(content_type: str) -> tuple[str, str]:
    ctype = content_type.split(";", 1)[0].strip().lower()
    if _MIME_TYPE.fullmatch(ctype) is None or ctype.startswith(("multipart/", "message/")):
        # A container type would have to be MIME itself: ship its bytes opaque.
        ctype = "application/octet-stream"
    maintype, subtype = ctype.split("/", 1)
    return maintype, subtype


def _inline_cids(html_body: str, files: Sequence[File]) -> dict[int, str]:
    """The files the HTML shows by ``cid:`` (by position in ``files``), with their Content-ID."""
    # A cid: URL is the Content-ID percent-encoded (RFC 2392): each reference as decoded, and
    # as written, which is a valid Content-ID even when the file name it stands for is not.
    named = {unquote(found): found for found in _CID.findall(html_body)}
    inline: dict[int, str] = {}
    for i, f in enumerate(files):
        if f.cid and f.cid in named:
            inline[i] = f.cid
        elif f.filename in named:
            inline[i] = named[f.filename]
    return inline


def _headers(msg: EmailMessage, mail: Mail) -> None:
    msg["From"] = _address(mail.sender)
    if mail.to:
        msg["To"] = [_address(b) for b in mail.to]
    if mail.cc:
        msg["Cc"] = [_address(b) for b in mail.cc]
    if mail.reply_to is not None:
        msg["Reply-To"] = _address(mail.reply_to)
    if mail.subject.strip():
        msg["Subject"] = _one_line(mail.subject)
    msg["Date"] = format_datetime(mail.date)
    msg["Message-ID"] = f"<{mail.message_id}>"
    if mail.in_reply_to:
        msg["In-Reply-To"] = f"<{mail.in_reply_to}>"
    if mail.references:
        msg["References"] = " ".join(f"<{r}>" for r in mail.references)
    if mail.automatic:
        msg["Auto-Submitted"] = "auto-replied"
        msg["Precedence"] = "auto_reply"
        msg["X-Auto-Response-Suppress"] = "All"
    msg["X-Mailer"] = MAILER


def compose(mail: Mail) -> bytes:
    """The email's bytes (CRLF line ends, ASCII headers); ComposeError when it cannot be
    written."""
    if not (mail.to or mail.cc or mail.bcc):
        raise ComposeError("the message has no recipient")
    msg = EmailMessage(policy=SMTP)
    _headers(msg, mail)
    html_body = html_of(mail.body)
    msg.set_content(mail.text)
    msg.add_alternative(html_body, subtype="html")
    inline = _inline_cids(html_body, mail.files)
    if inline:
        [html_part] = [p for p in msg.iter_parts() if p.get_content_type() == "text/html"]
        for i, cid in inline.items():
            f = mail.files[i]
            maintype, subtype = _media_type(f.content_type)
            html_part.add_related(
                f.data,
                maintype=maintype,
                subtype=subtype,
                cid=f"<{cid}>",
                filename=f.filename,
                disposition="inline",
            )
    for i, f in enumerate(mail.files):
        if i in inline:
            continue
        maintype, subtype = _media_type(f.content_type)
        msg.add_attachment(
            f.data, maintype=maintype, subtype=subtype, filename=f.filename or "attachment"
        )
    # Parts made by the library carry a MIME-Version of their own; it belongs at the top only.
    # Boundaries come from the Message-ID rather than chance, so the same message is the same
    # bytes every time it is composed (a retry sends what the first attempt stored).
    seed = hashlib.sha256(mail.message_id.encode()).hexdigest()[:24]
    for n, part in enumerate(msg.walk()):
        if part is not msg:
            del part["MIME-Version"]
        if part.is_multipart():
            part.set_boundary(f"=_porch_{seed}_{n}")
    try:
        return msg.as_bytes(policy=SMTP)
    except (ValueError, UnicodeError) as exc:
        raise ComposeError(f"the message cannot be written as an email: {exc}") from exc
