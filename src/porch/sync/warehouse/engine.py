"""One run of the warehouse sync: read Porch (or Front) through the public API, write batches.

The first run goes in stages (``backfill.py``), each batch committed with the state that says
where it stopped: the reference objects (teammates, teams, inboxes, channels, tags, rules,
accounts), then the conversations active in the last ``recent_days`` (the list's own order,
most recent first) with their messages, comments, tags, inboxes and followers, then the
contacts updated in that window — so recent work is queryable early — then the older
conversations and contacts, then the event log (``event`` and the history tables). A killed
run starts again at its last commit; rows written twice are merged on their keys, so nothing
is loaded twice.

Later runs (``incremental.py``) read ``GET /events`` after the saved cursor (with a few seconds
of overlap: events commit slightly out of order) and refetch only the conversations the events
name; a conversation that is gone (404) or merged away is flagged ``_deleted``. Contacts and
accounts come by ``q[updated_after]``; deleted contacts come from Porch's log
(``GET /porch/events``) or, where that cannot be read (Front), by comparing the contact ids
the API lists with those the destination holds. The reference objects are small and read whole.

Reading (``reader.py``: many requests in flight) and writing (``writer.py``: one batch at a
time, in a thread) overlap: the next pages are read while the last batch is written.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from porch.client import AsyncClient
from porch.client.errors import ApiError
from porch.sync.warehouse import backfill, incremental
from porch.sync.warehouse.config import SyncConfig
from porch.sync.warehouse.destinations import Batch, Counts, Destination
from porch.sync.warehouse.reader import Reader
from porch.sync.warehouse.schema import TABLES, Table, with_custom_fields
from porch.sync.warehouse.writer import Writer


@dataclass
class Summary:
    """What a run wrote, per table, and how far it got."""

    tables: dict[str, Counts] = field(default_factory=dict)
    stage: str = ""
    conversations: int = 0
    contacts: int = 0
    events: int = 0
    requests: int = 0
    # API objects read (list items and single objects).
    records: int = 0
    seconds: float = 0.0
    full: bool = False
    recent_seconds: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(c.inserted + c.updated + c.deleted for c in self.tables.values())


class WarehouseSync:
    """A sync from ``client``'s company into ``destination`` (see the module)."""

    def __init__(
        self,
        client: AsyncClient,
        destination: Destination,
        config: SyncConfig,
        *,
        full_refresh: list[str] | None = None,
        progress: Callable[[Summary], None] | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.client = client
        self.dest = destination
        self.config = config
        self.full_refresh = full_refresh
        self.log = log or (lambda line: None)
        self.summary = Summary()
        self.tables: dict[str, Table] = {}
        self.state: dict[str, Any] = {}
        self.read = Reader(client, self.summary, config.concurrency)
        self.write = Writer(destination, client, self.summary, config.hash_columns, progress)
        self.started = time.monotonic()

    @property
    def client_url(self) -> str:
        return str(getattr(self.client, "base_url", "") or self.config.base_url)

    def now(self) -> float:
        """The server's clock as its last answer gave it (this machine's before the first)."""
        return self.client.server_time or time.time()

    def want(self, *names: str) -> bool:
        return any(n in self.tables for n in names)

    async def commit(self, batch: Batch) -> None:
        # A first load's batches may skip the merge for rows the destination never wrote.
        batch.loading = self.state.get("backfill") is not None
        await self.write.commit(batch, self.state)

    # --- setup --------------------------------------------------------------------------------

    async def _fields(self, kind: str) -> dict[str, str]:
        try:
            body = await self.client.get(f"/{kind}s/custom_fields")
        except ApiError:
            return {}
        return {str(f["name"]): str(f.get("type", "string")) for f in body.get("_results") or []}

    async def _tables(self) -> dict[str, Table]:
        out: dict[str, Table] = {}
        blocked = set(self.config.exclude_tables)
        for name, table in TABLES.items():
            if name in blocked:
                continue
            if table.custom_fields:
                table = with_custom_fields(table, await self._fields(table.custom_fields))
            drop = set(self.config.exclude_columns.get(name, [])) - set(table.key)
            if drop:
                table = Table(
                    table.name,
                    table.key,
                    {c: k for c, k in table.columns.items() if c not in drop},
                    table.parent,
                    table.history,
                    table.custom_fields,
                    {c: k for c, k in table.extra.items() if c not in drop},
                )
            out[name] = table
        return out

    def _load_state(self) -> None:
        saved = self.dest.read_state() or {}
        if saved.get("base_url") not in (None, self.client_url):
            self.log(f"the destination was synced from {saved.get('base_url')}: starting over")
            saved = {"salt": saved.get("salt")}
        self.state = saved
        self.state.setdefault("version", 1)
        self.state["base_url"] = self.client_url
        # The hashing salt lives in the state: hashes stay equal across runs and refreshes.
        self.state.setdefault("salt", None)
        if not self.state["salt"]:
            self.state["salt"] = secrets.token_hex(16)
        if self.full_refresh is not None:
            names = self.full_refresh or list(self.tables)
            self.dest.truncate([n for n in names if n in self.tables])
            # Kept: tables not refreshed keep their rows, whose stamps the next ones follow.
            kept = ("version", "base_url", "salt", "synced_at")
            self.state = {k: self.state[k] for k in kept if k in self.state}
        if "backfill" not in self.state and not self.state.get("loaded"):
            self.state["backfill"] = {"stage": backfill.STAGES[0], "next": None}

    # --- the run ------------------------------------------------------------------------------

    async def run(self) -> Summary:
        """One run: the first (or a resumed first) in stages, later ones incremental."""
        self.tables = await self._tables()
        self.read.tables = self.write.tables = self.tables
        await asyncio.to_thread(self.dest.prepare, list(self.tables.values()))
        await asyncio.to_thread(self._load_state)
        self.write.salt = str(self.state["salt"])
        try:
            if self.state.get("backfill") is not None:
                self.summary.full = True
                await backfill.run(self)
            else:
                self.summary.stage = "incremental"
                await incremental.run(self)
        finally:
            # The write in progress finishes (its state is consistent) whatever stopped the run.
            await self.write.flush()
        self.summary.seconds = time.monotonic() - self.started
        return self.summary
