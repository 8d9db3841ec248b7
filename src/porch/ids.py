"""Front-style public ids.

Internal keys are integers; the public id is a type prefix plus the base-36 form of the key
(``tag_2oxhvy``), which is how Front's own API ids relate to its UI's numeric ids. Decoding
never raises: an id of the wrong prefix or with foreign characters is simply unknown.
"""

from __future__ import annotations

from functools import lru_cache

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
# Keys are positive 63-bit integers; 13 base-36 digits cover them with room to spare.
_MAX_DIGITS = 13
_MAX_KEY = 2**63 - 1

COMPANY = "cmp"
TEAM = "tim"
TEAMMATE = "tea"
TEAMMATE_GROUP = "cir"
INBOX = "inb"
CHANNEL = "cha"
CONVERSATION = "cnv"
MESSAGE = "msg"
COMMENT = "com"
CONTACT = "crd"
CONTACT_LIST = "grp"
ACCOUNT = "acc"
TAG = "tag"
LINK = "top"
CUSTOM_FIELD = "fld"
EVENT = "evt"
STATUS = "sts"
SIGNATURE = "sig"
FILE = "fil"
TOKEN = "tok"  # noqa: S105 - an id prefix, not a secret
MESSAGE_TEMPLATE = "rsp"
MESSAGE_TEMPLATE_FOLDER = "rsf"
OAUTH_GRANT = "oag"
RULE = "rul"


@lru_cache(maxsize=65536)
def encode(prefix: str, key: int) -> str:
    """Return the public id of the row ``key`` of the kind ``prefix``."""
    if key <= 0:
        raise ValueError(f"keys are positive, got {key}")
    digits = []
    while key:
        key, rem = divmod(key, 36)
        digits.append(_DIGITS[rem])
    return prefix + "_" + "".join(reversed(digits))


def decode(prefix: str, public_id: str) -> int | None:
    """Return the integer key of ``public_id`` if it is a well-formed id of kind ``prefix``."""
    head, sep, tail = public_id.partition("_")
    if not sep or head != prefix or not tail or len(tail) > _MAX_DIGITS:
        return None
    if not tail.isascii() or not tail.isalnum() or tail != tail.lower():
        return None
    key = int(tail, 36)
    if key <= 0 or key > _MAX_KEY:
        return None
    return key
