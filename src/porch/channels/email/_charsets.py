"""Decoding text whose charset label may be missing, misspelt, unknown or a lie.

Labels are mapped the way mail clients and browsers map them (latin-1 and us-ascii read as
windows-1252, gb2312 as gb18030, ks_c_5601-1987 as cp949…); text that the label cannot decode is
tried as UTF-8, then read with replacement characters, and each guess leaves a note.
"""

from __future__ import annotations

import codecs
import re
from functools import lru_cache


def _c1_as_latin1(error: UnicodeError) -> tuple[str, int]:
    # The five bytes windows-1252 leaves undefined become the C1 controls, as browsers do.
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return error.object[error.start : error.end].decode("latin-1"), error.end


codecs.register_error("porch-c1", _c1_as_latin1)

_ASCII = ("ascii",)
_WESTERN = ("cp1252",)
_ALIASES: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(
        ("us-ascii", "ascii", "us", "ansi_x3.4-1968", "iso646-us", "csascii", "646"), _ASCII
    ),
    **dict.fromkeys(
        (
            "iso-8859-1",
            "iso8859-1",
            "iso_8859-1",
            "iso8859_1",
            "latin1",
            "latin-1",
            "l1",
            "cp819",
            "ibm819",
            "iso-ir-100",
            "csisolatin1",
            "windows-1252",
            "cp1252",
            "x-cp1252",
            "win-1252",
            "ansi",
            "iso_8859-1:1987",
        ),
        _WESTERN,
    ),
    **dict.fromkeys(
        ("utf8", "utf-8", "unicode-1-1-utf-8", "unicode-2-0-utf-8", "x-unicode20utf8", "x-utf-8"),
        ("utf-8",),
    ),
    **dict.fromkeys(
        (
            "utf-7",
            "utf7",
            "unicode-1-1-utf-7",
            "unicode-2-0-utf-7",
            "x-unicode-2-0-utf-7",
            "csunicode11utf7",
        ),
        ("utf-7",),
    ),  # fmt: skip
    **dict.fromkeys(("utf-16", "utf16", "ucs-2", "unicode", "csunicode"), ("utf-16",)),
    **dict.fromkeys(
        (
            "ks_c_5601-1987",
            "ks_c_5601-1989",
            "ks_c_5601",
            "ksc5601",
            "ksc_5601",
            "euc-kr",
            "euckr",
            "korean",
            "csksc56011987",
            "iso-ir-149",
            "windows-949",
            "cp949",
            "x-euc-kr",
            "cseuckr",
            "uhc",
        ),
        ("cp949",),
    ),  # fmt: skip
    **dict.fromkeys(
        (
            "gb2312",
            "gb_2312",
            "gb_2312-80",
            "csgb2312",
            "chinese",
            "euc-cn",
            "x-euc-cn",
            "gbk",
            "x-gbk",
            "cp936",
            "windows-936",
            "ms936",
            "iso-ir-58",
            "csiso58gb231280",
            "gb18030",
        ),
        ("gb18030",),
    ),  # fmt: skip
    **dict.fromkeys(
        (
            "big5",
            "big-5",
            "cn-big5",
            "csbig5",
            "x-x-big5",
            "x-big5",
            "cp950",
            "windows-950",
            "big5-hkscs",
            "big5hkscs",
        ),
        ("cp950", "big5hkscs"),
    ),  # fmt: skip
    **dict.fromkeys(
        (
            "shift_jis",
            "shift-jis",
            "sjis",
            "x-sjis",
            "ms_kanji",
            "csshiftjis",
            "windows-31j",
            "cp932",
            "x-ms-cp932",
            "ms932",
            "shift_jisx0213",
        ),
        ("cp932", "shift_jis_2004"),
    ),  # fmt: skip
    **dict.fromkeys(
        ("euc-jp", "x-euc-jp", "eucjp", "cseucpkdfmtjapanese"), ("euc_jp", "euc_jis_2004")
    ),
    **dict.fromkeys(
        (
            "iso-2022-jp",
            "csiso2022jp",
            "iso2022jp",
            "iso-2022-jp-1",
            "iso-2022-jp-2",
            "iso-2022-jp-3",
        ),
        ("iso2022_jp_2", "iso2022_jp_ext", "iso2022_jp_2004"),
    ),  # fmt: skip
    **dict.fromkeys(
        ("windows-874", "x-windows-874", "dos-874", "tis-620", "iso-8859-11", "iso8859-11"),
        ("cp874",),
    ),
    **dict.fromkeys(("x-mac-roman", "mac", "macintosh", "csmacintosh", "x-mac"), ("mac_roman",)),
    **dict.fromkeys(("iso-8859-8-i", "iso-8859-8-e", "logical", "visual"), ("iso8859_8",)),
    **dict.fromkeys(("iso-8859-6-i", "iso-8859-6-e"), ("iso8859_6",)),
    **dict.fromkeys(("koi8-r", "koi8", "cskoi8r", "koi"), ("koi8_r",)),
    **dict.fromkeys(("koi8-u", "koi8-ru"), ("koi8_u",)),
}
# Labels that say "we do not know": no note beyond the guess itself.
_UNKNOWN = {"unknown-8bit", "unknown", "x-unknown", "x-user-defined", "default", "8bit", "none"}
# Codecs that Python finds under a label but that are not charsets anyone means.
_REFUSED = {"unicode-escape", "raw-unicode-escape", "idna", "punycode", "undefined", "mbcs", "oem"}
_TOKEN = re.compile(r"[a-z0-9._:+-]+")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_UNPRINTABLE = re.compile(r"[^\x20-\x7e]")


