"""Signed session cookies for the OAuth consent page, and the CSRF token of its form.

A session is ``company.teammate.expires.nonce.signature``: HMAC-SHA256 under the company's
``web_session`` secret over the fields and a tag of the teammate's password hash, so setting a
new password ends every session signed before it. Nothing is stored per session. The CSRF token
of a form is an HMAC of the session's nonce, so it is valid only with the cookie it was made for.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from porch.store import oauth as store
from porch.store import secrets as company_secrets
from porch.store.db import Database
from porch.timeutil import now_ms

COOKIE = "porch_session"
LIFETIME_SECONDS = 12 * 3600
_PURPOSE = "web_session"


@dataclass(frozen=True, slots=True)
class Session:
    company_id: int
    teammate_id: int
    nonce: str
    key: bytes


def _mac(key: bytes, message: str) -> str:
    digest = hmac.new(key, message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _password_tag(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


async def open_session(db: Database, *, company_id: int, teammate_id: int) -> str:
    """A cookie value signing ``teammate_id`` in for LIFETIME_SECONDS."""
    async with db.transaction() as tx:
        key = await company_secrets.get_or_make(
            tx, company_id=company_id, purpose=_PURPOSE, now=now_ms()
        )
    stored = await store.password_hash(db, company_id=company_id, teammate_id=teammate_id)
    fields = f"{company_id}.{teammate_id}.{int(time.time()) + LIFETIME_SECONDS}."
    fields += secrets.token_urlsafe(16)
    return fields + "." + _mac(key, fields + "." + _password_tag(stored or ""))


async def read_session(db: Database, value: str | None) -> Session | None:
    """The session a cookie value proves, or None if it is absent, forged or expired."""
    if not value:
        return None
    parts = value.split(".")
    if len(parts) != 5 or not all(p.isdigit() for p in parts[:3]):
        return None
    company_id, teammate_id, expires = int(parts[0]), int(parts[1]), int(parts[2])
    if expires < time.time():
        return None
    key = await company_secrets.get(db, company_id=company_id, purpose=_PURPOSE)
    stored = await store.password_hash(db, company_id=company_id, teammate_id=teammate_id)
    if key is None or stored is None:
        return None
    fields = ".".join(parts[:4])
    if not hmac.compare_digest(parts[4], _mac(key, fields + "." + _password_tag(stored))):
        return None
    return Session(company_id, teammate_id, parts[3], key)


def csrf_token(session: Session) -> str:
    """The token the session's forms carry."""
    return _mac(session.key, "csrf." + session.nonce)


def check_csrf(session: Session, token: str | None) -> bool:
    return bool(token) and hmac.compare_digest(token or "", csrf_token(session))
