"""CRM contact sync: make Porch's contacts (or Front's: only the public API is used) what a CRM
export says they are.

For each row the contact is found by its handles, created when missing, and changed only where
the row differs (name, description, the custom fields the mapping names, list membership, handles
it lacks, its account); a row that cannot be applied is reported with the reason and the sync goes
on. Nothing is read per row: the contacts are read page by page before the rows are applied —
all of them the first time, then (with a state file) only those updated since the last run
(``q[updated_after]``), the rest coming from the state file's record of what the last run saw
and wrote. So a second run over an unchanged export makes no write and almost no read.

The state file also records, while a run goes, which rows are done: an interrupted run started
again with the same file skips them; rows that were in flight are applied again, harmlessly
(a contact that exists is found, by its handle, not created twice). Requests are paced by the
client's rate-limit handling (``porch.client``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path

from porch.client import AsyncClient
from porch.client.errors import ApiError, TransportError
from porch.sync.contact_state import Failure, State, Summary
from porch.sync.contact_writes import ContactWriter
from porch.sync.rows import Desired, Mapping, RowError, desired

# Rows queued ahead of the workers (bounded memory for any size of export).
QUEUE = 1000
# How often the progress of a run is saved.
SAVE_SECONDS = 2.0


class ContactSync:
    """One run of the sync (see the module) with ``client`` and ``mapping``."""

    def __init__(
        self,
        client: AsyncClient,
        mapping: Mapping,
        *,
        state_path: Path | None = None,
        dry_run: bool = False,
        concurrency: int = 8,
        progress: Callable[[Summary], None] | None = None,
        report: Callable[[str], None] | None = None,
    ) -> None:
        self.client = client
        self.mapping = mapping
        self.dry_run = dry_run
        self.concurrency = max(1, concurrency)
        self.progress = progress
        self.report = report
        self.state = State(state_path, str(getattr(client, "base_url", "")))
        self.summary = Summary()
        self.field_types: dict[str, str] = {}
        self.writer = ContactWriter(
            client, mapping, self.state, self.summary, dry_run=dry_run, report=report
        )

    async def _read_fields(self) -> None:
        if not self.mapping.custom_fields:
            return
        body = await self.client.get("/contacts/custom_fields")
        self.field_types = {str(f["name"]): str(f["type"]) for f in body["_results"]}

    # --- the run -----------------------------------------------------------------------------

    async def _worker(self, queue: asyncio.Queue[tuple[int, Desired] | None]) -> None:
        while (item := await queue.get()) is not None:
            number, want = item
            try:
                await self.writer.apply(want, number)
            except ApiError as exc:
                reason = f"{exc.status} {exc.message or exc.title}"
                if exc.details:
                    reason += ": " + "; ".join(exc.details)
                self._fail(number, want.key[1], reason)
            except TransportError as exc:
                # No answer even after the client's retries: the row is reported, not lost
                # silently, and a worker that stopped here would stall the whole run.
                self._fail(number, want.key[1], f"no answer: {exc.__cause__ or exc}")
            self.state.mark(number)

    def _fail(self, number: int, key: str, reason: str) -> None:
        self.summary.failed += 1
        self.summary.failures.append(Failure(number, key, reason))
        if self.report is not None:
            self.report(f"row {number}: {key}: {reason}")

    async def run(
        self,
        rows: Iterable[dict[str, str]] | AsyncIterator[dict[str, str]],
        source: str | None = None,
    ) -> Summary:
        """Apply every row; ``source`` names the export (so that a run can be resumed)."""
        await self._read_fields()
        await self.writer.read_contacts()
        resuming = self.state.resumes(source)
        if not resuming:
            self.state.done_below, self.state.done = 1, set()
        queues: list[asyncio.Queue[tuple[int, Desired] | None]] = [
            asyncio.Queue(QUEUE // self.concurrency + 1) for _ in range(self.concurrency)
        ]
        workers = [asyncio.create_task(self._worker(q)) for q in queues]
        saver = asyncio.create_task(self._save_progress(source))
        try:
            number = 0
            async for row in _rows(rows):
                number += 1
                if resuming and self.state.is_done(number):
                    self.summary.skipped += 1
                    continue
                try:
                    want = desired(row, self.mapping, self.field_types)
                except RowError as exc:
                    self._fail(number, _first_cell(row, self.mapping), str(exc))
                    self.state.mark(number)
                    continue
                # One contact's rows go to one worker, in order.
                await queues[hash(want.key) % len(queues)].put((number, want))
                if self.progress is not None and number % 100 == 0:
                    self.progress(self.summary)
            for q in queues:
                await q.put(None)
            await asyncio.gather(*workers)
        finally:
            for task in workers:
                task.cancel()
            saver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await saver
            if not self.dry_run:
                self.state.save_progress(source)
        if self.progress is not None:
            self.progress(self.summary)
        if not self.dry_run:
            # Contacts updated in the last seconds are read again next time (clock resolution).
            cursor = (self.writer.latest or time.time()) - 2.0
            self.state.save(cursor)
        return self.summary

    async def _save_progress(self, source: str | None) -> None:
        while True:
            await asyncio.sleep(SAVE_SECONDS)
            if not self.dry_run:
                self.state.save_progress(source)


async def _rows(
    rows: Iterable[dict[str, str]] | AsyncIterator[dict[str, str]],
) -> AsyncIterator[dict[str, str]]:
    if isinstance(rows, AsyncIterator):
        async for row in rows:
            yield row
    else:
        for n, row in enumerate(rows):
            yield row
            if n % 200 == 0:
                await asyncio.sleep(0)  # let the workers run while a big file is read


def _first_cell(row: dict[str, str], mapping: Mapping) -> str:
    return (row.get(mapping.handles[mapping.key_source]) or "").strip() or "(no key)"


async def sync_contacts(
    client: AsyncClient,
    rows: Iterable[dict[str, str]] | AsyncIterator[dict[str, str]],
    mapping: Mapping,
    *,
    state_path: Path | None = None,
    dry_run: bool = False,
    concurrency: int = 8,
    source: str | None = None,
) -> Summary:
    """Bring ``rows`` (any iterable of column → text dicts, e.g. a CRM API's records) into the
    contacts of ``client``'s company; see the module. The summary counts each row once."""
    run = ContactSync(
        client, mapping, state_path=state_path, dry_run=dry_run, concurrency=concurrency
    )
    return await run.run(rows, source)
