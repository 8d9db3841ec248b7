"""Parsing email as it really arrives (RFC 5322 / MIME), never failing.

``parse(raw)`` returns a ``ParsedEmail`` for any bytes at all: broken boundaries, truncated
messages, unknown or mislabelled charsets, RFC 2047/2231 headers, nested multiparts, Outlook's
winmail.dat, calendar invitations, inline images. What it had to guess is listed in ``notes``
(each a short English sentence), so that the message can say its text may be incomplete; the raw
bytes are kept by the caller whatever happens here.

The stdlib parser runs with the compat32 policy, 20 times cheaper than ``policy.default``, and
headers, charsets and transfer encodings are decoded here (``_headers``, ``_charsets``). At most
``MAX_PARTS`` parts and ``MAX_DEPTH`` levels of nesting are read. The text body is the first
text/plain of the structure (in multipart/alternative, the plain alternative), else the text of
the HTML (``_html``); the HTML body is the richest text/html, sanitised with nh3.
"""

from __future__ import annotations

import base64
import quopri
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email import errors
from email.message import Message

from porch.channels.email import _charsets, _filenames, _headers, _html, _parts

MAX_PARTS = 100
MAX_DEPTH = 20


@dataclass(frozen=True, slots=True)
class Address:
    """A mailbox of an address header: the display name (decoded) and the address as written."""

    name: str | None
    address: str


@dataclass(frozen=True, slots=True)
class Attachment:
    """A part kept as a file: attachments proper, inline images (``content_id`` set, without
    angle brackets), winmail.dat, calendar invitations."""

    filename: str
    content_type: str
    data: bytes
    content_id: str | None = None
    inline: bool = False


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """A delivery status notification (multipart/report; report-type=delivery-status): the
    Message-ID of the message it reports on (from the returned headers), the failed
    recipients and the status code (e.g. ``5.1.1``), and whether the failure is permanent."""

    original_message_id: str | None
    recipients: tuple[str, ...]
    status: str | None
    permanent: bool


@dataclass(frozen=True, slots=True)
class ParsedEmail:
    # Message-IDs are given without angle brackets, as written.
    message_id: str | None
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    subject: str
    from_: Address | None
    sender: Address | None
    reply_to: tuple[Address, ...]
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    bcc: tuple[Address, ...]
    date: datetime | None
    # The plain text body (from text/plain, else derived from the HTML), and the HTML body
    # sanitised for display (None when the message has none).
    text: str
    html: str | None
    attachments: tuple[Attachment, ...]
    # Auto-Submitted other than "no", Precedence bulk/junk/list, X-Autoreply and friends: mail
    # no automatic reply may answer.
    auto_submitted: bool
    # List-Id or List-Unsubscribe: mail from a mailing list or newsletter.
    is_list: bool
    report: DeliveryReport | None
    # Headers worth keeping with the message (name as written → decoded value).
    headers: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


def parse(raw: bytes) -> ParsedEmail:
    """Parse ``raw`` (see the module); never raises."""
    try:
        return _parse(raw)
    except Exception as exc:  # the promise is "never raises": keep the text, say what happened
        return _unreadable(raw, exc)


def sanitize_html(html: str) -> str:
    """HTML safe to show in a browser: no scripts, handlers, forms or remote-loading tricks."""
    return _html.sanitize(html)


