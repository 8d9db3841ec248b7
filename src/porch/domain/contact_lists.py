"""Contact lists: owned by a team or a teammate (a private list); Front's deprecated contact
groups are the same lists under other routes.

Names are unique per owner (409 for a duplicate). ``POST /contact_lists`` creates in the oldest
team the token reaches, as Front documents. A contact's ``list_names`` name lists the token sees
(the contact's owner's first) and create the missing ones where the contact's lists live: a
team contact's in its team, a private contact's with its teammate, a company contact's in the
oldest team. Changing a list's members or deleting it marks the contacts concerned updated, as
their ``lists`` change.
"""

from __future__ import annotations

from dataclasses import dataclass

from porch import ids
from porch.domain import teammates as teammates_domain
from porch.domain.errors import BadRequest, Conflict, not_found
from porch.domain.principal import Principal
from porch.domain.teams import access_team, oldest_team
from porch.events import log
from porch.store import contact_lists as store
from porch.store import contacts as contacts_store
from porch.store import crud
from porch.store.contact_lists import MEMBERS, ContactList
from porch.store.contacts import Contact
from porch.store.db import Connection, Database, IntegrityError, Reader
from porch.store.tables import contact_lists as lists_table
from porch.timeutil import now_ms


@dataclass(frozen=True, slots=True)
class Owner:
    """Where a contact or a list lives: the company (both None), a team, or a teammate."""

    team_id: int | None = None
    teammate_id: int | None = None


async def access_list(conn: Reader, *, principal: Principal, ref: str) -> ContactList:
    """The contact list ``ref`` (``grp_…``) names, if the token sees it; NotFound otherwise."""
    key = ids.decode(ids.CONTACT_LIST, ref)
    found = None
    if key is not None:
        found = await store.get_visible(
            conn, company_id=principal.company_id, key=key, vis=principal.visibility()
        )
    if found is None:
        raise not_found("contact list", ref)
    return found


async def team_owner(conn: Reader, *, principal: Principal, team_ref: str | None) -> Owner:
    """The team ``team_ref`` names, or the oldest team the token reaches (Front's
    ``POST /contact_lists``: "the oldest active workspace that the token has access to")."""
    if team_ref is None:
        team = await oldest_team(conn, principal=principal)
    else:
        team = await access_team(conn, principal=principal, ref=team_ref)
    return Owner(team_id=team.id)


async def teammate_owner(conn: Reader, *, principal: Principal, teammate_ref: str) -> Owner:
    """A teammate whose private resources the token may reach (403 otherwise)."""
    teammate = await teammates_domain.access_teammate(conn, principal=principal, ref=teammate_ref)
    teammates_domain.private_owner(principal, teammate)
    return Owner(teammate_id=teammate.id)


async def list_lists(
    conn: Reader, *, principal: Principal, scope: str, owner: int | None
) -> list[ContactList]:
    return await store.all_of(
        conn,
        company_id=principal.company_id,
        vis=principal.visibility(),
        scope=scope,
        owner=owner,
    )


def check_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise BadRequest("A contact list name cannot be blank")
    return name


async def _insert(
    tx: Connection, *, principal: Principal, owner: Owner, name: str, now: int
) -> ContactList:
    if await store.name_taken(
        tx,
        company_id=principal.company_id,
        name=name,
        team_id=owner.team_id,
        owner_id=owner.teammate_id,
    ):
        raise Conflict(f"A contact list named {name!r} already exists here")
    row = await crud.insert_row(
        tx,
        lists_table,
        company_id=principal.company_id,
        name=name,
        team_id=owner.team_id,
        owner_teammate_id=owner.teammate_id,
        created_at=now,
        updated_at=now,
    )
    await log.append(
        tx,
        company_id=principal.company_id,
        type="contact_list_created",
        source=log.source_of(principal),
        target_type="contact_list",
        target_id=row[0],
        data={"name": name},
    )
    return ContactList(*row)


async def do_create_list(
    db: Database, *, principal: Principal, owner: Owner, name: str
) -> ContactList:
    name = check_name(name)
    async with db.transaction() as tx:
        return await _insert(tx, principal=principal, owner=owner, name=name, now=now_ms())


