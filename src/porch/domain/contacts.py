"""Contacts as other areas reach them: by ``crd_`` id or by one of their handles.

Contacts are created when a message's sender or recipient is resolved by handle; their own
endpoints come with the contacts issue, which builds on the same tables.
"""

from __future__ import annotations

from porch import ids
from porch.domain import refs
from porch.domain.errors import not_found
from porch.domain.principal import Principal
from porch.store import contacts as store
from porch.store.contacts import Contact
from porch.store.db import Reader

# Front's contact aliases: alt:<source>:<handle>.
ALIAS_SOURCES = ("email", "phone", "twitter", "facebook", "intercom", "front_chat", "custom")


async def access_contact(conn: Reader, *, principal: Principal, ref: str) -> Contact:
    """The contact ``ref`` names (``crd_…`` or ``alt:email:…`` and the other handle aliases)."""
    key = ids.decode(ids.CONTACT, ref)
    if key is None and ref.startswith("alt:"):
        source = ref.split(":", 2)[1]
        handle = refs.alias(ref, source) if source in ALIAS_SOURCES else None
        if handle is not None:
            key = await store.key_by_handle(
                conn,
                company_id=principal.company_id,
                source=source,
                handle=handle.lower() if source == "email" else handle,
            )
    contact = await store.get(conn, company_id=principal.company_id, key=key) if key else None
    if contact is None:
        raise not_found("contact", ref)
    return contact
