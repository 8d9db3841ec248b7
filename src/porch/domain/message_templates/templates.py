"""Template writes: create, update (fields, folder, inboxes, files) and delete."""

from __future__ import annotations

from collections.abc import Sequence

from porch.domain.errors import BadRequest
from porch.domain.inboxes import access_inbox
from porch.domain.message_templates.access import (
    TEMPLATE,
    Owner,
    access_folder,
    check_name,
    owner_of,
    same_owner,
)
from porch.domain.principal import Principal
from porch.events import log
from porch.store import attachments as attachments_store
from porch.store import crud
from porch.store import message_templates as store
from porch.store.attachments import StoredFile
from porch.store.db import Connection, Database, Reader
from porch.store.tables import message_template_inboxes
from porch.store.tables import message_templates as templates_table
from porch.timeutil import now_ms


async def _fresh_template(tx: Connection, *, principal: Principal, key: int) -> store.Template:
    found = await store.get_template(
        tx, company_id=principal.company_id, key=key, vis=principal.visibility()
    )
    assert found is not None
    return found


async def delete_template(
    tx: Connection, *, principal: Principal, company_id: int, key: int
) -> None:
    """Delete template ``key`` with its attachment rows and inbox restriction, in ``tx``."""
    await attachments_store.drop_of_owner(
        tx, company_id=company_id, owner_type=TEMPLATE, owner_id=key
    )
    await crud.delete_where(tx, message_template_inboxes, company_id=company_id, template_id=key)
    await crud.delete(tx, templates_table, company_id=company_id, key=key)
    await log.append(
        tx,
        company_id=company_id,
        type="message_template_deleted",
        source=log.source_of(principal),
        target_type="message_template",
        target_id=key,
    )


async def _inbox_keys(
    conn: Reader, *, principal: Principal, refs: list[str] | None
) -> list[int] | None:
    """Inbox keys for ``inbox_ids`` (None stays None: every inbox); each must be visible."""
    if refs is None:
        return None
    if not refs:
        raise BadRequest("inbox_ids must not be empty (null makes a template available to all)")
    found = [await access_inbox(conn, principal=principal, ref=ref) for ref in refs]
    return list(dict.fromkeys(i.id for i in found))


async def _folder_for(
    conn: Reader, *, principal: Principal, owner: Owner, folder: store.Folder | str | None
) -> store.Folder | None:
    if isinstance(folder, str):
        folder = await access_folder(conn, principal=principal, ref=folder)
    if folder is not None:
        same_owner(owner, folder, "message template")
    return folder


async def _set_inboxes(
    tx: Connection, *, company_id: int, key: int, inbox_keys: list[int] | None
) -> None:
    await crud.delete_where(tx, message_template_inboxes, company_id=company_id, template_id=key)
    if inbox_keys:
        await crud.link(tx, store.INBOXES, company_id=company_id, left_id=key, right_ids=inbox_keys)


async def do_create_template(
    db: Database,
    *,
    principal: Principal,
    owner: Owner,
    name: str,
    body: str,
    subject: str | None = None,
    folder: store.Folder | str | None = None,
    inbox_refs: list[str] | None = None,
    files: Sequence[StoredFile] = (),
) -> store.Template:
    """Create a template for ``owner``, in ``folder`` (a folder or its id, of that owner) if
    given, restricted to ``inbox_refs`` if given, with ``files`` (already in the blob store)."""
    check_name(name, "message template")
    placed = await _folder_for(db, principal=principal, owner=owner, folder=folder)
    inbox_keys = await _inbox_keys(db, principal=principal, refs=inbox_refs)
    now = now_ms()
    async with db.transaction() as tx:
        key = await crud.insert(
            tx,
            templates_table,
            company_id=principal.company_id,
            name=name,
            subject=subject,
            body=body,
            folder_id=placed.id if placed else None,
            team_id=owner.team_id,
            owner_teammate_id=owner.teammate_id,
            is_available_for_all_inboxes=inbox_keys is None,
            created_at=now,
            updated_at=now,
        )
        await _set_inboxes(tx, company_id=principal.company_id, key=key, inbox_keys=inbox_keys)
        await attachments_store.insert(
            tx,
            company_id=principal.company_id,
            owner_type=TEMPLATE,
            owner_id=key,
            files=files,
            now=now,
        )
        await log.append(
            tx,
            company_id=principal.company_id,
            type="message_template_created",
            source=log.source_of(principal),
            target_type="message_template",
            target_id=key,
            data={"name": name, "attachments": len(files)},
        )
        return await _fresh_template(tx, principal=principal, key=key)


async def do_update_template(
    db: Database,
    *,
    principal: Principal,
    template: store.Template,
    changes: dict[str, object],
    files: Sequence[StoredFile] | None = None,
) -> store.Template:
    """Apply a PATCH (``changes`` holds only the fields sent): name, subject, body,
    ``folder_id`` (None: the top level), ``inbox_ids`` (None: every inbox). ``files``, when not
    None, replace the template's attachments (an empty list removes them all)."""
    values: dict[str, object] = {}
    for field in ("name", "subject", "body"):
        if field in changes:
            values[field] = changes[field]
    if "name" in values:
        check_name(values["name"], "message template")
    if "body" in values and values["body"] is None:
        raise BadRequest("A message template body cannot be null")
    if "folder_id" in changes:
        ref = changes["folder_id"]
        folder = await _folder_for(
            db,
            principal=principal,
            owner=owner_of(template),
            folder=str(ref) if ref is not None else None,
        )
        values["folder_id"] = folder.id if folder else None
    inbox_keys: list[int] | None = None
    if "inbox_ids" in changes:
        refs = changes["inbox_ids"]
        inbox_keys = await _inbox_keys(
            db, principal=principal, refs=list(refs) if isinstance(refs, list) else None
        )
        values["is_available_for_all_inboxes"] = inbox_keys is None
    now = now_ms()
    values["updated_at"] = now
    company_id = template.company_id
    async with db.transaction() as tx:
        await crud.update(tx, templates_table, company_id=company_id, key=template.id, **values)
        if "inbox_ids" in changes:
            await _set_inboxes(tx, company_id=company_id, key=template.id, inbox_keys=inbox_keys)
        if files is not None:
            await attachments_store.drop_of_owner(
                tx, company_id=company_id, owner_type=TEMPLATE, owner_id=template.id
            )
            await attachments_store.insert(
                tx,
                company_id=company_id,
                owner_type=TEMPLATE,
                owner_id=template.id,
                files=files,
                now=now,
            )
        data = {k: v for k, v in values.items() if k not in ("updated_at", "body")}
        if files is not None:
            data["attachments"] = len(files)
        await log.append(
            tx,
            company_id=company_id,
            type="message_template_updated",
            source=log.source_of(principal),
            target_type="message_template",
            target_id=template.id,
            data=data,
        )
        return await _fresh_template(tx, principal=principal, key=template.id)


async def do_delete_template(
    db: Database, *, principal: Principal, template: store.Template
) -> None:
    """Delete a template with its attachment rows and inbox restriction."""
    async with db.transaction() as tx:
        await delete_template(
            tx, principal=principal, company_id=template.company_id, key=template.id
        )