# Headers kept with the message (compared lower-cased).
_KEPT = (
    "message-id", "in-reply-to", "references", "auto-submitted", "precedence", "list-id",
    "list-unsubscribe", "x-mailer", "user-agent", "thread-index", "thread-topic", "return-path",
    "x-auto-response-suppress",
)  # fmt: skip
_KEPT_LENGTH = 4000
_SINGLE = {"from": "From", "subject": "Subject", "date": "Date", "message-id": "Message-ID"}
_DEFECTS: dict[type[errors.MessageDefect], str] = {
    errors.NoBoundaryInMultipartDefect: "A multipart part has no boundary parameter.",
    errors.StartBoundaryNotFoundDefect: "A multipart part's boundary never appears in it.",
    errors.CloseBoundaryNotFoundDefect: (
        "A multipart part is never closed: the message may be truncated."
    ),
    errors.MissingHeaderBodySeparatorDefect: (
        "A header block does not end with a blank line; the rest was read as the body."
    ),
    errors.FirstHeaderLineIsContinuationDefect: "The message starts with a folded header line.",
    errors.MisplacedEnvelopeHeaderDefect: "A 'From ' envelope line is among the headers.",
}
_PRECEDENCE_AUTO = {"bulk", "junk", "list", "auto_reply", "auto-reply"}
_SUPPRESS_AUTO = {"all", "oof", "autoreply"}
_BOUNDARY = re.compile(rb"[0-9A-Za-z'()+_,./:=?-][0-9A-Za-z'()+_,./:=? -]{0,69}")
_META_CHARSET = re.compile(
    rb"<meta[^>]{0,200}?charset\s*=\s*[\"']?\s*([A-Za-z0-9._:-]{1,40})", re.I
)
_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")
_STATUS = re.compile(r"\b([245]\.\d{1,3}\.\d{1,3})\b")
_MAX_SUBJECT = 1000


def _parse(raw: bytes) -> ParsedEmail:
    raw = bytes(raw)
    notes: list[str] = []
    if not raw.strip():
        return _empty(("The message is empty.",))
    guess = True
    try:
        message = _parts.PARSER.parsebytes(raw)
    except RecursionError:
        notes.append("The message is nested too deeply to read its parts; shown as text.")
        message = _parts.PARSER.parsebytes(raw, headersonly=True)
        guess = False

    fields: dict[str, list[tuple[str, str]]] = {}
    for name, value in message.raw_items():
        fields.setdefault(name.lower(), []).append((name, value))

    def first(name: str) -> str | None:
        found = fields.get(name)
        return _charsets.decode_8bit(found[0][1], notes) if found else None

    def every(name: str) -> list[str]:
        return [value for _, value in fields.get(name, ())]

    for name, spelt in _SINGLE.items():
        if len(fields.get(name, ())) > 1:
            notes.append(f"The message has {len(fields[name])} {spelt} headers; the first is used.")
    senders = _addresses(every("from")[:1], notes)
    if not senders:
        notes.append("The message has no valid From address.")
    sender = _addresses(every("sender")[:1], notes)
    subject = _headers.text(fields["subject"][0][1], notes) if "subject" in fields else ""

    walker = _Walker(notes)
    texts, htmls = walker.walk(message, 0, guess)
    text = "\n".join(texts).replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    html_source = "\n".join(htmls) if htmls else None
    if "\x00" in text or (html_source and "\x00" in html_source):
        notes.append("The body has NUL bytes; they were removed.")
        text = text.replace("\x00", "")
        html_source = html_source and html_source.replace("\x00", "")
    if html_source is not None and not text.strip():
        text = _html.to_text(html_source)

    auto_submitted = message.get_content_type() == "multipart/report" or _is_automatic(first)
    kept = {
        fields[name][0][0]: _headers.text(fields[name][0][1], notes)[:_KEPT_LENGTH]
        for name in _KEPT
        if name in fields
    }
    return ParsedEmail(
        message_id=_headers.message_id(first("message-id")),
        in_reply_to=_headers.message_ids(first("in-reply-to"), loose=True),
        references=_headers.message_ids(first("references")),
        subject=subject[:_MAX_SUBJECT],
        from_=senders[0] if senders else None,
        sender=sender[0] if sender else None,
        reply_to=_addresses(every("reply-to"), notes),
        to=_addresses(every("to"), notes),
        cc=_addresses(every("cc"), notes),
        bcc=_addresses(every("bcc"), notes),
        date=_headers.date(first("date"), notes),
        text=text,
        html=sanitize_html(html_source) if html_source is not None else None,
        attachments=walker.attachments(html_source),
        auto_submitted=auto_submitted,
        is_list=bool((first("list-id") or "").strip() or (first("list-unsubscribe") or "").strip()),
        report=walker.report,
        headers=kept,
        notes=tuple(dict.fromkeys(notes)),
    )


