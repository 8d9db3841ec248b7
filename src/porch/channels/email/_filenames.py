"""Attachment filenames: read from RFC 2231 parameters, RFC 2047 words or raw 8-bit bytes, then
made safe to show and to save (no directories, no control or direction characters, never empty).
"""

from __future__ import annotations

import re
import unicodedata
from email.message import Message

from porch.channels.email import _charsets, _headers

# Names for parts that come without one.
DEFAULT_NAMES = {
    "text/calendar": "invite.ics",
    "application/ms-tnef": "winmail.dat",
    "application/vnd.ms-tnef": "winmail.dat",
    "message/rfc822": "message.eml",
    "message/delivery-status": "delivery-status.txt",
    "message/global-delivery-status": "delivery-status.txt",
    "message/disposition-notification": "disposition-notification.txt",
    "text/rfc822-headers": "returned-headers.txt",
    "application/pgp-signature": "signature.asc",
    "application/pkcs7-signature": "smime.p7s",
    "application/x-pkcs7-signature": "smime.p7s",
}
_EXTENSIONS = {
    "application/octet-stream": ".bin", "application/pdf": ".pdf", "application/zip": ".zip",
    "application/json": ".json", "image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif",
    "image/webp": ".webp", "image/bmp": ".bmp", "image/tiff": ".tif", "image/svg+xml": ".svg",
    "text/plain": ".txt", "text/html": ".html", "text/csv": ".csv", "message/global": ".eml",
}  # fmt: skip
# Controls, format characters (the right-to-left override that makes "exe.txt" of "txt.exe"),
# lone surrogates, line and paragraph separators.
_UNSAFE = {"Cc", "Cf", "Cs", "Zl", "Zp"}
_SEPARATORS = re.compile(r"[/\\]")


def filename_of(
    part: Message, name: str | tuple[str, str, str] | None, notes: list[str]
) -> str | None:
    """The filename a part gives (Content-Disposition filename, else ``name``, the Content-Type
    parameter), decoded but not yet safe; None when it gives none."""
    value = part.get_param("filename", None, "content-disposition")
    if value is None:
        value = name
    if value is None:
        return None
    if isinstance(value, tuple):  # RFC 2231: (charset, language, octets as latin-1 characters)
        charset, _language, encoded = value
        try:
            data = str(encoded).encode("latin-1", "surrogateescape")
        except UnicodeEncodeError:
            return _charsets.decode_8bit(str(encoded), notes)
        return _charsets.decode(data, charset or None, notes, "filename")
    return _headers.decode_words(_headers.unfold(value), notes)


def safe_filename(name: str, content_type: str) -> str:
    """``name`` without directories or unsafe characters, at most 200 characters; when nothing
    is left, a name from the content type ("attachment.pdf", "invite.ics")."""
    name = "".join(ch for ch in name if unicodedata.category(ch) not in _UNSAFE)
    name = next((piece for piece in reversed(_SEPARATORS.split(name)) if piece.strip()), "")
    name = name.strip().strip(".").strip()
    if len(name) > 200:
        stem, dot, extension = name.rpartition(".")
        name = stem[:180] + dot + extension if dot and len(extension) < 20 else name[:200]
    if name:
        return name
    return DEFAULT_NAMES.get(content_type) or "attachment" + _EXTENSIONS.get(content_type, "")
