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
import json
import os
import re
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from porch.client import AsyncClient
from porch.client.errors import ApiError, Conflict, NotFound, TransportError
from porch.sync.rows import Desired, Mapping, RowError, desired

PAGE = 100
# Rows queued ahead of the workers (bounded memory for any size of export).
QUEUE = 1000
# How often the progress of a run is saved.
SAVE_SECONDS = 2.0
_CONTACT_ID = re.compile(r"crd_[0-9a-z]+")


@dataclass
class Failure:
    row: int
    key: str
    reason: str


@dataclass
class Summary:
    """What a run did (or, dry, would do)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    skipped: int = 0
    # Handles a row names that another contact holds (a shared phone number, say): the row's
    # contact is written without them, and each is reported.
    left_out: int = 0
    failures: list[Failure] = field(default_factory=list)

    @property
    def done(self) -> int:
        return self.created + self.updated + self.unchanged + self.failed + self.skipped


@dataclass
class Snapshot:
    """What Porch holds of a contact, as far as the sync manages it."""

    id: str
    handles: list[list[str]]
    name: str | None
    description: str | None
    lists: list[str]
    custom_fields: dict[str, Any]
    account: str | None = None

    @classmethod
    def of(cls, contact: dict[str, Any], account: str | None = None) -> Snapshot:
        return cls(
            id=str(contact["id"]),
            handles=[[str(h["source"]), str(h["handle"])] for h in contact.get("handles") or []],
            name=contact.get("name"),
            description=contact.get("description"),
            lists=sorted(str(g["name"]) for g in contact.get("lists") or []),
            custom_fields=dict(contact.get("custom_fields") or {}),
            account=account,
        )


@dataclass
class Changes:
    """The writes a row needs on an existing contact."""

    patch: dict[str, Any]
    handles: list[tuple[str, str]]
    account: tuple[str, str] | None

    def __bool__(self) -> bool:
        return bool(self.patch or self.handles or self.account)


def changes(want: Desired, have: Snapshot) -> Changes:
    """What differs between the row and the contact (only what the mapping manages)."""
    patch: dict[str, Any] = {}
    if want.name is not None and want.name != have.name:
        patch["name"] = want.name
    if want.description is not None and want.description != have.description:
        patch["description"] = want.description
    merged = {**have.custom_fields, **want.custom_fields}
    if merged != have.custom_fields:
        # A write replaces the whole map: keep the fields the export does not manage.
        patch["custom_fields"] = merged
    if want.lists is not None and sorted(want.lists) != have.lists:
        patch["list_names"] = list(want.lists)
    held = {(s, h) for s, h in have.handles}
    missing = [h for h in want.handles if h not in held]
    account = want.account if want.account and want.account[0] != have.account else None
    return Changes(patch, missing, account)


class State:
    """The state file: what the last run saw and wrote, and how far a run has got."""

    def __init__(self, path: Path | None, base_url: str) -> None:
        self.path = path
        self.base_url = base_url
        self.cursor: float | None = None
        self.contacts: dict[str, Snapshot] = {}
        self.source: str | None = None
        # Rows are numbered from 1; every row below ``done_below`` is done.
        self.done_below = 1
        self.done: set[int] = set()
        if path is not None and path.exists():
            data = json.loads(path.read_text())
            if data.get("base_url") == base_url:
                self.cursor = data.get("cursor")
                self.contacts = {k: Snapshot(**v) for k, v in data["contacts"].items()}
        progress = self._progress_path()
        if progress is not None and progress.exists():
            data = json.loads(progress.read_text())
            self.source = data.get("source")
            self.done_below = int(data.get("below", 1))
            self.done = set(data.get("done", []))

    def _progress_path(self) -> Path | None:
        return self.path.with_name(self.path.name + ".progress") if self.path else None

    def resumes(self, source: str | None) -> bool:
        return source is not None and source == self.source

    def mark(self, row: int) -> None:
        self.done.add(row)
        while self.done_below in self.done:
            self.done.discard(self.done_below)
            self.done_below += 1

    def is_done(self, row: int) -> bool:
        return row < self.done_below or row in self.done

    def save_progress(self, source: str | None) -> None:
        progress = self._progress_path()
        if progress is None:
            return
        body = {"source": source, "below": self.done_below, "done": sorted(self.done)}
        _write(progress, json.dumps(body))

    def save(self, cursor: float | None) -> None:
        """The run is over: record what it saw and wrote, and forget its progress."""
        if self.path is None:
            return
        body = {
            "version": 1,
            "base_url": self.base_url,
            "cursor": cursor,
            "contacts": {k: asdict(v) for k, v in self.contacts.items()},
        }
        _write(self.path, json.dumps(body))
        progress = self._progress_path()
        if progress is not None:
            progress.unlink(missing_ok=True)


def _write(path: Path, text: str) -> None:
    """Replace ``path`` whole (a crash leaves the old or the new file, never half of one)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


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
        self.index: dict[tuple[str, str], str] = {}
        self.field_types: dict[str, str] = {}
        self.accounts: dict[str, str] = {}  # domain -> acc_ id
        self._latest: float | None = None

    # --- reading what Porch has ------------------------------------------------------------

    async def _read_contacts(self) -> None:
        """Fill the index: from the state file and the contacts updated since its cursor, or
        from every contact when there is no state."""
        params: dict[str, Any] = {"limit": PAGE, "sort_by": "updated_at", "sort_order": "asc"}
        if self.state.cursor is not None and self.state.contacts:
            params["q[updated_after]"] = self.state.cursor
        else:
            self.state.contacts = {}
        accounts = {k: v.account for k, v in self.state.contacts.items()}
        async for contact in self.client.paginate("/contacts", params=params):
            found = Snapshot.of(contact, accounts.get(str(contact["id"])))
            self.state.contacts[found.id] = found
        if self.mapping.account_domain and "q[updated_after]" not in params:
            await self._read_memberships()
        for snap in self.state.contacts.values():
            for source, handle in snap.handles:
                self.index[(source, handle)] = snap.id

    async def _read_memberships(self) -> None:
        """Which account each contact is in (contacts do not show it; accounts do)."""
        async for account in self.client.paginate("/accounts", params={"limit": PAGE}):
            domains = account.get("domains") or []
            if not domains:
                continue
            self.accounts[str(domains[0])] = str(account["id"])
            path = f"/accounts/{account['id']}/contacts"
            async for contact in self.client.paginate(path, params={"limit": PAGE}):
                snap = self.state.contacts.get(str(contact["id"]))
                if snap is not None:
                    snap.account = str(domains[0])

    async def _read_fields(self) -> None:
        if not self.mapping.custom_fields:
            return
        body = await self.client.get("/contacts/custom_fields")
        self.field_types = {str(f["name"]): str(f["type"]) for f in body["_results"]}

    # --- applying a row ----------------------------------------------------------------------

    def _stamp(self) -> None:
        """The server's clock at the latest answer (for the next run's cursor)."""
        self._latest = self.client.server_time or time.time()

    async def _account(self, domain: str, name: str) -> str:
        """The account of ``domain``, found by alias or created."""
        found = self.accounts.get(domain)
        if found is not None:
            return found
        try:
            account = await self.client.get(f"/accounts/alt:domain:{quote(domain, safe='')}")
        except NotFound:
            try:
                body = {"name": name, "domains": [domain]}
                account = await self._write("POST", "/accounts", body)
            except Conflict:  # another worker created it meanwhile
                account = await self.client.get(f"/accounts/alt:domain:{quote(domain, safe='')}")
        self.accounts[domain] = str(account["id"])
        return self.accounts[domain]

    async def _join_account(self, snap: Snapshot, account: tuple[str, str]) -> None:
        account_id = await self._account(*account)
        await self._write("POST", f"/accounts/{account_id}/contacts", {"contact_ids": [snap.id]})
        snap.account = account[0]

    async def _create(self, want: Desired, number: int) -> Snapshot | None:
        """Create the contact; None when created, else the contact that turned out to hold its
        key handle already (created meanwhile). Handles held by other contacts are left out."""
        handles = [h for h in want.handles if h == want.key or not self._elsewhere(h, None)]
        for handle in want.handles:
            if handle not in handles:
                self._left_out(number, want, handle)
        body: dict[str, Any] = {"handles": [{"source": s, "handle": h} for s, h in handles]}
        if want.name is not None:
            body["name"] = want.name
        if want.description is not None:
            body["description"] = want.description
        if want.custom_fields:
            body["custom_fields"] = want.custom_fields
        if want.lists:
            body["list_names"] = list(want.lists)
        for attempt in range(2):
            try:
                contact = await self._write("POST", "/contacts", body)
                break
            except Conflict as exc:
                holder = _CONTACT_ID.search(" ".join([exc.message or "", *exc.details]))
                if holder is None or attempt == 1:
                    raise
                found = await self._fetch(holder.group(0))
                if want.key in {(s, h) for s, h in found.handles}:
                    return found  # the row's own contact, made meanwhile
                # Another person holds one of the other handles: leave those out.
                theirs = {(s, h) for s, h in found.handles}
                for handle in [h for h in handles if h in theirs]:
                    self._left_out(number, want, handle)
                handles = [h for h in handles if h not in theirs]
                body["handles"] = [{"source": s, "handle": h} for s, h in handles]
        snap = Snapshot.of(contact)
        self._remember(snap)
        if want.account:
            await self._join_account(snap, want.account)
        self.summary.created += 1
        return None

    async def _write(self, method: str, path: str, body: dict[str, Any]) -> Any:
        """A write, retried by the client after a lost connection even when it is a POST: each
        of the sync's writes can be repeated safely (a repeated create meets its own handle, a
        409 naming the contact, which is then fetched; adding a handle or an account member
        twice changes nothing)."""
        return await self.client.request(method, path, json=body, retry_unsafe=True)

    async def _fetch(self, contact_id: str) -> Snapshot:
        snap = Snapshot.of(await self.client.get(f"/contacts/{contact_id}"))
        self._remember(snap)
        return snap

    def _remember(self, snap: Snapshot) -> None:
        self.state.contacts[snap.id] = snap
        for source, handle in snap.handles:
            self.index[(source, handle)] = snap.id

    async def _update(self, want: Desired, snap: Snapshot, number: int) -> None:
        todo = changes(want, snap)
        for taken in [h for h in todo.handles if self._elsewhere(h, snap.id)]:
            todo.handles.remove(taken)
            self._left_out(number, want, taken)
        if not todo:
            self.summary.unchanged += 1
            return
        if self.dry_run:
            self.summary.updated += 1
            return
        if todo.patch:
            await self._write("PATCH", f"/contacts/{snap.id}", todo.patch)
            for key, value in todo.patch.items():
                if key == "list_names":
                    snap.lists = sorted(value)
                else:
                    setattr(snap, key, value)
        for source, handle in todo.handles:
            body = {"source": source, "handle": handle}
            await self._write("POST", f"/contacts/{snap.id}/handles", body)
            snap.handles.append([source, handle])
            self.index[(source, handle)] = snap.id
        if todo.account:
            await self._join_account(snap, todo.account)
        self.summary.updated += 1

    def _known(self, want: Desired) -> Snapshot | None:
        """The contact holding the row's key handle, else one holding another of its handles
        and no other handle of the key's kind (a contact with another email address is another
        person who shares, say, a phone number)."""
        holder = self.index.get(want.key)
        if holder is None:
            holder = next(
                (
                    self.index[h]
                    for h in want.handles
                    if h in self.index and not self._other_key(self.index[h], want)
                ),
                None,
            )
        return self.state.contacts.get(holder) if holder else None

    def _other_key(self, contact_id: str, want: Desired) -> bool:
        snap = self.state.contacts.get(contact_id)
        kind, key = want.key
        return snap is not None and any(s == kind and h != key for s, h in snap.handles)

    def _elsewhere(self, handle: tuple[str, str], mine: str | None) -> bool:
        """Whether another contact than ``mine`` holds ``handle``."""
        holder = self.index.get(handle)
        return holder is not None and holder != mine

    def _left_out(self, number: int, want: Desired, handle: tuple[str, str]) -> None:
        self.summary.left_out += 1
        if self.report is not None:
            holder = self.index.get(handle, "another contact")
            self.report(
                f"row {number}: {want.key[1]}: {handle[0]} {handle[1]} belongs to {holder};"
                " left out"
            )

    def _forget(self, snap: Snapshot) -> None:
        self.state.contacts.pop(snap.id, None)
        for source, handle in snap.handles:
            if self.index.get((source, handle)) == snap.id:
                del self.index[(source, handle)]

    async def _apply(self, want: Desired, number: int) -> None:
        snap = self._known(want)
        if snap is None:
            if self.dry_run:
                self.summary.created += 1
                return
            snap = await self._create(want, number)
            if snap is None:  # created
                self._stamp()
                return
        try:
            await self._update(want, snap, number)
        except NotFound:
            # Deleted or merged away since the last run: it is created again.
            self._forget(snap)
            if self.dry_run:
                self.summary.created += 1
                return
            found = await self._create(want, number)
            if found is not None:
                await self._update(want, found, number)
        if not self.dry_run:
            self._stamp()

    # --- the run -----------------------------------------------------------------------------

    async def _worker(self, queue: asyncio.Queue[tuple[int, Desired] | None]) -> None:
        while (item := await queue.get()) is not None:
            number, want = item
            try:
                await self._apply(want, number)
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
        await self._read_contacts()
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
            cursor = (self._latest or time.time()) - 2.0
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
