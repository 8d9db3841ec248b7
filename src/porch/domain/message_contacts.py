"""The people a message names: a handle as stored and checked, and the contact it resolves to
(one per company and canonical handle, created the first time the handle is seen)."""

from __future__ import annotations

from porch.domain.contacts import canonical_handle
from porch.domain.errors import BadRequest
from porch.store import contacts as contacts_store
from porch.store import crud
from porch.store.db import Connection
from porch.store.tables import contacts
from porch.timeutil import now_ms


def normalise_handle(source: str, handle: str) -> str:
    """The stored form of a handle: trimmed, and lower-cased for email addresses."""
    handle = handle.strip()
    return handle.lower() if source == "email" else handle


def check_handle(handle: str) -> None:
    if not handle.strip():
        raise BadRequest("A handle must not be empty")


# Contacts a transaction has resolved already, by (source, stored handle): a batch of messages
# to one address looks it up once. Valid only while everything the transaction wrote stands.
KnownContacts = dict[tuple[str, str], int]


async def resolve_contact(
    tx: Connection,
    *,
    company_id: int,
    source: str,
    handle: str,
    name: str | None,
    known: KnownContacts | None = None,
) -> int:
    """The key of the contact holding ``(source, handle)``, created (named ``name``) the first
    time the handle is seen."""
    key, _ = await find_or_create_contact(
        tx, company_id=company_id, source=source, handle=handle, name=name, known=known
    )
    return key


async def find_or_create_contact(
    tx: Connection,
    *,
    company_id: int,
    source: str,
    handle: str,
    name: str | None,
    known: KnownContacts | None = None,
) -> tuple[int, bool]:
    """As ``resolve_contact``, and whether the contact was created just now (so nothing of
    it can exist yet: no conversation to thread into)."""
    handle = canonical_handle(source, handle)
    if known is None:
        known = {}
    found = known.get((source, handle))
    if found is None:
        found = await contacts_store.key_by_handle(
            tx, company_id=company_id, source=source, handle=handle
        )
    if found is not None:
        known[(source, handle)] = found
        return found, False
    now = now_ms()
    key = await crud.insert(
        tx,
        contacts,
        company_id=company_id,
        name=name,
        description=None,
        is_private=False,
        custom_fields="{}",
        created_at=now,
        updated_at=now,
        links="[]",
        name_is_manual=False,
    )
    if await contacts_store.add_handle(
        tx, company_id=company_id, contact_id=key, source=source, handle=handle
    ):
        known[(source, handle)] = key
        return key, True
    # Another message from the same new sender created the contact first (concurrent writers
    # on PostgreSQL): use that one, and drop the contact made here, which nothing references.
    await crud.delete(tx, contacts, company_id=company_id, key=key)
    found = await contacts_store.key_by_handle(
        tx, company_id=company_id, source=source, handle=handle
    )
    assert found is not None, "the conflicting handle is committed when the insert returns"
    return found, False
