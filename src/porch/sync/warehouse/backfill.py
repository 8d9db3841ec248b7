"""The first run, in stages, each batch committed with the state saying where it stopped (a
killed run resumes at its last commit): reference objects, recent conversations, recent
contacts, older conversations, older contacts, the event log.

Conversations: the list is read page by page (its cursor is the resume point); while one
page's conversations are read (messages, comments, followers: many requests in flight; their
inboxes from the inboxes' own lists where those say it exactly, ``inboxes.py``), the next page
is fetched and the next pages' conversations started, up to ``AHEAD`` pages, and a page's rows
join the batch only once all of it is read, in list order, so a committed cursor never skips a
conversation.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from porch.sync.warehouse import incremental
from porch.sync.warehouse import rows as make
from porch.sync.warehouse.destinations import Batch
from porch.sync.warehouse.inboxes import InboxIndex
from porch.sync.warehouse.reader import JSON, PAGE

if TYPE_CHECKING:
    from porch.sync.warehouse.engine import WarehouseSync

STAGES = (
    "reference",
    "recent_conversations",
    "recent_contacts",
    "conversations",
    "contacts",
    "events",
)
# List pages whose conversations are read at once (the reads share the request limit).
AHEAD = 3
OVERLAP = incremental.OVERLAP


async def reference(sync: WarehouseSync) -> None:
    """The small objects, read whole each run (accounts: those updated since the last)."""
    read, batch = sync.read, Batch()
    teammates, teams, inboxes, channels, tags = await asyncio.gather(
        read.all("/teammates"),
        read.all("/teams"),
        read.all("/inboxes"),
        read.all("/channels"),
        read.all("/tags", {"limit": PAGE}),
    )
    batch.add("teammate", [make.teammate(t) for t in teammates])
    batch.add("team", [{"id": t["id"], "name": t.get("name")} for t in teams])
    batch.add("inbox", [make.inbox(i) for i in inboxes])
    batch.add("channel", [make.channel(c) for c in channels])
    batch.add("tag", [make.tag(t) for t in tags])
    if sync.want("team_teammate"):
        for team in await asyncio.gather(*(read.get(f"/teams/{t['id']}") for t in teams)):
            batch.replace("team_teammate", str(team["id"]))
            batch.add(
                "team_teammate",
                [
                    {"team_id": team["id"], "teammate_id": m["id"]}
                    for m in team.get("members") or []
                ],
            )
    if sync.want("inbox_channel"):
        lists = await asyncio.gather(*(read.all(f"/inboxes/{i['id']}/channels") for i in inboxes))
        for i, found in zip(inboxes, lists, strict=True):
            batch.replace("inbox_channel", str(i["id"]))
            batch.add(
                "inbox_channel", [{"inbox_id": i["id"], "channel_id": c["id"]} for c in found]
            )
    if sync.want("rule"):
        rules = await read.optional("/rules")
        if rules is None:
            sync.summary.notes.append("GET /rules answered 404: the rule table is skipped")
        else:
            batch.add("rule", [make.rule(r) for r in rules])
    if sync.want("account"):
        params: dict[str, Any] = {"limit": PAGE}
        after = sync.state.get("accounts_after")
        if after is not None:
            params["q[updated_after]"] = f"{float(after):.3f}"
        mark = sync.now()
        batch.add("account", [make.account(a) for a in await read.all("/accounts", params)])
        sync.state["accounts_after"] = mark - OVERLAP
    await sync.commit(batch)


async def conversation_pages(sync: WarehouseSync, *, recent: bool) -> None:
    """Conversations from the saved page on, most recent activity first; ``recent`` stops at
    the first page reaching past the recent window (its next page is where the rest begins).

    A page is read in slices of ``batch`` conversations, each committed with the cursor at
    the page itself (the last slice: at the next page): a resumed run reads that page again."""
    read, fill, size = sync.read, sync.state["backfill"], max(1, sync.config.batch)
    cutoff = time.time() - sync.config.recent_days * 86400.0
    here: str | None = fill.get("next")  # None: the list's start
    params = {"limit": PAGE} if here is None else None
    listing: asyncio.Task[Any] | None = asyncio.ensure_future(
        read.get(here or "/conversations", params)
    )
    # Slices being read: (their rows, the cursor to save with them, the stage's last slice).
    reading: deque[tuple[asyncio.Task[Batch], str | None, bool]] = deque()
    batch, pending = Batch(), 0
    try:
        for _ in range(10_000_000):
            while listing is not None and len(reading) * size < AHEAD * PAGE:
                page = await listing
                items: list[JSON] = page.get("_results") or []
                url: str | None = (page.get("_pagination") or {}).get("next")
                older = bool(items) and all(
                    float(c.get("updated_at") or c.get("created_at") or 0) < cutoff for c in items
                )
                last = url is None or (recent and older)
                listing = None if last or url is None else asyncio.ensure_future(read.get(url))
                slices = [items[n : n + size] for n in range(0, len(items), size)] or [[]]
                for n, part in enumerate(slices):
                    final = n == len(slices) - 1
                    task = asyncio.ensure_future(read.conversations(part))
                    reading.append((task, url if final else here, last and final))
                here = url
            if not reading:
                break
            task, fill["next"], last = reading.popleft()
            part_batch = await task
            batch.merge(part_batch)
            pending += len(part_batch.rows.get("conversation", ()))
            if pending >= size or last or len(reading) == 0:
                await sync.commit(batch)
                batch, pending = Batch(), 0
    finally:
        left = [t for t, *_ in reading] + ([listing] if listing is not None else [])
        for t in left:
            t.cancel()
        await asyncio.gather(*left, return_exceptions=True)


async def contact_pages(sync: WarehouseSync, *, recent: bool) -> None:
    read, fill = sync.read, sync.state["backfill"]
    params: dict[str, Any] | None = {"limit": PAGE, "sort_by": "updated_at", "sort_order": "desc"}
    if recent:
        assert params is not None
        params["q[updated_after]"] = f"{time.time() - sync.config.recent_days * 86400.0:.3f}"
    url: str | None = fill.get("next") or "/contacts"
    if fill.get("next"):
        params = None
    batch, pending = Batch(), 0
    for _ in range(1_000_000):
        if url is None:
            break
        page = await read.get(url, params)
        for c in page.get("_results") or []:
            read.contact(c, batch)
            pending += 1
        url, params = (page.get("_pagination") or {}).get("next"), None
        fill["next"] = url
        if pending >= sync.config.batch * 4 or url is None:
            await sync.commit(batch)
            batch, pending = Batch(), 0


async def run(sync: WarehouseSync) -> None:
    """The stages from the saved one on."""
    fill = sync.state["backfill"]
    if fill.get("started") is None:
        fill["started"] = sync.now()
    try:
        await stages(sync)
    finally:
        await index(sync, False)
    sync.state.pop("backfill", None)
    sync.state["loaded"] = True
    await sync.commit(Batch())


async def index(sync: WarehouseSync, on: bool) -> None:
    """The conversation stages read conversation inboxes from the inboxes' lists
    (``inboxes.py``); nothing after them does (the event log's refetches must read what a
    conversation's inboxes are now)."""
    read = sync.read
    if on and read.inbox_index is None and sync.want("conversation_inbox"):
        read.inbox_index = InboxIndex(read)
        read.inbox_index.start()
    elif not on and read.inbox_index is not None:
        await read.inbox_index.stop()
        read.inbox_index = None


async def stages(sync: WarehouseSync) -> None:
    fill, state = sync.state["backfill"], sync.state
    for stage in STAGES[STAGES.index(fill["stage"]) :]:
        if fill["stage"] != stage:
            fill["stage"], fill["next"] = stage, None
            if stage == "conversations":
                fill["next"] = fill.get("conversations")
        sync.summary.stage = stage
        sync.log(f"stage {stage}")
        if stage == "reference":
            await reference(sync)
        elif stage in ("recent_conversations", "conversations"):
            if stage == "conversations" and fill.get("next") == "done":
                continue
            if sync.want("conversation"):
                await index(sync, True)
                await conversation_pages(sync, recent=stage == "recent_conversations")
            if stage == "recent_conversations":
                # The rest of the list starts where the recent window ended.
                fill["conversations"] = fill["next"] or "done"
        elif stage in ("recent_contacts", "contacts"):
            if stage == "contacts":
                fill.setdefault("contacts_mark", sync.now())
            if sync.want("contact", "contact_handle"):
                await contact_pages(sync, recent=stage == "recent_contacts")
            if stage == "recent_contacts":
                await sync.write.flush()
                sync.summary.recent_seconds = time.monotonic() - sync.started
                sync.log(f"the last {sync.config.recent_days:g} days are loaded")
            else:
                state["contacts_after"] = float(fill["contacts_mark"]) - OVERLAP
                # Deleted since the load began: Porch's log names them (``incremental.py``).
                state["contacts_deleted_after"] = float(fill["started"]) - OVERLAP
        elif stage == "events":
            await index(sync, False)
            await incremental.events(sync, refetch_after=float(fill["started"]) - OVERLAP)
