"""Merging contacts (``POST /contacts/merge``) by Front's rules.

The target (``target_contact_id``, else the first of ``contact_ids``) survives with its id and
owner; the others are deleted (404 afterwards). In one transaction the survivor takes:

- the name: a name set by hand on a non-private contact, else one set by hand, else any name,
  each time the most recently updated contact's;
- the descriptions, joined by newlines: the target's first, then the others oldest first;
- every handle, list membership, link and note, and the messages' recipient rows, so the
  merged contacts' conversations become the survivor's;
- custom fields field by field, and the account, from the most recently updated contact that
  has a value.

The log gets ``contact_deleted`` for each merged contact (with ``merged_into``) and
``contact_merged`` for the survivor.
"""

from __future__ import annotations

from typing import Any

import orjson

from porch import ids
from porch.domain.contacts import ContactView, access_contact, views
from porch.domain.errors import BadRequest
from porch.domain.principal import Principal
from porch.events import log
from porch.store import contact_lists as lists_store
from porch.store import contacts as store
from porch.store import crud
from porch.store.contact_lists import MEMBERS
from porch.store.contacts import Contact
from porch.store.db import Database
from porch.store.tables import contacts
from porch.timeutil import now_ms

MAX_MERGE = 50


def _check_count(target_ref: str | None, refs_: list[str]) -> None:
    if target_ref is None or target_ref in refs_:
        low, high = 2, MAX_MERGE
    else:
        low, high = 1, MAX_MERGE - 1
    if not low <= len(refs_) <= high:
        raise BadRequest(f"contact_ids must name {low} to {high} contacts here")


def _name(by_recency: list[Contact]) -> tuple[str | None, bool]:
    """The survivor's name and whether it was set by hand."""
    named = [c for c in by_recency if c.name]
    manual = [c for c in named if c.name_is_manual]
    public = [c for c in manual if c.owner_teammate_id is None]
    chosen = next(iter([*public, *manual, *named]), None)
    if chosen is None:
        return None, False
    return chosen.name, bool(chosen.name_is_manual)


def merged_fields(target: Contact, others: list[Contact]) -> dict[str, Any]:
    """The survivor's columns after merging ``others`` into ``target``."""
    everyone = [target, *others]
    by_recency = sorted(everyone, key=lambda c: (c.updated_at, c.id), reverse=True)
    by_age = sorted(others, key=lambda c: (c.created_at, c.id))
    name, manual = _name(by_recency)
    descriptions = [c.description for c in [target, *by_age] if c.description]
    links: list[str] = []
    for c in [target, *by_age]:
        links.extend(orjson.loads(c.links))
    values: dict[str, Any] = {}
    for c in reversed(by_recency):
        values.update(orjson.loads(c.custom_fields))
    account = next((c.account_id for c in by_recency if c.account_id is not None), None)
    return {
        "name": name,
        "name_is_manual": manual,
        "description": "\n".join(descriptions) if descriptions else None,
        "links": orjson.dumps(list(dict.fromkeys(links))).decode(),
        "custom_fields": orjson.dumps(values).decode(),
        "account_id": account,
    }


async def do_merge_contacts(
    db: Database, *, principal: Principal, target_ref: str | None, refs_: list[str]
) -> ContactView:
    """Merge the contacts ``refs_`` (ids or aliases) into ``target_ref`` or the first of them,
    and return the survivor."""
    _check_count(target_ref, refs_)
    async with db.transaction() as tx:
        found: dict[int, Contact] = {}
        for ref in refs_:
            contact = await access_contact(tx, principal=principal, ref=ref)
            found.setdefault(contact.id, contact)
        listed = list(found.values())
        target = (
            await access_contact(tx, principal=principal, ref=target_ref)
            if target_ref is not None
            else listed[0]
        )
        others = [c for c in listed if c.id != target.id]
        if not others:
            raise BadRequest("A merge needs at least two different contacts")
        company_id = principal.company_id
        keys = [c.id for c in others]
        for list_key in await lists_store.list_keys_of(tx, company_id=company_id, keys=keys):
            await crud.link(
                tx, MEMBERS, company_id=company_id, left_id=list_key, right_ids=[target.id]
            )
        await store.move_to(tx, company_id=company_id, keys=keys, to=target.id)
        await store.delete_many(tx, company_id=company_id, keys=keys)
        values = merged_fields(target, others)
        await crud.update(
            tx, contacts, company_id=company_id, key=target.id, updated_at=now_ms(), **values
        )
        source = log.source_of(principal)
        survivor_id = ids.encode(ids.CONTACT, target.id)
        for c in others:
            await log.append(
                tx,
                company_id=company_id,
                type="contact_deleted",
                source=source,
                target_type="contact",
                target_id=c.id,
                data={"merged_into": survivor_id},
            )
        await log.append(
            tx,
            company_id=company_id,
            type="contact_merged",
            source=source,
            target_type="contact",
            target_id=target.id,
            data={"merged_contact_ids": [ids.encode(ids.CONTACT, k) for k in keys]},
        )
        survivor = await store.get(tx, company_id=company_id, key=target.id)
        assert survivor is not None
        [view] = await views(tx, principal=principal, contacts=[survivor])
    return view
