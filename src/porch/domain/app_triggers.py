"""Application triggers: an app tells Porch something happened to one of its objects, and the
event log records it (``application_trigger``) for rules to match."""

from __future__ import annotations

from porch.domain.errors import BadRequest
from porch.domain.oauth import require_not_oauth
from porch.domain.principal import Principal
from porch.events import log
from porch.store.db import Database
from porch.store.oauth import App


def app_object_ref(*, id: str | None, ext_link: str | None) -> dict[str, str]:
    """The object the event is about: its ``id`` if given (Front favours it), else its
    ``ext_link``; BadRequest if neither is given."""
    if id:
        return {"id": id}
    if ext_link:
        return {"ext_link": ext_link}
    raise BadRequest(
        "app_object needs an id or an ext_link", details=["app_object: give id or ext_link"]
    )


def check_may_trigger(principal: Principal) -> None:
    """Front's ``feature:app_trigger``: API tokens that may write, never OAuth tokens."""
    require_not_oauth(principal, "Triggering application events")
    principal.require("write")


async def do_trigger_app_event(
    db: Database, *, principal: Principal, app: App, event_type: str, app_object: dict[str, str]
) -> int:
    """Append the trigger to the event log; returns the event's key."""
    check_may_trigger(principal)
    async with db.transaction() as tx:
        return await log.append(
            tx,
            company_id=principal.company_id,
            type="application_trigger",
            source=log.source_of(principal),
            target_type="application",
            target_id=app.id,
            data={"application_uid": app.uid, "event_type": event_type, "app_object": app_object},
        )
