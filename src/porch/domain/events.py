"""The event log as clients read it: Front's public events, and Porch's whole log for admins.

``GET /events`` shows Front's public event types only; ``GET /porch/events`` shows every kind
to provisioning tokens. Both filter by type, emission time and inbox and page by event key,
newest first unless asked otherwise. An event is shown only to tokens that could see what it
concerns (``porch.store.events``).
"""

from __future__ import annotations

from porch import ids
from porch.domain.errors import BadRequest, not_found
from porch.domain.principal import Principal
from porch.events.log import FRONT_TYPES
from porch.store import events as store
from porch.store import inboxes as inboxes_store
from porch.store.db import Reader

Filter = store.Filter
MAX_FILTER_VALUES = 100


def _company_wide(principal: Principal) -> bool:
    return principal.shared or principal.provisioning


async def access_event(
    conn: Reader, *, principal: Principal, ref: str, public_only: bool = True
) -> store.Event:
    """The event ``ref`` (``evt_...``) names, if the token may see it; NotFound otherwise."""
    key = ids.decode(ids.EVENT, ref)
    found = None
    if key is not None:
        found = await store.get_visible(
            conn,
            company_id=principal.company_id,
            key=key,
            public_only=public_only,
            company_wide=_company_wide(principal),
            vis=principal.visibility(),
        )
    if found is None:
        raise not_found("event", ref)
    return found


async def check_filter(
    conn: Reader,
    *,
    principal: Principal,
    types: list[str],
    after_ms: int | None,
    before_ms: int | None,
    inbox_refs: list[str],
    public_only: bool,
) -> store.Filter:
    """The filter a list asked for; BadRequest naming every unknown type or inbox.

    On Front's list only Front's public event types are known; Porch's list takes any kind.
    """
    if len(types) > MAX_FILTER_VALUES or len(inbox_refs) > MAX_FILTER_VALUES:
        raise BadRequest(f"At most {MAX_FILTER_VALUES} values per filter")
    problems: list[str] = []
    for kind in types:
        well_formed = 0 < len(kind) <= 64 and kind.isascii() and kind.isidentifier()
        if not well_formed or (public_only and kind not in FRONT_TYPES):
            problems.append(f"q[types]: {kind!r} is not an event type")
    inbox_ids: list[int] = []
    for ref in inbox_refs:
        key = ids.decode(ids.INBOX, ref)
        inbox = None
        if key is not None:
            inbox = await inboxes_store.get_visible(
                conn, company_id=principal.company_id, key=key, vis=principal.visibility()
            )
        if inbox is None:
            problems.append(f"q[inboxes]: unknown inbox {ref!r}")
        else:
            inbox_ids.append(inbox.id)
    if problems:
        raise BadRequest("Invalid event filter", details=problems)
    return store.Filter(
        types=list(dict.fromkeys(types)) or None,
        after_ms=after_ms,
        before_ms=before_ms,
        inbox_ids=inbox_ids or None,
    )


async def list_events(
    conn: Reader,
    *,
    principal: Principal,
    filter: store.Filter,
    public_only: bool,
    after: int | None,
    limit: int,
    descending: bool,
) -> tuple[list[store.Event], int | None]:
    """A page of visible events and the key to continue after, if there may be more."""
    rows = await store.page(
        conn,
        company_id=principal.company_id,
        public_only=public_only,
        company_wide=_company_wide(principal),
        vis=principal.visibility(),
        filter=filter,
        after=after,
        limit=limit + 1,
        descending=descending,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more and rows else None)
