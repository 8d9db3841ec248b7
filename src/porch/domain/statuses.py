"""Ticket statuses: the company's open, waiting and resolved statuses.

Every company starts with one default status per category (named after it). Custom statuses
are added through Porch's admin API; names are unique in the company, compared without regard
to case, so "open" cannot sit beside "Open". A status never changes category. When the
company's ticketing is off, Front's status endpoints answer 404 as if no status existed.
"""

from __future__ import annotations

from porch import ids
from porch.domain.errors import BadRequest, Conflict, NotFound, not_found
from porch.domain.principal import Principal
from porch.events import log
from porch.store import crud
from porch.store import statuses as store
from porch.store.db import Database, Reader
from porch.store.tables import statuses as statuses_table
from porch.timeutil import now_ms

CATEGORIES = store.CATEGORIES


async def require_ticketing(conn: Reader, *, principal: Principal) -> None:
    """NotFound unless the caller's company has ticketing on (Front's documented 404)."""
    if not await store.ticketing_enabled(conn, company_id=principal.company_id):
        raise NotFound("Ticketing is not enabled, therefore there are no ticket statuses")


async def access_status(
    conn: Reader, *, principal: Principal, ref: str, ticketing_required: bool = True
) -> store.Status:
    """The status ``ref`` (``sts_...``) names; NotFound otherwise, or when ticketing is off
    (unless ``ticketing_required`` is False, for the admin API)."""
    if ticketing_required:
        await require_ticketing(conn, principal=principal)
    key = ids.decode(ids.STATUS, ref)
    found = None
    if key is not None:
        found = await store.get(conn, company_id=principal.company_id, key=key)
    if found is None:
        raise not_found("ticket status", ref)
    return found


async def list_statuses(conn: Reader, *, principal: Principal) -> list[store.Status]:
    """Every status of the company, oldest first; NotFound when ticketing is off."""
    await require_ticketing(conn, principal=principal)
    return await store.all_of(conn, company_id=principal.company_id)


def _check_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise BadRequest("A ticket status needs a name")
    return name


async def _name_free(conn: Reader, *, company_id: int, name: str, key: int | None) -> None:
    for status in await store.all_of(conn, company_id=company_id):
        if status.id != key and status.name.casefold() == name.casefold():
            raise Conflict(f"A ticket status named {status.name!r} already exists")


async def do_create_status(
    db: Database,
    *,
    principal: Principal,
    name: str,
    category: str,
    description: str | None = None,
) -> store.Status:
    """Add a custom status to a category (Porch's admin API)."""
    principal.require_provisioning()
    name = _check_name(name)
    if category not in CATEGORIES:
        raise BadRequest(f"category must be one of: {', '.join(CATEGORIES)}")
    now = now_ms()
    async with db.transaction() as tx:
        await _name_free(tx, company_id=principal.company_id, name=name, key=None)
        key = await crud.insert(
            tx,
            statuses_table,
            company_id=principal.company_id,
            name=name,
            category=category,
            description=description,
            is_default=False,
            created_at=now,
            updated_at=now,
        )
        await log.append(
            tx,
            company_id=principal.company_id,
            type="status_created",
            source=log.source_of(principal),
            target_type="status",
            target_id=key,
            data={"name": name, "category": category},
        )
        status = await store.get(tx, company_id=principal.company_id, key=key)
    assert status is not None
    return status


async def do_update_status(
    db: Database, *, principal: Principal, status: store.Status, changes: dict[str, object]
) -> store.Status:
    """Rename or redescribe a status; ``changes`` holds only ``name`` and ``description``
    as sent (a null description clears it)."""
    principal.require_provisioning()
    values: dict[str, object] = {}
    if "name" in changes:
        name = changes["name"]
        if not isinstance(name, str):
            raise BadRequest("A ticket status needs a name")
        values["name"] = _check_name(name)
    if "description" in changes:
        values["description"] = changes["description"]
    async with db.transaction() as tx:
        if "name" in values:
            await _name_free(
                tx, company_id=status.company_id, name=str(values["name"]), key=status.id
            )
        if values:
            values["updated_at"] = now_ms()
            await crud.update(
                tx, statuses_table, company_id=status.company_id, key=status.id, **values
            )
            await log.append(
                tx,
                company_id=status.company_id,
                type="status_updated",
                source=log.source_of(principal),
                target_type="status",
                target_id=status.id,
                data={k: v for k, v in values.items() if k != "updated_at"},
            )
        updated = await store.get(tx, company_id=status.company_id, key=status.id)
    assert updated is not None
    return updated
