"""Contacts: company, team and private (teammate) contacts, their handles, lists and notes.

A contact is named by ``crd_…`` or by any of its handles (``alt:<source>:<handle>``). Handles
are (source, handle) pairs unique per company, stored in canonical form so that one address is
one contact however it is written: email addresses lower-cased, phone numbers in E.164 (a
number without a country code is +1), Twitter names as ``@`` plus the name in lower case, other
sources as given (trimmed). Creating a contact with, or adding, a handle another contact holds
is a 409 naming that contact. Messages create company contacts by handle
(``domain/message_contacts.py: find_or_create_contact``) with the same canonical form,
leniently: a phone number that cannot be one is kept as written instead of refused.

Visibility is that of other owned resources (``store/visibility.py``): company contacts for
every shared or team token, a team's for its token, a teammate's for private tokens when the
teammate allows it. Creating or deleting a company contact needs a shared token (403).
``custom_fields`` are validated by type and a write replaces the whole map; ``links`` and
``list_names`` (or the deprecated ``group_names``) replace theirs too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
import phonenumbers

from porch import ids
from porch.domain import custom_fields, refs
from porch.domain import teammates as teammates_domain
from porch.domain.contact_lists import Owner, resolve_names
from porch.domain.errors import BadRequest, Conflict, Forbidden, NotFound, not_found
from porch.domain.principal import Principal
from porch.events import log
from porch.store import contact_lists as lists_store
from porch.store import contacts as store
from porch.store import crud
from porch.store import teammates as teammates_store
from porch.store.contact_lists import MEMBERS, ContactList
from porch.store.contacts import Contact, Note
from porch.store.db import Connection, Database, Reader, concurrently
from porch.store.sorted_pages import Window
from porch.store.tables import contact_notes, contacts
from porch.store.teammates import Teammate
from porch.timeutil import now_ms

# Front's handle sources, each also an alias kind: alt:<source>:<handle>.
SOURCES = ("email", "phone", "twitter", "facebook", "intercom", "front_chat", "custom")
ALIAS_SOURCES = SOURCES
# Where a phone number without a country code is taken to be (NOTES §4: +1).
DEFAULT_REGION = "US"
MAX_LINKS = 100


# --- Handles ----------------------------------------------------------------------------------


def _e164(number: str) -> str | None:
    """``number`` in E.164, or None if it cannot be a phone number (a number of a length no
    country uses, or only possible as a local number without its area code)."""
    try:
        parsed = phonenumbers.parse(number, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None
    possible = phonenumbers.is_possible_number_with_reason(parsed)
    if possible != phonenumbers.ValidationResult.IS_POSSIBLE:
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def canonical_handle(source: str, handle: str) -> str:
    """The stored form of a handle, for lookups and for messages' contacts: as ``checked_handle``
    but never refusing (a phone number that cannot be one stays as written)."""
    handle = handle.strip()
    if source == "email":
        return handle.lower()
    if source == "phone":
        return _e164(handle) or handle
    if source == "twitter":
        return "@" + handle.removeprefix("@").lower() if handle.removeprefix("@") else handle
    return handle


def checked_handle(source: str, handle: str) -> str:
    """The stored form of a handle a client writes; BadRequest if it cannot be one."""
    if source not in SOURCES:
        raise BadRequest(f"source must be one of: {', '.join(SOURCES)}")
    stripped = handle.strip()
    if not stripped or (source == "twitter" and not stripped.removeprefix("@")):
        raise BadRequest("A handle cannot be blank")
    if source == "phone":
        e164 = _e164(stripped)  # parsed once: phonenumbers costs ~100 µs a number
        if e164 is None:
            raise BadRequest(f"{handle!r} is not a phone number", details=[f"handle: {handle}"])
        return e164
    return canonical_handle(source, stripped)


def _checked_handles(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return list(dict.fromkeys((source, checked_handle(source, h)) for source, h in pairs))


async def _conflict(tx: Connection, *, principal: Principal, source: str, handle: str) -> Conflict:
    """The 409 for a handle another contact holds, naming that contact if the token sees it."""
    holder = await store.key_by_handle(
        tx, company_id=principal.company_id, source=source, handle=handle
    )
    if holder is not None and await store.get_visible(
        tx, company_id=principal.company_id, key=holder, vis=principal.visibility()
    ):
        cid = ids.encode(ids.CONTACT, holder)
        return Conflict(
            f"The handle {source}:{handle} already belongs to contact {cid}",
            details=[f"contact_id: {cid}"],
        )
    return Conflict(f"The handle {source}:{handle} already belongs to another contact")


# --- Access -----------------------------------------------------------------------------------


async def access_contact(conn: Reader, *, principal: Principal, ref: str) -> Contact:
    """The contact ``ref`` names (``crd_…`` or ``alt:<source>:<handle>``), if the token sees
    it; NotFound otherwise."""
    key = ids.decode(ids.CONTACT, ref)
    if key is None and ref.startswith("alt:"):
        source = ref.split(":", 2)[1]
        handle = refs.alias(ref, source) if source in ALIAS_SOURCES else None
        if handle is not None and handle.strip():
            key = await store.key_by_handle(
                conn,
                company_id=principal.company_id,
                source=source,
                handle=canonical_handle(source, handle),
            )
    contact = None
    if key is not None:
        contact = await store.get_visible(
            conn, company_id=principal.company_id, key=key, vis=principal.visibility()
        )
    if contact is None:
        raise not_found("contact", ref)
    return contact


async def access_contacts(conn: Reader, *, principal: Principal, refs_: list[str]) -> list[Contact]:
    """The contacts of a request body's ``contact_ids`` (ids or aliases), each once, in order;
    an unknown one is a 404 naming it."""
    if not refs_:
        raise BadRequest("contact_ids must name at least one contact")
    found: dict[int, Contact] = {}
    for ref in refs_:
        contact = await access_contact(conn, principal=principal, ref=ref)
        found.setdefault(contact.id, contact)
    return list(found.values())


def owner_of(contact: Contact) -> Owner:
    return Owner(contact.team_id, contact.owner_teammate_id)


def company_owner(principal: Principal) -> Owner:
    """Company contacts are created by shared tokens (403 otherwise), as company tags are."""
    principal.require_shared()
    return Owner()


def _may_delete(principal: Principal, contact: Contact) -> None:
    if owner_of(contact) == Owner() and not principal.shared:
        raise Forbidden("Only a token with shared access can delete company contacts")


# --- Reading ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ContactView:
    """A contact with what its shape shows: handles and the lists the token sees."""

    contact: Contact
    handles: list[tuple[str, str]]
    lists: list[ContactList]


async def views(
    conn: Reader, *, principal: Principal, contacts: list[Contact]
) -> list[ContactView]:
    """Load, in a fixed number of queries, what each contact's shape shows."""
    if not contacts:
        return []
    keys = [c.id for c in contacts]
    company_id = principal.company_id
    handles, lists = await concurrently(
        conn,
        store.handles_of(conn, company_id=company_id, keys=keys),
        lists_store.lists_of(conn, company_id=company_id, vis=principal.visibility(), keys=keys),
    )
    return [ContactView(c, handles.get(c.id, []), lists.get(c.id, [])) for c in contacts]


