"""Webhook bodies: an event in Front's shape (the rendering of ``GET /events``, reused), its
preview, and the application-webhook envelope.

Bodies are rendered when the delivery is queued and stored as bytes, so every attempt and
replay of one delivery sends the same body with the same event id.
"""

from __future__ import annotations

import os
from typing import Any, cast

from porch import ids
from porch.api.events import front_event_json
from porch.api.http import Request
from porch.domain import event_views
from porch.domain.principal import PERMISSIONS, Principal
from porch.store.db import Reader
from porch.store.events import Event

# Application webhook names (NOTES §7) and the log's event types each covers (inferred; see
# docs/api-compat.md "Webhooks and applications").
APP_EVENTS: dict[str, tuple[str, ...]] = {
    "inbound_received": ("inbound",),
    "outbound_sent": ("outbound", "out_reply", "forward"),
    "message_delivery_failed": ("sending_error", "message_bounce_error"),
    "conversation_moved": ("move",),
    "conversation_archived": ("archive",),
    "conversation_reopened": ("reopen",),
    "conversation_deleted": ("trash",),
    "conversation_restored": ("restore",),
    "conversation_snoozed": ("reminder_set",),
    "conversation_snooze_expired": ("reminder",),
    "new_comment_added": ("comment",),
    "assignee_changed": ("assign", "unassign"),
    "tag_added": ("tag",),
    "tag_removed": ("untag",),
    "link_added": ("link_added",),
    "link_removed": ("link_removed",),
}
APP_NAME_OF: dict[str, str] = {t: name for name, types in APP_EVENTS.items() for t in types}

_base_url: str | None = None


def configure(public_url: str | None) -> None:
    """Set the public address links in webhook bodies point to (``PORCH_PUBLIC_URL``)."""
    global _base_url
    _base_url = public_url.rstrip("/") if public_url else None


def base_url() -> str:
    return _base_url or (os.environ.get("PORCH_PUBLIC_URL") or "http://localhost").rstrip("/")


class _Links:
    """What the shape functions read of a request: the server's public address."""

    def __init__(self, base: str) -> None:
        self.base_url = base

    def url(self, path: str) -> str:
        return self.base_url + path


def system_principal(company_id: int, *, private: bool) -> Principal:
    """Who renders a company's webhook bodies: shared resources, and private ones for rule
    webhooks (a rule may live in a private inbox)."""
    return Principal(
        company_id=company_id,
        token_id=None,
        shared=True,
        private=private,
        provisioning=False,
        team_ids=frozenset(),
        permissions=frozenset(PERMISSIONS),
        rate_limit_per_minute=0,
        rate_limit_burst=False,
    )


async def full_events(
    conn: Reader, *, company_id: int, events: list[Event], private: bool
) -> dict[int, dict[str, Any]]:
    """Each event of one company in Front's EventResponse shape, by event key (a fixed number
    of queries for any number of events)."""
    req = cast(Request, _Links(base_url()))
    shown = await event_views.views(
        conn, principal=system_principal(company_id, private=private), events=events
    )
    return {v.event.id: front_event_json(req, v) for v in shown}


def _brief(obj: Any) -> Any:
    if isinstance(obj, dict) and "id" in obj:
        return {k: obj[k] for k in ("_links", "id") if k in obj}
    return obj


def preview(event: dict[str, Any]) -> dict[str, Any]:
    """The event preview (NOTES §7): source, target and conversation keep only their id,
    ``_links`` and ``_meta``."""
    out = dict(event)
    for part in ("source", "target"):
        if part in out and isinstance(out[part], dict) and "data" in out[part]:
            out[part] = {**out[part], "data": _brief(out[part]["data"])}
    if "conversation" in out:
        out["conversation"] = _brief(out["conversation"])
    return out


def envelope(name: str, company_id: int, event: dict[str, Any]) -> dict[str, Any]:
    """The application-webhook envelope."""
    return {
        "type": name,
        "authorization": {"id": ids.encode(ids.COMPANY, company_id)},
        "payload": event,
    }
