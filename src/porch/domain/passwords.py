"""Teammates' web sign-in passwords: scrypt with a random salt, checked in constant time.

Porch's only web page is the OAuth consent page, and it needs to know which teammate approves;
a password set by an administrator (``porch teammates set-password`` or the admin API) is the
smallest sound way to sign in. Hashing runs in a thread: scrypt costs tens of milliseconds of
CPU by design and must not stall the event loop.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets

from porch.domain.errors import BadRequest, NotFound
from porch.domain.principal import Principal
from porch.events import log
from porch.store import oauth as store
from porch.store import teammates
from porch.store.db import Database
from porch.timeutil import now_ms

# scrypt parameters (RFC 7914's interactive-login figures): 16 MiB of memory per hash.
_N, _R, _P = 2**14, 8, 1
MIN_LENGTH = 10
MAX_LENGTH = 1024
# Compared against when the email is unknown, so a wrong email costs as long as a wrong password.
_DUMMY = "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def hash_password(password: str) -> str:
    """``scrypt$n$r$p$salt$hash`` for ``password`` with a fresh 16-byte salt."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` hashes to ``stored`` (False for anything malformed)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


def check_password(password: str) -> None:
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise BadRequest(
            f"A password has between {MIN_LENGTH} and {MAX_LENGTH} characters",
            details=["password: wrong length"],
        )
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in password):
        # Nobody types a control character into a sign-in form.
        raise BadRequest(
            "A password may not contain control characters",
            details=["password: control character"],
        )


async def do_set_password(
    db: Database, *, principal: Principal, teammate_id: int, password: str
) -> None:
    """Set (or replace) a teammate's sign-in password; signs out their open sessions."""
    principal.require_provisioning()
    check_password(password)
    hashed = await asyncio.to_thread(hash_password, password)
    async with db.transaction() as tx:
        tm = await teammates.get(tx, company_id=principal.company_id, key=teammate_id)
        if tm is None:
            raise NotFound("Unknown teammate")
        await store.set_password_hash(
            tx,
            company_id=principal.company_id,
            teammate_id=teammate_id,
            password_hash=hashed,
            now=now_ms(),
        )
        await log.append(
            tx,
            company_id=principal.company_id,
            type="teammate_password_set",
            source=log.source_of(principal),
            target_type="teammate",
            target_id=teammate_id,
        )


async def sign_in(db: Database, *, company_id: int, email: str, password: str) -> int | None:
    """The teammate whose email and password these are (not blocked), or None."""
    row = await store.sign_in_row(db, company_id=company_id, email=email.strip().lower())
    stored = row["password_hash"] if row is not None and row["password_hash"] else None
    ok = await asyncio.to_thread(verify_password, password, stored or _DUMMY)
    if row is None or stored is None or not ok or row["is_blocked"]:
        return None
    return int(row["id"])