@lru_cache(maxsize=512)
def resolve(label: str) -> tuple[str, ...] | None:
    """The codecs to try for a charset ``label``, or None when it names nothing we know."""
    found = _TOKEN.search(label.lower())
    if found is None:
        return None
    token = found.group().strip("._:+-")
    if token in _ALIASES:
        return _ALIASES[token]
    candidates = [token, token.removeprefix("x-"), token.replace("_", "-")]
    if token.startswith("x-mac-"):
        candidates.insert(0, "mac_" + token[6:])
    for candidate in candidates:
        try:
            info = codecs.lookup(candidate)
        except (LookupError, ValueError):
            continue
        if info._is_text_encoding and info.name not in _REFUSED:
            return (info.name,)
    return None


def decode(data: bytes, label: str | None, notes: list[str], what: str = "text") -> str:
    """``data`` as text, read with the charset ``label`` names (see the module)."""
    names = resolve(label) if label else None
    shown = _UNPRINTABLE.sub("?", (label or "").strip()[:40])
    if names is None:
        if shown and shown.lower() not in _UNKNOWN:
            notes.append(f"The {what} is in an unknown charset ('{shown}').")
        return _guess(data, notes, what, f" (labelled {shown})" if shown else "")
    if names in (_ASCII, _WESTERN):
        if data.isascii():
            return data.decode("ascii")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            if names == _ASCII:
                notes.append(f"The {what} has 8-bit bytes although labelled ASCII.")
            return data.decode("cp1252", "porch-c1")
        notes.append(f"The {what} is UTF-8 although labelled {shown}.")
        return text
    if names[0] == "utf-16":
        # Without a single zero byte it cannot be UTF-16 (of any text with ASCII in it).
        names = (_utf16_variant(data),) if b"\x00" in data else ()
    for name in names:
        try:
            text = data.decode(name)
        except UnicodeDecodeError:
            continue
        # UTF-7 (at least) decodes to lone surrogates, which no UTF-8 encoder accepts.
        return _LONE_SURROGATE.sub("\ufffd", text)
    if not names or names[0] == "utf-8":
        return _guess(data, notes, what, f" (labelled {shown})")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        notes.append(f"Some bytes of the {what} are not valid {shown}; replaced.")
        return data.decode(names[0], "replace")
    notes.append(f"The {what} is UTF-8 although labelled {shown}.")
    return text


def _guess(data: bytes, notes: list[str], what: str, labelled: str) -> str:
    # UTF-8 if it is; UTF-8 with a few damaged bytes if most of it is; windows-1252 otherwise.
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8", "replace")
    if not text.replace("\ufffd", "").isascii():
        notes.append(f"Some bytes of the {what} are not valid UTF-8{labelled}; replaced.")
        return text
    notes.append(f"The {what} is not UTF-8{labelled}; read as Windows-1252.")
    return data.decode("cp1252", "porch-c1")


def _utf16_variant(data: bytes) -> str:
    if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return "utf-16"
    sample = data[:2000]
    # Mostly-Latin text has its zero bytes first in big-endian order, second in little-endian.
    return "utf-16-be" if sample[0::2].count(0) > sample[1::2].count(0) else "utf-16-le"


def decode_8bit(value: str, notes: list[str]) -> str:
    """A header value whose raw 8-bit bytes are surrogate escapes: UTF-8, else windows-1252."""
    if value.isascii():
        return value
    try:
        data = value.encode("ascii", "surrogateescape")
    except UnicodeEncodeError:  # already text, not from the parser: keep it, minus surrogates
        return _LONE_SURROGATE.sub("\ufffd", value)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        notes.append("A header has 8-bit bytes that are not UTF-8; read as Windows-1252.")
        return data.decode("cp1252", "porch-c1")
