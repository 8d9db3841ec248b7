"""The contact sync's writes: Porch's contacts as a run sees them (who holds which handle, the
accounts by domain) and what makes a contact what a row says it is."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from porch.client import AsyncClient
from porch.client.errors import Conflict, NotFound
from porch.sync.contact_state import Snapshot, State, Summary, changes
from porch.sync.rows import Desired, Mapping

PAGE = 100
_CONTACT_ID = re.compile(r"crd_[0-9a-z]+")


class ContactWriter:
    """Applies a run's rows to ``client``'s contacts, counting each in ``summary`` (``dry_run``:
    counts what it would do, writes nothing); ``report`` hears of each handle left out."""

    def __init__(
        self,
        client: AsyncClient,
        mapping: Mapping,
        state: State,
        summary: Summary,
        *,
        dry_run: bool,
        report: Callable[[str], None] | None,
    ) -> None:
        self.client = client
        self.mapping = mapping
        self.state = state
        self.summary = summary
        self.dry_run = dry_run
        self.report = report
        self.index: dict[tuple[str, str], str] = {}
        self.accounts: dict[str, str] = {}  # domain -> acc_ id
        # The server's clock at the latest write's answer.
        self.latest: float | None = None

    # --- reading what Porch has ------------------------------------------------------------

    async def read_contacts(self) -> None:
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

    # --- applying a row ----------------------------------------------------------------------

    def _stamp(self) -> None:
        """The server's clock at the latest answer (for the next run's cursor)."""
        self.latest = self.client.server_time or time.time()

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

    async def apply(self, want: Desired, number: int) -> None:
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
