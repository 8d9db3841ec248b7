"""Reading the API for the sync: pages, whole collections, time-windowed lists read in
parallel, and a conversation (or contact) with everything read under it, as rows of a batch.

Every request goes through one semaphore (``concurrency`` in flight) and ``porch.client``'s
pacing, which honours the rate-limit headers and retries 429s after ``retry-after``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from porch.client import AsyncClient
from porch.client.errors import NotFound
from porch.sync.warehouse import rows as make
from porch.sync.warehouse.destinations import Batch
from porch.sync.warehouse.schema import MESSAGE_CHILDREN, Table

if TYPE_CHECKING:
    from porch.sync.warehouse.engine import Summary
    from porch.sync.warehouse.inboxes import InboxIndex

JSON = dict[str, Any]
T = TypeVar("T")
# The largest page Front (and Porch) serve; ``/events`` is capped at 15 by both.
PAGE = 100
EVENTS_PAGE = 15
MAX_PAGES = 10_000
# What is read under a conversation (its messages always).
PARTS = frozenset(("comments", "inboxes", "followers"))


def stamp(seconds: float) -> str:
    """Epoch seconds as the API's ``q[…]`` filters take them (at most three decimals)."""
    return f"{seconds:.3f}"


def windows(lo: float, hi: float, parts: int) -> list[tuple[float | None, float | None]]:
    """``[lo, hi]`` cut into ``parts`` spans as (after, before) filter bounds, both exclusive as
    the API reads them: each span starts a millisecond before its first instant so that an
    item stamped exactly on an edge is in one span, not none. The first span is open below,
    the last open above (what happens after ``hi`` is read too)."""
    lo_ms, hi_ms = int(lo * 1000), int(hi * 1000) + 1
    parts = max(1, min(parts, (hi_ms - lo_ms) // 1000 or 1))
    edges = [lo_ms + (hi_ms - lo_ms) * i // parts for i in range(parts + 1)]
    out: list[tuple[float | None, float | None]] = []
    for i in range(parts):
        after = None if i == 0 else (edges[i] - 1) / 1000
        before = None if i == parts - 1 else edges[i + 1] / 1000
        out.append((after, before))
    return out


class Reader:
    """The API side of one run; ``tables`` says what is read (a blocked table is not)."""

    def __init__(self, client: AsyncClient, summary: Summary, concurrency: int) -> None:
        self.client = client
        self.summary = summary
        self.tables: dict[str, Table] = {}
        self.concurrency = max(1, concurrency)
        self._sem = asyncio.Semaphore(self.concurrency)
        # A first load's conversation inboxes from the inboxes' lists (``inboxes.py``).
        self.inbox_index: InboxIndex | None = None

    def want(self, *names: str) -> bool:
        return any(n in self.tables for n in names)

    async def get(
        self,
        path: str,
        params: dict[str, Any] | None = None,
        *,
        lane: asyncio.Semaphore | None = None,
    ) -> Any:
        """One request, in the shared limit unless given its own ``lane``."""
        async with lane or self._sem:
            self.summary.requests += 1
            body = await self.client.get(path, params=params)
        if isinstance(body, dict):
            self.summary.records += len(body.get("_results") or ()) if "_results" in body else 1
        return body

    async def all(self, path: str, params: dict[str, Any] | None = None) -> list[JSON]:
        """Every item of a collection (bounded: ``MAX_PAGES`` pages)."""
        out: list[JSON] = []
        url: str | None = path
        for _ in range(MAX_PAGES):
            if url is None:
                break
            page = await self.get(url, params)
            out.extend(page.get("_results") or [])
            url, params = (page.get("_pagination") or {}).get("next"), None
        return out

    async def optional(self, path: str) -> list[JSON] | None:
        try:
            return await self.all(path)
        except NotFound:
            return None

    async def first(self, path: str, params: dict[str, Any]) -> JSON | None:
        page = await self.get(path, {**params, "limit": 1})
        found = page.get("_results") or []
        return found[0] if found else None

    async def windowed(
        self,
        path: str,
        params: dict[str, Any],
        bounds: tuple[str, str],
        spans: list[tuple[float | None, float | None]],
        each: Callable[[list[JSON]], Awaitable[None]],
    ) -> None:
        """The list at ``path`` read as ``spans`` of time in parallel (``bounds``: the names of
        its after/before filters), ``each`` called with every page's items as it comes."""

        async def span(after: float | None, before: float | None) -> None:
            p = dict(params)
            if after is not None:
                p[bounds[0]] = stamp(after)
            if before is not None:
                p[bounds[1]] = stamp(before)
            url: str | None = path
            q: dict[str, Any] | None = p
            for _ in range(MAX_PAGES * 10):
                if url is None:
                    break
                page = await self.get(url, q)
                await each(page.get("_results") or [])
                url, q = (page.get("_pagination") or {}).get("next"), None

        await gather_all(span(a, b) for a, b in spans)

    # --- a conversation, a contact: rows into a batch ------------------------------------------

    async def conversation(self, c: JSON, batch: Batch, parts: frozenset[str] = PARTS) -> None:
        """A conversation and the ``parts`` read under it (messages, comments, inboxes,
        followers), into ``batch``; a part not read leaves its rows as they are."""
        cid = str(c["id"])
        base = f"/conversations/{cid}"
        reads: dict[str, Awaitable[list[JSON]]] = {}
        # Messages always: the conversation row's ``last_message_id`` comes from them.
        if self.want("message", *MESSAGE_CHILDREN, "conversation"):
            reads["messages"] = self.all(f"{base}/messages", {"limit": PAGE})
        if self.want("comment") and "comments" in parts:
            reads["comments"] = self.all(f"{base}/comments")
        listed: list[str] | None = None
        if self.want("conversation_inbox") and "inboxes" in parts:
            if self.inbox_index is not None:
                listed = self.inbox_index.lookup(cid)
            if listed is None:
                reads["inboxes"] = self.all(f"{base}/inboxes")
        if self.want("conversation_follower") and "followers" in parts:
            reads["followers"] = self.all(f"{base}/followers")
        got = dict(zip(reads, await gather_all(reads.values()), strict=True))
        messages: list[JSON] = got.get("messages", [])
        latest = max(messages, key=lambda m: m.get("created_at") or 0, default=None)
        batch.add("conversation", [make.conversation(c, str(latest["id"]) if latest else None)])
        for name, rows in make.conversation_children(c).items():
            batch.add(name, rows)
        inboxes = [str(i["id"]) for i in got.get("inboxes", [])] if listed is None else listed
        batch.add("conversation_inbox", [{"conversation_id": cid, "inbox_id": i} for i in inboxes])
        batch.add(
            "conversation_follower",
            [{"conversation_id": cid, "teammate_id": t["id"]} for t in got.get("followers", [])],
        )
        batch.replace("conversation_tag", cid)
        for child, part in (
            ("conversation_inbox", "inboxes"),
            ("conversation_follower", "followers"),
        ):
            if part in reads or (part == "inboxes" and listed is not None):
                batch.replace(child, cid)
        for m in messages:
            for name, rows in make.message(m, cid).items():
                batch.add(name, rows)
            for child in MESSAGE_CHILDREN:
                batch.replace(child, str(m["id"]))
        batch.add("comment", [make.comment(x, cid) for x in got.get("comments", [])])
        self.summary.conversations += 1

    async def conversations(self, items: list[JSON]) -> Batch:
        batch = Batch()
        await gather_all(self.conversation(c, batch) for c in items)
        return batch

    def contact(self, c: JSON, batch: Batch) -> None:
        for name, rows in make.contact(c).items():
            batch.add(name, rows)
        batch.replace("contact_handle", str(c["id"]))
        self.summary.contacts += 1


async def gather_all(aws: Any) -> list[Any]:
    """``asyncio.gather`` that cancels the rest when one fails (a failed read stops the run;
    nothing is left running behind it)."""
    tasks = [asyncio.ensure_future(a) for a in aws]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