def _addresses(values: list[str], notes: list[str]) -> tuple[Address, ...]:
    return tuple(Address(name, address) for name, address in _headers.addresses(values, notes))


def _is_automatic(first: Callable[[str], str | None]) -> bool:
    auto = (first("auto-submitted") or "").split(";")[0].strip().lower()
    if auto and auto != "no":
        return True
    if (first("precedence") or "").strip().lower() in _PRECEDENCE_AUTO:
        return True
    for name in ("x-autoreply", "x-autorespond", "x-autoresponder", "x-auto-reply"):
        value = first(name)
        if value is not None and value.strip().lower() not in ("no", "false", "0"):
            return True
    suppress = (first("x-auto-response-suppress") or "").replace(",", " ").lower().split()
    return (
        bool(_SUPPRESS_AUTO.intersection(suppress)) or (first("return-path") or "").strip() == "<>"
    )


@dataclass(slots=True)
class _Found:
    filename: str
    content_type: str
    data: bytes
    content_id: str | None
    inline: bool


class _Walker:
    """Walks the part tree once: the text and HTML bodies come back from ``walk``, attachments
    and the delivery report are collected on the way, and what went wrong goes to ``notes``."""

    def __init__(self, notes: list[str]) -> None:
        self.notes = notes
        self.found: list[_Found] = []
        self.report: DeliveryReport | None = None
        self.parts = 0
        self.cut = False

    def walk(self, part: Message, depth: int, guess: bool = True) -> tuple[list[str], list[str]]:
        self.parts += 1
        if self.parts > MAX_PARTS or depth > MAX_DEPTH:
            if not self.cut:
                self.notes.append(
                    f"The message has more than {MAX_PARTS} parts or {MAX_DEPTH} levels of"
                    " nesting; the rest was not read."
                )
                self.cut = True
            return [], []
        for defect in part.defects:
            note = _DEFECTS.get(type(defect))
            if note is not None:
                self.notes.append(note)
        try:
            content_type = part.get_content_type()
            if not _MEDIA_TYPE.fullmatch(content_type):
                content_type = "application/octet-stream"
            maintype, _, subtype = content_type.partition("/")
            if maintype == "multipart":
                return self._multipart(part, subtype, depth, guess)
            return self._leaf(part, content_type)
        except Exception as exc:
            self.notes.append(f"A part could not be read ({type(exc).__name__}); it was skipped.")
            return [], []

    def _multipart(
        self, part: Message, subtype: str, depth: int, guess: bool
    ) -> tuple[list[str], list[str]]:
        payload = _parts.stored(part)
        if not isinstance(payload, list):
            return self._without_parts(
                part, subtype, payload if isinstance(payload, str) else "", depth, guess
            )
        children = [child for child in payload if isinstance(child, Message)]
        results = []
        for child in children:
            if self.cut:
                break
            results.append(self.walk(child, depth + 1))
        if subtype == "report" and self.report is None:
            try:
                self.report = _delivery_report(children, self.notes)
            except Exception as exc:
                self.notes.append(f"The delivery report could not be read ({type(exc).__name__}).")
        if subtype == "alternative":
            # The alternatives come in the sender's order of preference, the richest last.
            texts = next((texts for texts, _ in results if texts), [])
            return texts, next((htmls for _, htmls in reversed(results) if htmls), [])
        return [t for texts, _ in results for t in texts], [
            h for _, htmls in results for h in htmls
        ]

    def _without_parts(
        self, part: Message, subtype: str, payload: str, depth: int, guess: bool
    ) -> tuple[list[str], list[str]]:
        # The boundary is missing or wrong. If the body has delimiter lines followed by part
        # headers, the parts are read with the boundary they show; otherwise it is text.
        data = _parts.encode(payload)
        boundary = _find_boundary(data) if guess else None
        if boundary is not None:
            self.notes.append("The parts were found by a boundary the Content-Type does not give.")
            kind = re.sub(r"[^a-z0-9.+-]", "", subtype) or "mixed"
            header = (
                f'Content-Type: multipart/{kind}; boundary="'.encode() + boundary + b'"\r\n\r\n'
            )
            return self.walk(_parts.PARSER.parsebytes(header + data), depth + 1, guess=False)
        return [_charsets.decode(data, part.get_content_charset(), self.notes)], []

    def _leaf(self, part: Message, content_type: str) -> tuple[list[str], list[str]]:
        disposition = part.get_content_disposition()
        params = _parts.type_params(part)
        filename = _filenames.filename_of(part, params.get("name"), self.notes)
        body = disposition != "attachment" and filename is None
        if not body or content_type not in ("text/plain", "text/html"):
            self._attach(part, content_type, disposition, filename)
            return [], []
        data = _parts.payload(part, self.notes)
        charset = params.get("charset")
        if isinstance(charset, tuple):  # RFC 2231 syntax, which a charset has no use for
            charset = charset[2]
        if content_type == "text/plain":
            return [_charsets.decode(data, charset, self.notes)], []
        if not charset:
            declared = _META_CHARSET.search(data[:4096])
            charset = declared.group(1).decode() if declared else None
        return [], [_charsets.decode(data, charset, self.notes, "HTML")]

    def _attach(
        self, part: Message, content_type: str, disposition: str | None, filename: str | None
    ) -> None:
        content_id = _headers.message_id(_charsets.decode_8bit(part.get("content-id", ""), []))
        payload = _parts.stored(part)
        if content_type in ("message/rfc822", "message/global") and isinstance(payload, list):
            inner = payload[0] if payload and isinstance(payload[0], Message) else None
            data = _parts.serialize(inner) if inner is not None else b""
            encoding = str(part.get("content-transfer-encoding", "")).strip().lower()
            if inner is not None and encoding in ("base64", "quoted-printable"):
                # RFC 2046 forbids encoding a message/rfc822 part, but some senders (swaks,
                # some webmails) base64 it: the parser then read base64 text as the message.
                data = _unwrap(data, encoding)
                inner = _parts.PARSER.parsebytes(data)
            if filename is None and inner is not None:
                subject = _headers.text(inner.get("subject"), self.notes)
                filename = re.sub(r"[/\\]", "-", subject[:100]) + ".eml" if subject else None
            content_type = "message/rfc822"
        elif isinstance(payload, list):  # message/delivery-status and other header blocks
            data = b"".join(
                _parts.serialize(block) for block in payload if isinstance(block, Message)
            )
        else:
            data = _parts.payload(part, self.notes)
        inline = content_id is not None and disposition == "inline"
        name = _filenames.safe_filename(filename or "", content_type)
        self.found.append(_Found(name, content_type, data, content_id, inline))

    def attachments(self, html: str | None) -> tuple[Attachment, ...]:
        # An image the HTML shows through cid: is inline whatever its Content-Disposition says.
        lowered = html.lower() if html else ""
        return tuple(
            Attachment(
                filename=found.filename,
                content_type=found.content_type,
                data=found.data,
                content_id=found.content_id,
                inline=found.inline
                or (found.content_id is not None and f"cid:{found.content_id.lower()}" in lowered),
            )
            for found in self.found
        )


