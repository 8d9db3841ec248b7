"""The stdlib parser as the MIME parser uses it, and the bodies of parts as bytes."""

from __future__ import annotations

import binascii
import io
from email.generator import BytesGenerator
from email.message import Message
from email.parser import BytesParser
from email.policy import Compat32

from porch.channels.email import _headers


class _RawPolicy(Compat32):
    """compat32 (about 20 times cheaper than ``email.policy.default``) handing header values out
    as parsed, 8-bit bytes as surrogate escapes, instead of wrapping them in ``Header`` objects
    that lose those bytes: we decode headers ourselves."""

    def header_fetch_parse(self, name: str, value: str) -> str:
        return value

    def header_source_parse(self, sourcelines: list[str]) -> tuple[str, str]:
        name, value = super().header_source_parse(sourcelines)
        # The stdlib reads parameters in quadratic time (the parser itself reads boundary=):
        # a megabyte of ";" would hold a thread for minutes. Real ones are far shorter.
        if len(value) > _MAX_PARAMETERS and name.lower() in _WITH_PARAMETERS:
            value = value[:_MAX_PARAMETERS]
        return name, value


_MAX_PARAMETERS = 4096
_WITH_PARAMETERS = ("content-type", "content-disposition")
POLICY = _RawPolicy()
# Serialising a forwarded message: CRLF throughout, headers written back as they came.
_OUTPUT_POLICY = POLICY.clone(linesep="\r\n", max_line_length=None)
PARSER = BytesParser(policy=POLICY)


def type_params(part: Message) -> dict[str, str | tuple[str, str, str]]:
    """The Content-Type parameters, read once (the stdlib parses the header again for each)."""
    value = part.get("content-type")
    if value is None:
        return {}
    if '"' in value or "*" in value or "\\" in value:  # quoting or RFC 2231: the stdlib's work
        return dict(part.get_params([], "content-type")[1:])
    pairs = (piece.partition("=") for piece in value.split(";")[1:])
    return {name.strip().lower(): param.strip() for name, _, param in pairs}


def stored(part: Message) -> object:
    # get_payload() decodes 8-bit bytes with a guessed charset, replacing what it cannot; the
    # stored payload still has them (as surrogate escapes).
    return getattr(part, "_payload", None)


def encode(payload: str) -> bytes:
    """The bytes of a stored payload (ASCII with 8-bit bytes as surrogate escapes)."""
    try:
        return payload.encode("ascii", "surrogateescape")
    except UnicodeEncodeError:  # not from the byte parser (cannot happen today); keep it all
        return payload.encode("utf-8", "surrogateescape")


def payload(part: Message, notes: list[str]) -> bytes:
    """The part's body with its Content-Transfer-Encoding undone."""
    body = stored(part)
    data = encode(body if isinstance(body, str) else "")
    encoding = (part.get("content-transfer-encoding") or "").lower().split(";")[0].strip()
    if encoding in ("", "7bit", "8bit", "binary"):
        return data
    if encoding == "quoted-printable":
        return binascii.a2b_qp(data)
    if encoding == "base64":
        return _headers.b64decode(data, notes, "A part")
    if encoding in ("x-uuencode", "uuencode", "x-uue", "uue"):
        decoded = part.get_payload(decode=True)
        return decoded if isinstance(decoded, bytes) else data
    notes.append(f"Unknown transfer encoding {encoding[:40]!r}; the part is shown undecoded.")
    return data


def serialize(message: Message) -> bytes:
    """A (forwarded) message as bytes again, headers as they came."""
    buffer = io.BytesIO()
    BytesGenerator(buffer, mangle_from_=False, policy=_OUTPUT_POLICY).flatten(message)
    return buffer.getvalue()
