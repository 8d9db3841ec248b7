"""The bench's webhook receiver: a bare ASGI app (uvicorn, uvloop, httptools) that answers 200,
echoes sync challenges, and notes each webhook's event id and arrival time; ``GET /dump``
returns and clears the notes."""

from __future__ import annotations

import time
from typing import Any

import orjson

_got: list[tuple[str, float]] = []


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    body = b""
    while True:
        msg = await receive()
        body += msg.get("body", b"")
        if not msg.get("more_body"):
            break
    at = time.time()
    out = b""
    if scope["method"] == "GET":
        out = orjson.dumps(_got)
        _got.clear()
    else:
        headers = dict(scope["headers"])
        challenge = headers.get(b"x-front-challenge")
        if challenge is not None:
            out = challenge
        else:
            env = orjson.loads(body)
            payload = env.get("payload", env)
            _got.append((payload["id"], at))
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-length", str(len(out)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": out})
