"""Front's ``sync`` challenge, run against a webhook URL before its configuration is saved.

Porch POSTs ``{"type":"sync","authorization":{"id":"cmp_…"}}`` signed like any application
webhook, with a random ``x-front-challenge`` header. The endpoint must answer 200 within
10 seconds echoing the challenge in one of three forms: the bare value (text/plain),
``challenge=<value>`` (form), or ``{"challenge": "<value>"}`` (JSON).
"""

from __future__ import annotations

import secrets as random
from urllib.parse import parse_qs

import httpx
import orjson

from porch import ids
from porch.events.webhooks.signing import app_headers
from porch.timeutil import now_ms

TIMEOUT_SECONDS = 10.0


def echoes(body: bytes, challenge: str) -> bool:
    """Whether a response body echoes ``challenge`` in one of the accepted forms."""
    text = body.decode("utf-8", "replace").strip()
    if text == challenge:
        return True
    if text.startswith("{"):
        try:
            parsed = orjson.loads(text)
        except orjson.JSONDecodeError:
            return False
        return isinstance(parsed, dict) and parsed.get("challenge") == challenge
    return parse_qs(text).get("challenge") == [challenge]


async def challenge(
    url: str, *, company_id: int, secret: str, timeout: float = TIMEOUT_SECONDS
) -> str | None:
    """Run the challenge against ``url``; None if it passed, else what went wrong."""
    value = random.token_urlsafe(24)
    body = orjson.dumps(
        {"type": "sync", "authorization": {"id": ids.encode(ids.COMPANY, company_id)}}
    )
    headers = {
        "content-type": "application/json",
        "x-front-challenge": value,
        **app_headers(secret, body, now_ms()),
    }
    try:
        async with httpx.AsyncClient(timeout=timeout, trust_env=False) as client:
            resp = await client.post(url, content=body, headers=headers)
    except httpx.TimeoutException:
        return f"no answer within {timeout:g} s"
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"[:300] if str(exc) else type(exc).__name__
    if resp.status_code != 200:
        return f"the endpoint answered {resp.status_code}, not 200"
    if not echoes(resp.content, value):
        return "the answer does not echo the x-front-challenge value"
    return None
