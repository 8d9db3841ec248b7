"""Channel API authentication: a partner's ``Authorization: Bearer <JWT>``.

The JWT is HS256, signed with the secret of the channel's application; its claims are ``iss``
(the application's uid), ``sub`` (the channel, ``cha_…``, which must be the channel the path
names on the Channel API's routes), ``jti`` (random, accepted once) and ``exp`` (a few seconds
ahead; at most ``MAX_LIFETIME_SECONDS``). Every failure is a 401; nothing about the channel is
revealed beyond "this token does not authenticate this channel".
"""

from __future__ import annotations

import time

import jwt

from porch import ids
from porch.domain.errors import Unauthorized
from porch.domain.principal import Principal
from porch.store import channel_api as store
from porch.store.db import Database

# Front's partners sign for 10 seconds (older examples 5); a longer-lived token is refused, so
# a leaked one is worth little and the replay table stays small.
MAX_LIFETIME_SECONDS = 300
# Clock skew tolerated between the partner and Porch.
LEEWAY_SECONDS = 5
_REQUIRED = ["iss", "sub", "jti", "exp"]


def looks_like_jwt(header: str | None) -> bool:
    """Whether an Authorization header carries a JWT (three base64url parts) rather than a
    Porch API token (which has no dots)."""
    if not header:
        return False
    scheme, _, token = header.partition(" ")
    return scheme.lower() == "bearer" and token.strip().count(".") == 2


async def authenticate(db: Database, *, header: str, channel_ref: str | None) -> Principal:
    """The caller a valid channel JWT for ``channel_ref`` stands for; Unauthorized otherwise.
    ``channel_ref`` is None on the Core API routes a JWT also authenticates (a conversation's
    or a message's): the JWT's ``sub`` then names the channel, whose conversations alone the
    principal sees (``Principal.partner_channel_id``).

    The JWT id is recorded (until the token expires) in the same step, so the same token
    is accepted once.
    """
    token = header.partition(" ")[2].strip()
    try:
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise Unauthorized("The bearer token is not a valid JWT") from exc
    sub = unverified.get("sub")
    if not isinstance(sub, str):
        raise Unauthorized("The JWT's sub must be a channel id")
    if channel_ref is not None and sub != channel_ref:
        raise Unauthorized("The JWT's sub must be the channel id of the request's path")
    key = ids.decode(ids.CHANNEL, sub)
    partner = None if key is None else await store.partner_for_jwt(db, channel_id=key)
    if partner is None or partner.state == "deleted":
        raise Unauthorized(f"{sub} is not a partner channel")
    now = time.time()
    try:
        claims = jwt.decode(
            token,
            partner.secret,
            algorithms=["HS256"],
            issuer=partner.application_uid,
            leeway=LEEWAY_SECONDS,
            options={"require": _REQUIRED},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("The JWT has expired") from exc
    except jwt.InvalidIssuerError as exc:
        raise Unauthorized("The JWT's iss must be the uid of the channel's application") from exc
    except jwt.MissingRequiredClaimError as exc:
        raise Unauthorized(f"The JWT has no {exc.claim} claim") from exc
    except jwt.PyJWTError as exc:
        raise Unauthorized(f"The JWT is not valid: {exc}") from exc
    exp = claims["exp"]
    if not isinstance(exp, int | float) or exp > now + MAX_LIFETIME_SECONDS + LEEWAY_SECONDS:
        raise Unauthorized(f"The JWT's exp may be at most {MAX_LIFETIME_SECONDS} s ahead")
    jti = claims["jti"]
    if not isinstance(jti, str) or not jti or len(jti) > 200:
        raise Unauthorized("The JWT's jti must be a string of 1 to 200 characters")
    now_ms = round(now * 1000)
    async with db.transaction() as tx:
        fresh = await store.remember_jti(
            tx,
            application_id=partner.application_id,
            company_id=partner.company_id,
            jti=jti,
            expires_at=round((exp + LEEWAY_SECONDS) * 1000),
            now=now_ms,
        )
    if not fresh:
        raise Unauthorized("This JWT was used already (its jti is spent)")
    return Principal(
        company_id=partner.company_id,
        token_id=None,
        shared=False,
        private=False,
        provisioning=False,
        team_ids=frozenset(),
        permissions=frozenset({"read", "write", "send"}),
        rate_limit_per_minute=partner.rate_limit_per_minute,
        rate_limit_burst=partner.rate_limit_burst,
        partner_channel_id=partner.channel_id,
    )