def _unwrap(data: bytes, encoding: str) -> bytes:
    """The bytes of a message/rfc822 part its sender encoded anyway (see ``_attach``)."""
    text = data.lstrip()
    first = text.split(b"\n", 1)[0]
    if b":" in first:  # headers of the part's own, then the encoded message
        text = text.replace(b"\r\n", b"\n").partition(b"\n\n")[2]
    if encoding == "base64":
        return base64.b64decode(b"".join(text.split()) + b"==", validate=False)
    return quopri.decodestring(text)


def _find_boundary(data: bytes) -> bytes | None:
    lines = data[:65536].splitlines()
    for line, following in zip(lines, lines[1:], strict=False):
        if line.startswith(b"--") and following[:8].lower() == b"content-":
            candidate = line[2:].rstrip()
            if _BOUNDARY.fullmatch(candidate):
                return candidate
    return None


def _delivery_report(children: list[Message], notes: list[str]) -> DeliveryReport | None:
    """RFC 3464: the recipients, actions and statuses of message/delivery-status, and the
    Message-ID of the returned message or headers."""
    status_types = ("message/delivery-status", "message/global-delivery-status")
    status_part = next((c for c in children if c.get_content_type() in status_types), None)
    if status_part is None:
        return None
    payload = _parts.stored(status_part)
    blocks = (
        [block for block in payload if isinstance(block, Message)]
        if isinstance(payload, list)
        else []
    )
    if not isinstance(payload, list):  # encoded, or not header blocks at all: read it as text
        text = _parts.payload(status_part, notes).replace(b"\r\n", b"\n")
        blocks = [
            _parts.PARSER.parsebytes(chunk, headersonly=True) for chunk in text.split(b"\n\n")
        ]
    entries: list[tuple[str, str, str | None]] = []
    for block in blocks:
        recipient = _charsets.decode_8bit(
            block.get("final-recipient") or block.get("original-recipient") or "", notes
        )
        action = (block.get("action") or "").strip().lower()
        if not recipient and not action:
            continue
        address = recipient.partition(";")[2] if ";" in recipient else recipient
        status = _STATUS.search(block.get("status") or "")
        entries.append((_headers.token(address).strip("<>"), action, status and status.group(1)))
    failing = [entry for entry in entries if entry[1] in ("failed", "delayed")] or entries
    return DeliveryReport(
        original_message_id=_returned_message_id(children, notes),
        recipients=tuple(dict.fromkeys(address for address, _, _ in failing if address)),
        status=next((status for _, _, status in failing if status), None),
        # "failed" without a status code still means the server gave up.
        permanent=any(
            action == "failed" and (status is None or status.startswith("5"))
            for _, action, status in entries
        ),
    )


