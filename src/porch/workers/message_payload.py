"""A stored message in Front's message shape, for the calls the workers make about it: a custom
channel's ``message`` and ``message_autoreply`` (``workers/outbound.py``) and a partner's
``message_imported`` (``workers/partner_calls.py``). It is rendered at each attempt, so the
partner gets the message as it is then."""

from __future__ import annotations

from typing import Any, cast

from porch.api.http import Request
from porch.api.shapes import message_json
from porch.domain.messages import MessageView, files_of
from porch.store import messages as messages_store
from porch.store import teammates as teammates_store
from porch.store.db import Reader


class _Links:
    """What the message shape needs of a request: the server's public address."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    def url(self, path: str) -> str:
        return self.base_url + path


async def render(
    conn: Reader, *, company_id: int, message_id: int, base_url: str
) -> dict[str, Any] | None:
    """The message in Front's shape, its links under ``base_url``; None if it is gone."""
    msg = await messages_store.get(conn, company_id=company_id, key=message_id)
    if msg is None:
        return None
    recipients = await messages_store.recipients_of(conn, company_id=company_id, keys=[msg.id])
    author = None
    if msg.author_id is not None:
        found = await teammates_store.many(conn, company_id=company_id, keys=[msg.author_id])
        author = found[0] if found else None
    files = await files_of(conn, company_id=company_id, msgs=[msg])
    view = MessageView(msg, recipients.get(msg.id, []), author, tuple(files.get(msg.id, [])))
    # The shape only reads base_url and url() of the request.
    return message_json(cast(Request, _Links(base_url)), view)
