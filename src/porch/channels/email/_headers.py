"""Header values as parsed by the compat32 parser (folded, 8-bit bytes as surrogate escapes)
turned into text: RFC 2047 encoded-words, addresses, Message-IDs and dates."""

from __future__ import annotations

import binascii
import re
from datetime import UTC, datetime
from email.utils import getaddresses, parsedate_to_datetime

from porch.channels.email import _charsets

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?]*)\?=")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_CONTROLS = re.compile(r"[\x00-\x1f\x7f]+")
_RUNS_OF_SPACE = re.compile(r"  +")
_B64_JUNK = re.compile(rb"[^A-Za-z0-9+/]")


def b64decode(data: bytes, notes: list[str], what: str) -> bytes:
    """Base64 as mail clients read it: junk skipped, missing or excess padding forgiven."""
    try:
        return binascii.a2b_base64(data)
    except binascii.Error:
        pass
    cleaned = _B64_JUNK.sub(b"", data)
    if len(cleaned) % 4 == 1:
        cleaned = cleaned[:-1]
    notes.append(f"{what} has invalid base64 (bad padding or truncated).")
    return binascii.a2b_base64(cleaned + b"=" * (-len(cleaned) % 4))


def unfold(value: str) -> str:
    return _LINE_BREAK.sub("", value)


def text(value: str | None, notes: list[str]) -> str:
    """A header as one line of text: unfolded, encoded-words decoded, controls and runs of
    spaces collapsed."""
    if not value:
        return ""
    decoded = decode_words(unfold(value), notes)
    return _RUNS_OF_SPACE.sub(" ", _CONTROLS.sub(" ", decoded)).strip()


def decode_words(value: str, notes: list[str]) -> str:
    """Decode RFC 2047 encoded-words in ``value`` (unfolded). Adjacent encoded-words are joined
    without the whitespace between them, and their bytes are joined before decoding when they
    share a charset (a character may be split between two words). A word that cannot be decoded
    is kept as written."""
    if "=?" not in value:
        return _charsets.decode_8bit(value, notes)
    # Each piece: (charset, bytes) for encoded-words, (None, text) for the rest.
    pieces: list[tuple[str | None, bytes | str]] = []
    position = 0
    for match in _ENCODED_WORD.finditer(value):
        literal = value[position : match.start()]
        position = match.end()
        after_word = bool(pieces) and pieces[-1][0] is not None
        if literal and not (after_word and literal.isspace()):
            pieces.append((None, _charsets.decode_8bit(literal, notes)))
        charset = match.group(1).split("*", 1)[0].lower()
        try:
            encoded = match.group(3).encode("ascii", "surrogateescape")
        except UnicodeEncodeError:
            pieces.append((None, match.group()))
            continue
        if match.group(2) in "qQ":
            data = binascii.a2b_qp(encoded, header=True)
        else:
            data = b64decode(encoded, notes, "A header")
        previous = pieces[-1] if pieces else None
        if previous is not None and previous[0] == charset and isinstance(previous[1], bytes):
            pieces[-1] = (charset, previous[1] + data)
        else:
            pieces.append((charset, data))
    rest = value[position:]
    if rest:
        pieces.append((None, _charsets.decode_8bit(rest, notes)))
    return "".join(
        part if isinstance(part, str) else _charsets.decode(part, charset, notes, "header")
        for charset, part in pieces
    )


_ATOM = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_ADDR_SPEC = _ATOM + "(?:[.]" + _ATOM + ")*@[A-Za-z0-9-]+(?:[.][A-Za-z0-9-]+)*"
_WORD = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+"
# One mailbox in the forms getaddresses reads the same way: "addr", "Name <addr>",
# "\"Name, Quoted\" <addr>" (no comments, escapes, groups or 8-bit bytes). Words of the name
# are separated by whitespace and end on a non-space, so that matching stays linear.
_SIMPLE_MAILBOX = re.compile(
    r"[ \t]*(?:(" + _ADDR_SPEC + r')|(?:"([^"\\\r\n]*)"|(' + _WORD + "(?:[ \t]+" + _WORD + ")*)?)"
    r"[ \t]*<(" + _ADDR_SPEC + r")>)[ \t]*"
)
# getaddresses takes about 7 µs a character of hostile input (and recurses on nested comments).
_MAX_ADDRESS_TEXT = 128 * 1024


