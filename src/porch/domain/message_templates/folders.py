"""Folder writes: create, rename or move, and delete with everything below."""

from __future__ import annotations

from porch.domain.errors import BadRequest
from porch.domain.message_templates.access import (
    Owner,
    access_folder,
    check_name,
    owner_of,
    same_owner,
)
from porch.domain.message_templates.templates import delete_template
from porch.domain.principal import Principal
from porch.events import log
from porch.store import crud
from porch.store import message_templates as store
from porch.store.db import Connection, Database
from porch.store.tables import message_template_folders as folders_table
from porch.timeutil import now_ms


async def _fresh_folder(tx: Connection, *, principal: Principal, key: int) -> store.Folder:
    found = await store.get_folder(
        tx, company_id=principal.company_id, key=key, vis=principal.visibility()
    )
    assert found is not None
    return found


async def do_create_folder(
    db: Database,
    *,
    principal: Principal,
    owner: Owner,
    name: str,
    parent: store.Folder | str | None = None,
) -> store.Folder:
    """Create a folder for ``owner``, or inside ``parent`` (a folder or its id), which must have
    that owner; a folder created as a child takes its parent's owner (pass the parent's)."""
    check_name(name, "folder")
    if isinstance(parent, str):
        parent = await access_folder(db, principal=principal, ref=parent)
    if parent is not None:
        same_owner(owner, parent, "folder")
    now = now_ms()
    async with db.transaction() as tx:
        key = await crud.insert(
            tx,
            folders_table,
            company_id=principal.company_id,
            name=name,
            parent_id=parent.id if parent else None,
            team_id=owner.team_id,
            owner_teammate_id=owner.teammate_id,
            created_at=now,
            updated_at=now,
        )
        await log.append(
            tx,
            company_id=principal.company_id,
            type="message_template_folder_created",
            source=log.source_of(principal),
            target_type="message_template_folder",
            target_id=key,
            data={"name": name},
        )
        return await _fresh_folder(tx, principal=principal, key=key)


async def do_update_folder(
    db: Database, *, principal: Principal, folder: store.Folder, changes: dict[str, object]
) -> store.Folder:
    """Apply a PATCH (``changes`` holds only the fields sent): a new name, and
    ``parent_folder_id`` (an id, or None for the top level) to move it under another folder of
    the same owner; a folder cannot move under itself or its descendants."""
    values: dict[str, object] = {}
    if "name" in changes:
        check_name(changes["name"], "folder")
        values["name"] = changes["name"]
    async with db.transaction() as tx:
        if "parent_folder_id" in changes:
            ref = changes["parent_folder_id"]
            parent_id = None
            if ref is not None:
                parent = await access_folder(tx, principal=principal, ref=str(ref))
                same_owner(owner_of(folder), parent, "folder")
                walk: store.Folder | None = parent
                while walk is not None:
                    if walk.id == folder.id:
                        raise BadRequest("A folder cannot be placed inside itself")
                    walk = (
                        await _fresh_folder(tx, principal=principal, key=walk.parent_id)
                        if walk.parent_id
                        else None
                    )
                parent_id = parent.id
            values["parent_id"] = parent_id
        values["updated_at"] = now_ms()
        await crud.update(tx, folders_table, company_id=folder.company_id, key=folder.id, **values)
        await log.append(
            tx,
            company_id=folder.company_id,
            type="message_template_folder_updated",
            source=log.source_of(principal),
            target_type="message_template_folder",
            target_id=folder.id,
            data={k: v for k, v in values.items() if k != "updated_at"},
        )
        return await _fresh_folder(tx, principal=principal, key=folder.id)


async def do_delete_folder(db: Database, *, principal: Principal, folder: store.Folder) -> None:
    """Delete a folder, every folder below it and every template in them, at once."""
    company_id = folder.company_id
    async with db.transaction() as tx:
        # Breadth first, so that deleting the list backwards removes children before parents.
        doomed = [folder.id]
        level = [folder.id]
        while level:
            level = await store.child_folder_keys(tx, company_id=company_id, keys=level)
            doomed.extend(level)
        for key in await store.template_keys_in(tx, company_id=company_id, folder_keys=doomed):
            await delete_template(tx, principal=principal, company_id=company_id, key=key)
        for key in reversed(doomed):
            await crud.delete(tx, folders_table, company_id=company_id, key=key)
            await log.append(
                tx,
                company_id=company_id,
                type="message_template_folder_deleted",
                source=log.source_of(principal),
                target_type="message_template_folder",
                target_id=key,
            )