async def list_contacts(
    db: Database,
    *,
    principal: Principal,
    scope: str,
    owner: int | None,
    window: Window,
    limit: int,
) -> tuple[list[ContactView], Contact | None]:
    """A page of visible contacts, and the last one shown if there may be more."""
    rows = await store.page(
        db,
        company_id=principal.company_id,
        vis=principal.visibility(),
        scope=scope,
        owner=owner,
        window=window,
        limit=limit + 1,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return await views(db, principal=principal, contacts=rows), (
        rows[-1] if more and rows else None
    )


# --- Writing ----------------------------------------------------------------------------------


def _check_name(name: str | None) -> str | None:
    if name is not None and not name.strip():
        raise BadRequest("A contact name cannot be blank")
    return name


def _check_links(links: list[str]) -> str:
    cleaned = list(dict.fromkeys(link.strip() for link in links))
    if any(not link for link in cleaned):
        raise BadRequest("A link cannot be blank")
    if len(cleaned) > MAX_LINKS:
        raise BadRequest(f"A contact has at most {MAX_LINKS} links")
    return orjson.dumps(cleaned).decode()


async def _custom_fields(conn: Reader, principal: Principal, values: Any) -> str:
    checked = await custom_fields.check_values(
        conn, principal=principal, object_type="contact", values=values or {}
    )
    return orjson.dumps(checked).decode()


async def do_create_contact(
    db: Database,
    *,
    principal: Principal,
    owner: Owner,
    handles: list[tuple[str, str]],
    name: str | None = None,
    description: str | None = None,
    links: list[str] | None = None,
    list_names: list[str] | None = None,
    custom_fields: dict[str, Any] | None = None,
) -> ContactView:
    """Create a contact with its handles (at least one; 409 if another contact holds one)."""
    pairs = _checked_handles(handles)
    if not pairs:
        raise BadRequest("A contact needs at least one handle")
    name = _check_name(name)
    links_json = _check_links(links) if links else "[]"
    now = now_ms()
    async with db.transaction() as tx:
        # Read on the writing connection: its cache is warm (the read connection's is not
        # after every commit), and nothing is written yet if a value is refused.
        values_json = await _custom_fields(tx, principal, custom_fields) if custom_fields else "{}"
        row = await crud.insert_row(
            tx,
            contacts,
            company_id=principal.company_id,
            name=name,
            description=description,
            is_private=owner.teammate_id is not None,
            custom_fields=values_json,
            created_at=now,
            updated_at=now,
            team_id=owner.team_id,
            owner_teammate_id=owner.teammate_id,
            links=links_json,
            name_is_manual=name is not None,
            account_id=None,
        )
        key = row[0]
        for source, handle in pairs:
            if not await store.add_handle(
                tx, company_id=principal.company_id, contact_id=key, source=source, handle=handle
            ):
                raise await _conflict(tx, principal=principal, source=source, handle=handle)
        lists: list[ContactList] = []
        if list_names:
            lists = await resolve_names(
                tx, principal=principal, owner=owner, names=list_names, now=now
            )
            for lst in lists:
                await crud.link_new(
                    tx, MEMBERS, company_id=principal.company_id, left_id=lst.id, right_id=key
                )
        await log.append(
            tx,
            company_id=principal.company_id,
            type="contact_created",
            source=log.source_of(principal),
            target_type="contact",
            target_id=key,
            data={"name": name, "handles": [{"source": s, "handle": h} for s, h in pairs]},
        )
    # In the order reads give them: handles by source then handle, lists oldest first.
    return ContactView(Contact(*row), sorted(pairs), sorted(lists, key=lambda lst: lst.id))


async def do_update_contact(
    db: Database, *, principal: Principal, contact: Contact, changes: dict[str, Any]
) -> None:
    """Apply a PATCH: ``changes`` holds only the fields the client sent. ``links``,
    ``custom_fields`` and ``list_names`` (or ``group_names``) replace the whole set; of the
    lists, only those the token sees are touched. ``name: null`` clears the name."""
    values: dict[str, Any] = {}
    if "name" in changes:
        values["name"] = _check_name(changes["name"])
        values["name_is_manual"] = values["name"] is not None
    if "description" in changes:
        values["description"] = changes["description"]
    if "links" in changes:
        values["links"] = _check_links(changes["links"] or [])
    names = changes.get("list_names", changes.get("group_names"))
    set_lists = "list_names" in changes or "group_names" in changes
    if not values and not set_lists and "custom_fields" not in changes:
        return
    now = now_ms()
    async with db.transaction() as tx:
        if "custom_fields" in changes:
            values["custom_fields"] = await _custom_fields(tx, principal, changes["custom_fields"])
        if set_lists:
            wanted = await resolve_names(
                tx, principal=principal, owner=owner_of(contact), names=names or [], now=now
            )
            current = await lists_store.lists_of(
                tx, company_id=contact.company_id, vis=principal.visibility(), keys=[contact.id]
            )
            have = {lst.id for lst in current.get(contact.id, [])}
            want = {lst.id for lst in wanted}
            for key in sorted(want - have):
                await crud.link_new(
                    tx, MEMBERS, company_id=contact.company_id, left_id=key, right_id=contact.id
                )
            for key in sorted(have - want):
                await crud.unlink(
                    tx, MEMBERS, company_id=contact.company_id, left_id=key, right_ids=[contact.id]
                )
            values_logged = {"list_ids": [ids.encode(ids.CONTACT_LIST, k) for k in sorted(want)]}
        else:
            values_logged = {}
        values["updated_at"] = now
        await crud.update(tx, contacts, company_id=contact.company_id, key=contact.id, **values)
        for field in ("links", "custom_fields"):
            if field in values:
                values_logged[field] = orjson.loads(values[field])
        for field in ("name", "description"):
            if field in values:
                values_logged[field] = values[field]
        await log.append(
            tx,
            company_id=contact.company_id,
            type="contact_updated",
            source=log.source_of(principal),
            target_type="contact",
            target_id=contact.id,
            data=values_logged,
        )


async def _delete(tx: Connection, *, principal: Principal, contact: Contact) -> None:
    handles = await store.handles_of(tx, company_id=contact.company_id, keys=[contact.id])
    await store.delete_many(tx, company_id=contact.company_id, keys=[contact.id])
    await log.append(
        tx,
        company_id=contact.company_id,
        type="contact_deleted",
        source=log.source_of(principal),
        target_type="contact",
        target_id=contact.id,
        data={
            "handles": [{"source": s, "handle": h} for s, h in handles.get(contact.id, [])],
        },
    )


async def do_delete_contact(db: Database, *, principal: Principal, contact: Contact) -> None:
    """Delete a contact, its handles, notes and list memberships. Its conversations and
    messages stay: their recipient rows keep the handle and no longer name a contact."""
    _may_delete(principal, contact)
    async with db.transaction() as tx:
        await _delete(tx, principal=principal, contact=contact)


async def do_add_handle(
    db: Database, *, principal: Principal, contact: Contact, source: str, handle: str
) -> None:
    """Add a handle; one the contact has already is a no-op, one another contact holds a 409."""
    handle = checked_handle(source, handle)
    async with db.transaction() as tx:
        if not await store.add_handle(
            tx, company_id=contact.company_id, contact_id=contact.id, source=source, handle=handle
        ):
            holder = await store.key_by_handle(
                tx, company_id=contact.company_id, source=source, handle=handle
            )
            if holder == contact.id:
                return
            raise await _conflict(tx, principal=principal, source=source, handle=handle)
        await store.touch(tx, company_id=contact.company_id, keys=[contact.id], now=now_ms())
        await log.append(
            tx,
            company_id=contact.company_id,
            type="contact_handle_added",
            source=log.source_of(principal),
            target_type="contact",
            target_id=contact.id,
            data={"source": source, "handle": handle},
        )


async def do_delete_handle(
    db: Database,
    *,
    principal: Principal,
    contact: Contact,
    source: str,
    handle: str,
    force: bool = False,
) -> None:
    """Remove a handle of the contact (404 if it has no such handle). The last handle goes
    only with ``force``, which deletes the contact (400 without it)."""
    handle = canonical_handle(source, handle)
    async with db.transaction() as tx:
        have = (await store.handles_of(tx, company_id=contact.company_id, keys=[contact.id])).get(
            contact.id, []
        )
        if (source, handle) not in have:
            raise NotFound(
                f"Contact {ids.encode(ids.CONTACT, contact.id)} has no handle {source}:{handle}"
            )
        if len(have) == 1:
            if not force:
                raise BadRequest(
                    "This is the contact's last handle: send force: true to delete the contact"
                )
            _may_delete(principal, contact)
            await _delete(tx, principal=principal, contact=contact)
            return
        await store.remove_handle(
            tx, company_id=contact.company_id, contact_id=contact.id, source=source, handle=handle
        )
        await store.touch(tx, company_id=contact.company_id, keys=[contact.id], now=now_ms())
        await log.append(
            tx,
            company_id=contact.company_id,
            type="contact_handle_removed",
            source=log.source_of(principal),
            target_type="contact",
            target_id=contact.id,
            data={"source": source, "handle": handle},
        )


# --- Notes ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NoteView:
    note: Note
    author: Teammate | None
    contact: Contact


async def list_notes(conn: Reader, *, principal: Principal, contact: Contact) -> list[NoteView]:
    """A contact's notes, newest first, with their authors."""
    notes = await store.notes_of(conn, company_id=contact.company_id, key=contact.id)
    authors = {
        t.id: t
        for t in await teammates_store.many(
            conn, company_id=contact.company_id, keys=sorted({n.author_id for n in notes})
        )
    }
    return [NoteView(n, authors.get(n.author_id), contact) for n in notes]


async def do_add_note(
    db: Database, *, principal: Principal, contact: Contact, author_ref: str, body: str
) -> NoteView:
    """Write a note on a contact, by a teammate of the company."""
    if not body.strip():
        raise BadRequest("A note needs a body")
    async with db.transaction() as tx:
        author = await teammates_domain.access_teammate(tx, principal=principal, ref=author_ref)
        row = await crud.insert_row(
            tx,
            contact_notes,
            company_id=contact.company_id,
            contact_id=contact.id,
            author_id=author.id,
            body=body,
            created_at=now_ms(),
        )
        await log.append(
            tx,
            company_id=contact.company_id,
            type="contact_note_added",
            source=log.source_of(principal),
            target_type="contact",
            target_id=contact.id,
            data={"author_id": ids.encode(ids.TEAMMATE, author.id)},
        )
    return NoteView(Note(*row), author, contact)
