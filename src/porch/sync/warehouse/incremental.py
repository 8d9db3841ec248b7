"""Runs after the first: the reference objects again (small), the event log after the saved
cursor with the conversations it names refetched, contacts updated since the last run, and
contacts deleted since (from Porch's log, or the ids the API lists against those the
destination holds).

The event log is read as time spans in parallel (``/events`` serves 15 events a page, here as
on Front): from the cursor (or the first event) to now, cut into ``concurrency / 2`` spans by
``q[after]``/``q[before]``. The events are read before the conversations they name are, and
the cursor saved only once both are written; the next run reads the last ``OVERLAP`` seconds
again, since events commit slightly out of their emitted order (rows read twice merge).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from porch.client.errors import BadRequest, Forbidden, NotFound
from porch.sync.warehouse import rows as make
from porch.sync.warehouse.destinations import Batch
from porch.sync.warehouse.reader import (
    EVENTS_PAGE,
    JSON,
    PAGE,
    PARTS,
    gather_all,
    stamp,
    windows,
)

if TYPE_CHECKING:
    from porch.sync.warehouse.engine import WarehouseSync

OVERLAP = 5.0
# What a conversation's events say to read again under it (its messages always: they give
# ``last_message_id``). Followers change without an event, so they are read with any event;
# comments and inboxes only after events that can change them. Any other type: everything.
_STATE = {"followers"}
REFETCH: dict[str, set[str]] = {
    **dict.fromkeys(
        (
            "assign",
            "unassign",
            "archive",
            "reopen",
            "trash",
            "restore",
            "reminder",
            "tag",
            "untag",
            "link_added",
            "link_removed",
            "ticket_status_update",
            "custom_field_updated",
            "topic_identified",
        ),
        _STATE,
    ),
    "comment": {*_STATE, "comments"},
    "mention": {*_STATE, "comments"},
}


class _Pending:
    """The batch being filled by parallel readers, committed when it is large enough."""

    def __init__(self, sync: WarehouseSync, size: int) -> None:
        self.sync, self.size, self.batch = sync, size, Batch()

    async def maybe_commit(self) -> None:
        if len(self.batch) >= self.size:
            batch, self.batch = self.batch, Batch()
            await self.sync.commit(batch)


async def events(sync: WarehouseSync, *, refetch_after: float | None) -> None:
    """Events after the cursor: their rows, the history rows, and the conversations they
    name refetched (those named by events after ``refetch_after``; None: all of them)."""
    read, state = sync.read, sync.state
    after: float | None = state.get("events_after")
    mark = sync.now()
    lo = after
    if lo is None:
        first = await read.first("/events", {"sort_order": "asc"})
        lo = float(first.get("emitted_at") or mark) if first else mark
    spans = windows(lo, mark, read.concurrency // 2)
    if after is not None:
        spans[0] = (after, spans[0][1])
    # The cursor moves only with the last commit, so a commit before it saves nothing a killed
    # run would keep; it only bounds memory. Each commit merges by joining whole tables (3.4 M
    # rows at the benchmark's full size), so few and large: a run after 1,000 changes commits
    # once or twice instead of six times.
    pending = _Pending(sync, sync.config.batch * 100)
    named: dict[str, set[str]] = {}

    async def page(items: list[JSON]) -> None:
        for e in items:
            for name, rows in make.event(e).items():
                pending.batch.add(name, rows)
            cid = (e.get("conversation") or {}).get("id")
            when = float(e.get("emitted_at") or 0)
            if cid and (refetch_after is None or when > refetch_after):
                parts = REFETCH.get(str(e.get("type")), PARTS)
                named.setdefault(str(cid), set()).update(parts)
            sync.summary.events += 1
        await pending.maybe_commit()

    params = {"limit": EVENTS_PAGE, "sort_order": "asc"}
    await read.windowed("/events", params, ("q[after]", "q[before]"), spans, page)
    await refetch(sync, {cid: frozenset(p) for cid, p in sorted(named.items())}, pending)
    # Everything up to ``mark`` is read and goes with this commit.
    state["events_after"] = max(after or 0.0, mark - OVERLAP)
    await sync.commit(pending.batch)


async def refetch(sync: WarehouseSync, named: dict[str, frozenset[str]], pending: _Pending) -> None:
    """The conversations ``named`` read again (with the parts named); one gone (404) or
    merged away is flagged."""
    read = sync.read
    ids = list(named)

    async def one(cid: str) -> None:
        try:
            c = await read.get(f"/conversations/{cid}")
        except NotFound:
            pending.batch.gone.setdefault("conversation", set()).add(cid)
            return
        if str(c["id"]) != cid:  # merged into another: followed to the survivor, whole
            pending.batch.gone.setdefault("conversation", set()).add(cid)
            await read.conversation(c, pending.batch)
            return
        await read.conversation(c, pending.batch, named[cid])

    step = max(1, sync.config.batch)
    for start in range(0, len(ids), step):
        await gather_all(one(cid) for cid in ids[start : start + step])
        await pending.maybe_commit()


async def contacts(sync: WarehouseSync) -> None:
    """Contacts updated since the last run (a few seconds' overlap)."""
    read = sync.read
    mark = sync.now()
    params = {
        "limit": PAGE,
        "sort_by": "updated_at",
        "sort_order": "asc",
        "q[updated_after]": stamp(float(sync.state.get("contacts_after") or 0)),
    }
    batch = Batch()
    for c in await read.all("/contacts", params):
        read.contact(c, batch)
    sync.state["contacts_after"] = mark - OVERLAP
    await sync.commit(batch)


async def deleted_contacts(sync: WarehouseSync) -> None:
    """Contacts deleted (or merged away) since the last run, flagged deleted.

    Porch's own log names them: ``GET /porch/events?q[types]=contact_deleted`` after the saved
    cursor, a request per hundred deletions. Front has no such log (nor does a token without
    the provisioning scope reach Porch's), and before a cursor is saved there is nothing to
    read it from: then the contacts the destination holds are compared with those the API
    lists, every contact read (``_listed_gone``; not on a dlt destination, which cannot say
    which contacts it holds), and the cursor is saved when the log can be read, so that the
    next run reads the log instead."""
    keys = getattr(sync.dest, "keys", None)
    mark = sync.now()
    after = sync.state.get("contacts_deleted_after")
    gone = await _logged_gone(sync, float(after)) if after is not None else None
    if gone is None:
        # Listing needs the destination's ids: a dlt destination has none to give.
        gone = await _listed_gone(sync, keys) if keys is not None else set()
        if after is None and await _logged_gone(sync, mark) is not None:
            after = mark
    if after is not None:
        # Saved with this run's next commit: without deletions there is nothing to lose by
        # reading the span again.
        sync.state["contacts_deleted_after"] = max(float(after), mark - OVERLAP)
    if gone:
        batch = Batch()
        batch.gone["contact"] = gone
        await sync.commit(batch)


async def _logged_gone(sync: WarehouseSync, after: float) -> set[str] | None:
    """The contacts Porch's log says were deleted after ``after``, or None when the log cannot
    be read here (Front: 404; a token without the provisioning scope: 403)."""
    params = {
        "q[types]": "contact_deleted",
        "q[after]": stamp(after),
        "sort_order": "asc",
        "limit": PAGE,
    }
    try:
        found = await sync.read.all("/porch/events", params)
    except (NotFound, Forbidden, BadRequest):
        return None
    return {
        str(cid) for e in found if (cid := ((e.get("target") or {}).get("data") or {}).get("id"))
    }


async def _listed_gone(sync: WarehouseSync, keys: Callable[[str], set[str] | None]) -> set[str]:
    """Contacts the destination holds (``keys``) that the API no longer lists, confirmed one by
    one (a contact updated while the list was read may have moved past it)."""
    read = sync.read
    listed: set[str] = set()
    mark = sync.now()
    first = await read.first("/contacts", {"sort_by": "updated_at", "sort_order": "asc"})
    if first is not None:
        lo = float(first.get("updated_at") or mark)

        async def page(items: list[JSON]) -> None:
            listed.update(str(c["id"]) for c in items)

        spans = windows(lo, mark, read.concurrency // 2)
        params: dict[str, Any] = {"limit": PAGE}
        await read.windowed(
            "/contacts", params, ("q[updated_after]", "q[updated_before]"), spans, page
        )
    held: set[str] | None = await sync.write.read(lambda: keys("contact"))
    missing = sorted((held or set()) - listed)

    async def gone(cid: str) -> bool:
        try:
            await read.get(f"/contacts/{cid}")
        except NotFound:
            return True
        return False

    found = await gather_all(gone(cid) for cid in missing)
    return {cid for cid, g in zip(missing, found, strict=True) if g}


async def run(sync: WarehouseSync) -> None:
    from porch.sync.warehouse.backfill import reference

    await reference(sync)
    jobs = [events(sync, refetch_after=None)]
    if sync.want("contact", "contact_handle"):
        jobs += [contacts(sync), deleted_contacts(sync)]
    await gather_all(jobs)