def addresses(values: list[str], notes: list[str]) -> list[tuple[str | None, str]]:
    """(display name, address) of the mailboxes of address headers; empty and invalid entries
    (and group names) dropped."""
    found: list[tuple[str | None, str]] = []
    if not values:
        return found
    simple = _SIMPLE_MAILBOX.fullmatch(values[0]) if len(values) == 1 else None
    if simple is not None:  # the usual From and To: what getaddresses gives, 10 times cheaper
        bare, quoted, phrase, angled = simple.groups()
        name = text(quoted if quoted is not None else phrase, notes)
        return [(name or None, bare or angled)]
    unfolded = [unfold(value) for value in values]
    if sum(map(len, unfolded)) > _MAX_ADDRESS_TEXT:
        notes.append("An address header is longer than 128 KB; only its start was read.")
        unfolded = [", ".join(unfolded)[:_MAX_ADDRESS_TEXT]]
    try:
        pairs = getaddresses(unfolded)
    except RecursionError:
        notes.append("An address header could not be read.")
        return found
    for name, address in pairs:
        address = _charsets.decode_8bit(address, notes).strip().strip("<>").strip()
        local, at, domain = address.rpartition("@")
        if not (at and local and domain) or _CONTROLS.search(address) or " " in address:
            continue
        display = text(name, notes) if name else ""
        found.append((display or None, address))
    return found
    simple = _SIMPLE_MAILBOX.fullmatch(values[0]) if len(values) == 1 else None
    if simple is not None:  # the usual From and To: what getaddresses gives, 10 times cheaper
        bare, quoted, phrase, angled = simple.groups()
        name = text(quoted if quoted is not None else phrase, notes)
        return [(name or None, bare or angled)]
    for name, address in getaddresses([unfold(value) for value in values]):
        address = _charsets.decode_8bit(address, notes).strip().strip("<>").strip()
        local, at, domain = address.rpartition("@")
        if not (at and local and domain) or _CONTROLS.search(address) or " " in address:
            continue
        display = text(name, notes) if name else ""
        found.append((display or None, address))
    return found


_ANGLED = re.compile(r"<([^<>]*)>")


def token(value: str) -> str:
    """``value`` without whitespace or control characters (ids, addresses of reports)."""
    return "".join(_CONTROLS.sub("", value).split())


def message_id(value: str | None) -> str | None:
    if not value:
        return None
    angled = _ANGLED.search(value)
    return token(angled.group(1) if angled else value) or None


def message_ids(value: str | None, *, loose: bool = False) -> tuple[str, ...]:
    """The Message-IDs of References or In-Reply-To, in order, once each. ``loose``: Outlook
    writes In-Reply-To with text around the id; then only ``<…@…>`` tokens count."""
    if not value:
        return ()
    tokens = _ANGLED.findall(value)
    if loose:
        tokens = [candidate for candidate in tokens if "@" in candidate]
        if not tokens and "@" in value and len(value.split()) == 1:
            tokens = [value]
    elif not tokens:
        tokens = value.replace(",", " ").split()
    found = (token(candidate) for candidate in tokens)
    return tuple(dict.fromkeys(candidate for candidate in found if candidate))


def date(value: str | None, notes: list[str]) -> datetime | None:
    if not value or not value.strip():
        return None
    try:
        when = parsedate_to_datetime(unfold(value))
    except (TypeError, ValueError, IndexError, OverflowError):
        notes.append("The Date header could not be read.")
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)
