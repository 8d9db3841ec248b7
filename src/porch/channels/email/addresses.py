"""Porch's own Message-IDs and the reply addresses of conversations.

Every message Porch sends by email gets the Message-ID ``<porch.<message_uid>@<domain>>``, the
domain being the sending channel's: a reply naming it in In-Reply-To or References finds the
message, and through it its conversation, by its uid alone, whatever else the reply lost.

A conversation may also be answered through a reply address, ``<local>+r.<token>@<domain>`` for
the channel ``<local>@<domain>``: the token names the conversation and is signed with a secret
of the company (HMAC-SHA256, 12 hex characters), so a stranger cannot write into a conversation
by guessing an address. Inbound mail to any ``<local>+<tag>@<domain>`` is for the channel
``<local>@<domain>``.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from porch import ids

_OWN_ID = re.compile(r"porch\.([0-9a-f]{32})@", re.IGNORECASE)
_TOKEN = re.compile(r"r\.([0-9a-z]+)\.([0-9a-f]{12})")
MAC_LENGTH = 12


def message_id_for(uid: str, domain: str) -> str:
    """The Message-ID (without angle brackets) of the message ``uid`` sent from ``domain``."""
    return f"porch.{uid}@{domain}"


def uid_of_message_id(rfc_id: str) -> str | None:
    """The message_uid inside one of Porch's own Message-IDs, else None."""
    found = _OWN_ID.match(rfc_id.strip().strip("<>"))
    return found.group(1).lower() if found else None


def domain_of(address: str) -> str:
    return address.rpartition("@")[2].lower()


def split_plus(address: str) -> tuple[str, str | None]:
    """``local+tag@domain`` → (``local@domain``, ``tag``); no tag → (address, None). The
    address comes back lower-cased."""
    local, at, domain = address.strip().lower().rpartition("@")
    if not at:
        return address.strip().lower(), None
    base, plus, tag = local.partition("+")
    return f"{base}@{domain}", (tag if plus and tag else None)


def _mac(secret: bytes, company_id: int, conversation_id: int) -> str:
    msg = f"{company_id}.{conversation_id}".encode()
    return hmac.new(secret, msg, hashlib.sha256).hexdigest()[:MAC_LENGTH]


def reply_token(secret: bytes, company_id: int, conversation_id: int) -> str:
    """The plus-tag that names ``conversation_id`` in a reply address."""
    key = ids.encode(ids.CONVERSATION, conversation_id).partition("_")[2]
    return f"r.{key}.{_mac(secret, company_id, conversation_id)}"


def reply_address(channel_address: str, token: str) -> str:
    local, _, domain = channel_address.strip().lower().rpartition("@")
    return f"{local}+{token}@{domain}"


def conversation_of_token(secret: bytes, company_id: int, tag: str) -> int | None:
    """The conversation key a plus-tag names, if it is a reply token signed for the company."""
    found = _TOKEN.fullmatch(tag.strip().lower())
    if found is None:
        return None
    key = ids.decode(ids.CONVERSATION, f"{ids.CONVERSATION}_{found.group(1)}")
    if key is None:
        return None
    if not hmac.compare_digest(found.group(2), _mac(secret, company_id, key)):
        return None
    return key