def _returned_message_id(children: list[Message], notes: list[str]) -> str | None:
    for child in children:
        content_type = child.get_content_type()
        payload = _parts.stored(child)
        if content_type in ("message/rfc822", "message/global") and isinstance(payload, list):
            headers = payload[0] if payload and isinstance(payload[0], Message) else None
        elif content_type in (
            "text/rfc822-headers",
            "message/rfc822-headers",
            "message/global-headers",
        ):
            headers = _parts.PARSER.parsebytes(_parts.payload(child, notes), headersonly=True)
        else:
            continue
        if headers is not None and headers.get("message-id"):
            return _headers.message_id(_charsets.decode_8bit(headers.get("message-id", ""), notes))
    return None


def _empty(notes: tuple[str, ...], text: str = "") -> ParsedEmail:
    return ParsedEmail(
        message_id=None, in_reply_to=(), references=(), subject="", from_=None, sender=None,
        reply_to=(), to=(), cc=(), bcc=(), date=None, text=text, html=None, attachments=(),
        auto_submitted=False, is_list=False, report=None, notes=notes,
    )  # fmt: skip


def _unreadable(raw: bytes, exc: Exception) -> ParsedEmail:
    try:
        text = bytes(raw).decode("utf-8", "replace").replace("\x00", "")
    except Exception:
        text = ""
    note = f"The message could not be parsed ({type(exc).__name__}); its raw text is shown."
    return _empty((note,), text)
