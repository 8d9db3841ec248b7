"""Webhook signatures (NOTES §7).

Application webhooks: ``x-front-request-timestamp`` (ms) and ``x-front-signature`` =
base64(HMAC-SHA256(app secret, "<timestamp>:" + body)). Rule webhooks: ``X-Front-Signature`` =
base64(HMAC-SHA1(company API secret, body)), no timestamp. Secrets are used as their UTF-8 text.
"""

from __future__ import annotations

import base64
import hashlib
import hmac


def app_headers(secret: str, body: bytes, timestamp_ms: int) -> dict[str, str]:
    """The signature headers of an application webhook (and of the ``sync`` challenge)."""
    ts = str(timestamp_ms)
    mac = hmac.new(secret.encode(), ts.encode() + b":" + body, hashlib.sha256).digest()
    return {
        "x-front-request-timestamp": ts,
        "x-front-signature": base64.b64encode(mac).decode(),
    }


def rule_headers(api_secret: str, body: bytes) -> dict[str, str]:
    """The signature header of a rule webhook."""
    mac = hmac.new(api_secret.encode(), body, hashlib.sha1).digest()
    return {"X-Front-Signature": base64.b64encode(mac).decode()}
