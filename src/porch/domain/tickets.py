"""Ticket statuses as conversations show them and lists filter on them.

A conversation stores a ``status_id`` only once someone sets one. Its ticket status is that
status while it agrees with where the conversation is (open statuses on open conversations,
resolved ones on archived conversations, waiting ones on both: a snoozed conversation is archived
and waiting); otherwise, and when none was set, it
is the company's default status for where the conversation is: open conversations are
``open``, archived ones ``resolved``. Trashed and spam conversations have none. So archiving a
conversation resolves it and reopening it opens it, as in Front, without rewriting statuses.
"""

from __future__ import annotations

from porch import ids
from porch.domain.errors import BadRequest
from porch.domain.principal import Principal
from porch.store import statuses as statuses_store
from porch.store.conversations import Conversation, StatusFilter
from porch.store.db import Reader
from porch.store.statuses import CATEGORIES, Status

# Front's q[statuses] values and the stored states they select.
STATUS_FILTERS = {
    "assigned": "open",
    "unassigned": "open",
    "archived": "archived",
    "trashed": "trashed",
    "deleted": "trashed",
}


def _agrees(status: Status, state: str) -> bool:
    # Waiting fits both: a snoozed conversation is archived and waiting until its reminder.
    return status.category == "waiting" or (state == "archived") == (status.category == "resolved")


def effective_status(conv: Conversation, statuses: list[Status]) -> Status | None:
    """The ticket status ``conv`` shows, given all of its company's statuses (ticketing on)."""
    if conv.state not in ("open", "archived"):
        return None
    for s in statuses:
        if s.id == conv.status_id and _agrees(s, conv.state):
            return s
    wanted = "resolved" if conv.state == "archived" else "open"
    return next((s for s in statuses if s.is_default and s.category == wanted), None)


def check_status_filter(statuses: list[str]) -> StatusFilter | None:
    """What Front's ``q[statuses]`` keeps, or None for no filter."""
    if not statuses:
        return None
    bad = [s for s in statuses if s not in STATUS_FILTERS]
    if bad:
        raise BadRequest(
            f"q[statuses] must be among {', '.join(sorted(STATUS_FILTERS))}", details=bad
        )
    states = {STATUS_FILTERS[s] for s in statuses} - {"open"}
    return StatusFilter(
        kind="statuses",
        states=tuple(sorted(states)),
        assigned="assigned" in statuses,
        unassigned="unassigned" in statuses,
    )


async def check_ticket_filter(
    conn: Reader, *, principal: Principal, categories: list[str], status_refs: list[str]
) -> StatusFilter | None:
    """What ``q[status_categories]`` or ``q[status_ids]`` keeps (ticketing must be on), or None
    when neither is given. Unknown categories and ids are a 400, not an empty page."""
    if not categories and not status_refs:
        return None
    if categories and status_refs:
        raise BadRequest("Give q[status_categories] or q[status_ids], not both")
    company_id = principal.company_id
    if not await statuses_store.ticketing_enabled(conn, company_id=company_id):
        raise BadRequest("Ticketing must be enabled to filter on ticket statuses")
    every = await statuses_store.all_of(conn, company_id=company_id)
    if categories:
        bad = [c for c in categories if c not in CATEGORIES]
        if bad:
            raise BadRequest(
                f"q[status_categories] must be among {', '.join(CATEGORIES)}", details=bad
            )
        wanted = [s for s in every if s.category in categories]
    else:
        by_key = {s.id: s for s in every}
        wanted = []
        for ref in status_refs:
            key = ids.decode(ids.STATUS, ref)
            if key is None or key not in by_key:
                raise BadRequest(f"Unknown ticket status in q[status_ids]: {ref}", details=[ref])
            wanted.append(by_key[key])
    chosen = {s.id for s in wanted}
    defaults = {s.category: s.id for s in every if s.is_default}
    return StatusFilter(
        kind="ticket",
        open_ids=tuple(s.id for s in wanted if _agrees(s, "open")),
        archived_ids=tuple(s.id for s in wanted if _agrees(s, "archived")),
        open_default=defaults.get("open") in chosen,
        archived_default=defaults.get("resolved") in chosen,
        resolved_ids=tuple(s.id for s in every if s.category == "resolved"),
        unresolved_ids=tuple(s.id for s in every if s.category == "open"),
    )
