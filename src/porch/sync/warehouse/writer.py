"""Writing for the sync: each batch is hashed (the configured columns), stamped and handed to
the destination with a copy of the state as it is when the batch is complete, in a thread,
while the reading goes on. One write runs at a time, in order, so the saved state always
describes exactly the rows committed with it; a write that failed fails the run at the next
commit (or at ``flush``).
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from porch.sync.warehouse import rows as make
from porch.sync.warehouse.destinations import Batch, Counts, Destination
from porch.sync.warehouse.schema import Table

if TYPE_CHECKING:
    from porch.client import AsyncClient
    from porch.sync.warehouse.engine import Summary

T = TypeVar("T")


class Writer:
    def __init__(
        self,
        dest: Destination,
        client: AsyncClient,
        summary: Summary,
        hash_columns: dict[str, list[str]],
        progress: Callable[[Summary], None] | None,
    ) -> None:
        self.dest = dest
        self.client = client
        self.summary = summary
        self.hash_columns = hash_columns
        self.progress = progress
        self.tables: dict[str, Table] = {}
        self.salt = ""
        self._writing: asyncio.Task[None] | None = None
        self._turn = asyncio.Lock()

    def _hash(self, batch: Batch) -> None:
        for table, cols in self.hash_columns.items():
            for row in batch.rows.get(table, []):
                for col in cols:
                    if row.get(col) is not None:
                        digest = hashlib.sha256((self.salt + str(row[col])).encode()).hexdigest()
                        row[col] = digest

    async def commit(self, batch: Batch, state: dict[str, Any]) -> None:
        """Queue ``batch`` with ``state`` as it is now (the cursor moves with the rows); waits
        only for the write before it."""
        self._hash(batch)
        # The server's Date header counts whole seconds, so two runs (or two batches) inside
        # one second would share a stamp, and an append-only destination tells a key's latest
        # row by it. Each stamp is later than the one before, across runs too: the last one
        # rides in the state saved with the rows.
        now = self.client.server_time or time.time()
        stamp = max(now, float(state.get("synced_at") or 0.0) + 0.001)
        state["synced_at"] = stamp
        batch.synced_at = make.ts(stamp)
        saved = copy.deepcopy(state)
        async with self._turn:  # first come, first written: the last state saved is the newest
            await self.flush()
            self._writing = asyncio.create_task(self._write(batch, saved))

    async def read(self, fn: Callable[[], T]) -> T:
        """``fn`` (a read of the destination) run in a thread once the writes before it are
        done, none running beside it."""
        async with self._turn:
            await self.flush()
            return await asyncio.to_thread(fn)

    async def _write(self, batch: Batch, state: dict[str, Any]) -> None:
        counts = await asyncio.to_thread(self.dest.commit, self.tables, batch, state)
        for name, c in counts.items():
            self.summary.tables.setdefault(name, Counts()).add(c)
        if self.progress is not None:
            self.progress(self.summary)

    async def flush(self) -> None:
        """Wait for the write in progress (its error, if it failed, is raised here)."""
        writing, self._writing = self._writing, None
        if writing is not None:
            await writing
