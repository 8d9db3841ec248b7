"""Conversation inboxes for a first load, from the inboxes' own conversation lists.

Front has no bulk read of a conversation's inboxes: ``GET /conversations/{id}/inboxes`` is one
request per conversation, a quarter of a first load's requests. ``GET /inboxes/{id}/conversations``
lists an inbox's conversations 100 a page, so the links come a hundred at a time instead —
but only where that is exactly what the per-conversation read would say:

- each listed inbox's pages are read from the start of the conversation stages, all inboxes
  at once, in a lane of their own (``LANE`` requests beside the conversations' own, not queued
  behind them: the sooner the lists are read, the fewer conversations are read one by one);
- a conversation's inboxes are known once every listed inbox has either been read to its
  end or shown the conversation; until then (the first pages of a large company) it is read
  per conversation as before;
- a conversation no listed inbox holds is read per conversation too: it may be in an inbox
  the token does not list (or in none, a discussion), which only its own read can say.

The lists are read after the first load's start, like everything else it reads: a
conversation moved between inboxes meanwhile has an event after that start, and the event log
stage reads it again whole.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from porch.sync.warehouse.reader import JSON, MAX_PAGES, PAGE, gather_all

if TYPE_CHECKING:
    from porch.sync.warehouse.reader import Reader


# Requests the inboxes' lists have in flight, beyond the sync's own limit.
LANE = 4


class InboxIndex:
    """Which listed inboxes hold each conversation, filled as the inboxes' lists are read."""

    def __init__(self, read: Reader) -> None:
        self.read = read
        self.inboxes: list[str] = []
        self.done: set[str] = set()
        self.of: dict[str, set[str]] = {}
        self._task: asyncio.Task[None] | None = None
        self._lane = asyncio.Semaphore(LANE)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        """Stops the reading (a failed read of a list only costs per-conversation reads)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def finished(self) -> None:
        """Until every list is read (or the reading failed: lookups then say less)."""
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        inboxes = await self.read.all("/inboxes")
        self.inboxes = [str(i["id"]) for i in inboxes]
        await gather_all(self._inbox(i) for i in self.inboxes)

    async def _inbox(self, inbox: str) -> None:
        url: str | None = f"/inboxes/{inbox}/conversations"
        params: dict[str, object] | None = {"limit": PAGE}
        for _ in range(MAX_PAGES * 10):
            if url is None:
                break
            page: JSON = await self.read.get(url, params, lane=self._lane)
            for c in page.get("_results") or []:
                self.of.setdefault(str(c["id"]), set()).add(inbox)
            url, params = (page.get("_pagination") or {}).get("next"), None
        self.done.add(inbox)

    def lookup(self, cid: str) -> list[str] | None:
        """The listed inboxes holding ``cid`` if they are known exactly, else None."""
        found = self.of.get(cid)
        if not found or not self.inboxes:
            return None
        if all(i in self.done or i in found for i in self.inboxes):
            return sorted(found)
        return None