async def do_delete_list(db: Database, *, principal: Principal, lst: ContactList) -> None:
    """Delete a list; its contacts stay (and are marked updated)."""
    async with db.transaction() as tx:
        await store.delete(tx, company_id=lst.company_id, key=lst.id, now=now_ms())
        await log.append(
            tx,
            company_id=lst.company_id,
            type="contact_list_deleted",
            source=log.source_of(principal),
            target_type="contact_list",
            target_id=lst.id,
            data={"name": lst.name},
        )


async def do_add_contacts(
    db: Database, *, principal: Principal, lst: ContactList, contacts: list[Contact]
) -> None:
    """Add contacts to a list (those already in it stay, unchanged)."""
    keys = list(dict.fromkeys(c.id for c in contacts))
    async with db.transaction() as tx:
        present = await store.members_among(tx, key=lst.id, keys=keys)
        new = [k for k in keys if k not in present]
        if not new:
            return
        for key in new:
            await crud.link_new(
                tx, MEMBERS, company_id=lst.company_id, left_id=lst.id, right_id=key
            )
        await contacts_store.touch(tx, company_id=lst.company_id, keys=new, now=now_ms())
        await log.append(
            tx,
            company_id=lst.company_id,
            type="contact_list_contacts_added",
            source=log.source_of(principal),
            target_type="contact_list",
            target_id=lst.id,
            data={"contact_ids": [ids.encode(ids.CONTACT, k) for k in new]},
        )


async def do_remove_contacts(
    db: Database, *, principal: Principal, lst: ContactList, contacts: list[Contact]
) -> None:
    """Remove contacts from a list (those not in it are ignored)."""
    keys = list(dict.fromkeys(c.id for c in contacts))
    async with db.transaction() as tx:
        present = await store.members_among(tx, key=lst.id, keys=keys)
        gone = [k for k in keys if k in present]
        if not gone:
            return
        await crud.unlink(tx, MEMBERS, company_id=lst.company_id, left_id=lst.id, right_ids=gone)
        await contacts_store.touch(tx, company_id=lst.company_id, keys=gone, now=now_ms())
        await log.append(
            tx,
            company_id=lst.company_id,
            type="contact_list_contacts_removed",
            source=log.source_of(principal),
            target_type="contact_list",
            target_id=lst.id,
            data={"contact_ids": [ids.encode(ids.CONTACT, k) for k in gone]},
        )


async def _insert_or_find(
    tx: Connection, *, principal: Principal, owner: Owner, name: str, now: int
) -> ContactList:
    """A new list ``name`` of ``owner`` — or the one a concurrent writer has just made (two
    contacts naming one new list at once must both land in it, not one of them fail)."""
    try:
        async with tx.savepoint():
            return await _insert(tx, principal=principal, owner=owner, name=name, now=now)
    except (Conflict, IntegrityError):
        found = await store.by_names(
            tx, company_id=principal.company_id, vis=principal.visibility(), names=[name]
        )
        mine = [
            lst
            for lst in found
            if (lst.team_id, lst.owner_teammate_id) == (owner.team_id, owner.teammate_id)
        ]
        if not mine:
            raise
        return mine[0]


async def resolve_names(
    tx: Connection, *, principal: Principal, owner: Owner, names: list[str], now: int
) -> list[ContactList]:
    """The lists ``names`` name for a contact of ``owner``, created where missing.

    A name matches the visible lists of that name, the contact's owner's first, else the
    oldest. A missing list is created with the contact's owner (a company contact's in the
    oldest team the token reaches).
    """
    wanted = list(dict.fromkeys(check_name(n) for n in names))
    if not wanted:
        return []
    found = await store.by_names(
        tx, company_id=principal.company_id, vis=principal.visibility(), names=wanted
    )
    # A company contact's lists live in the oldest team: looked up only when needed.
    home: Owner | None = owner if owner != Owner() else None
    out: list[ContactList] = []
    for name in wanted:
        same = [lst for lst in found if lst.name == name]
        if len(same) == 1:
            out.append(same[0])
            continue
        if home is None:
            home = await team_owner(tx, principal=principal, team_ref=None)
        if not same:
            out.append(
                await _insert_or_find(tx, principal=principal, owner=home, name=name, now=now)
            )
            continue
        at_home = [
            lst
            for lst in same
            if (lst.team_id, lst.owner_teammate_id) == (home.team_id, home.teammate_id)
        ]
        out.append((at_home or same)[0])
    return out
