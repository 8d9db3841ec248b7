"""Message templates (canned responses) and the folders that hold them.

A template or folder belongs to a team or to a teammate (private: seen only by private tokens,
and only when the teammate allowed API access), as tags and signatures do; Front's endpoints
without an owner in the path create in the oldest team the token reaches. Folders nest: a child
folder, and a template placed in a folder, always have the folder's owner (placing something in
another owner's folder is a 400). Deleting a folder deletes, in one transaction, every folder
below it and every template in any of them, with their attachments and inbox restrictions.

A template is available in every inbox unless ``inbox_ids`` restricts it to some (a non-empty
list of inboxes the token sees). Its files are attachment rows with owner_type "template".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from porch import ids
from porch.domain import teammates as teammates_domain
from porch.domain.errors import BadRequest, not_found
from porch.domain.inboxes import access_inbox
from porch.domain.principal import Principal
from porch.domain.teams import access_team, oldest_team
from porch.events import log
from porch.store import attachments as attachments_store
from porch.store import crud
from porch.store import message_templates as store
from porch.store.attachments import Attachment, StoredFile
from porch.store.db import Connection, Database, Reader
from porch.store.tables import message_template_folders as folders_table
from porch.store.tables import message_template_inboxes
from porch.store.tables import message_templates as templates_table
from porch.timeutil import now_ms

TEMPLATE = attachments_store.TEMPLATE


@dataclass(frozen=True, slots=True)
class Owner:
    """Where a template or folder lives: a team, or a teammate (private)."""

    team_id: int | None = None
    teammate_id: int | None = None


@dataclass(frozen=True, slots=True)
class TemplateView:
    """A template with its files (in upload order) and the inboxes it is restricted to (None:
    every inbox)."""

    template: store.Template
    attachments: list[Attachment]
    inbox_ids: list[int] | None


def _owner_of(row: store.Folder | store.Template) -> Owner:
    return Owner(row.team_id, row.owner_teammate_id)


async def team_owner(conn: Reader, *, principal: Principal, team_ref: str | None) -> Owner:
    """The team ``team_ref`` names, or the oldest team the token reaches (Front's endpoints
    without an owner in the path)."""
    if team_ref is None:
        team = await oldest_team(conn, principal=principal)
    else:
        team = await access_team(conn, principal=principal, ref=team_ref)
    return Owner(team_id=team.id)


async def teammate_owner(conn: Reader, *, principal: Principal, teammate_ref: str) -> Owner:
    """A teammate whose private templates the token may reach (private scope and consent)."""
    teammate = await teammates_domain.access_teammate(conn, principal=principal, ref=teammate_ref)
    teammates_domain.private_owner(principal, teammate)
    return Owner(teammate_id=teammate.id)


async def access_folder(conn: Reader, *, principal: Principal, ref: str) -> store.Folder:
    """The folder ``ref`` (``rsf_...``) names, if the token sees it; NotFound otherwise."""
    key = ids.decode(ids.MESSAGE_TEMPLATE_FOLDER, ref)
    found = None
    if key is not None:
        found = await store.get_folder(
            conn, company_id=principal.company_id, key=key, vis=principal.visibility()
        )
    if found is None:
        raise not_found("message template folder", ref)
    return found


async def access_template(conn: Reader, *, principal: Principal, ref: str) -> store.Template:
    """The template ``ref`` (``rsp_...``) names, if the token sees it; NotFound otherwise."""
    key = ids.decode(ids.MESSAGE_TEMPLATE, ref)
    found = None
    if key is not None:
        found = await store.get_template(
            conn, company_id=principal.company_id, key=key, vis=principal.visibility()
        )
    if found is None:
        raise not_found("message template", ref)
    return found


async def template_views(
    conn: Reader, *, principal: Principal, templates: Sequence[store.Template]
) -> list[TemplateView]:
    """Each template with its attachments and inbox restriction (two queries for the lot)."""
    keys = [tpl.id for tpl in templates]
    files = await attachments_store.of_owners(
        conn, company_id=principal.company_id, owner_type=TEMPLATE, keys=keys
    )
    inboxes = await store.inboxes_of(conn, company_id=principal.company_id, keys=keys)
    return [
        TemplateView(
            tpl,
            files.get(tpl.id, []),
            None if tpl.is_available_for_all_inboxes else inboxes.get(tpl.id, []),
        )
        for tpl in templates
    ]


async def load_template(conn: Reader, *, principal: Principal, ref: str) -> TemplateView:
    """The template ``ref`` names with its attachments (what a reply from a template needs);
    NotFound when the token does not see it."""
    template = await access_template(conn, principal=principal, ref=ref)
    [view] = await template_views(conn, principal=principal, templates=[template])
    return view


def _next_key(rows: Sequence[store.Folder | store.Template], sort: str) -> list[int]:
    last = rows[-1]
    return [int(getattr(last, sort)), last.id]


async def list_folders(
    db: Database,
    *,
    principal: Principal,
    scope: str,
    owner: int | None,
    sort: str,
    after: tuple[int, int] | None,
    limit: int,
    descending: bool,
) -> tuple[list[store.Folder], list[int] | None]:
    """A page of visible folders and the key to continue after, if there may be more."""
    rows = await store.folder_page(
        db,
        company_id=principal.company_id,
        vis=principal.visibility(),
        scope=scope,
        owner=owner,
        sort=sort,
        after=after,
        limit=limit + 1,
        descending=descending,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (_next_key(rows, sort) if more and rows else None)


async def list_templates(
    db: Database,
    *,
    principal: Principal,
    scope: str,
    owner: int | None,
    sort: str,
    after: tuple[int, int] | None,
    limit: int,
    descending: bool,
) -> tuple[list[store.Template], list[int] | None]:
    """A page of visible templates and the key to continue after, if there may be more."""
    rows = await store.template_page(
        db,
        company_id=principal.company_id,
        vis=principal.visibility(),
        scope=scope,
        owner=owner,
        sort=sort,
        after=after,
        limit=limit + 1,
        descending=descending,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (_next_key(rows, sort) if more and rows else None)


def check_name(name: object, kind: str) -> None:
    if not isinstance(name, str) or not name.strip():
        raise BadRequest(f"A {kind} name cannot be blank")


def _same_owner(owner: Owner, folder: store.Folder, what: str) -> None:
    if _owner_of(folder) != owner:
        raise BadRequest(f"A {what} must have the same owner as its folder")


async def _fresh_folder(tx: Connection, *, principal: Principal, key: int) -> store.Folder:
    found = await store.get_folder(
        tx, company_id=principal.company_id, key=key, vis=principal.visibility()
    )
    assert found is not None
    return found


async def _fresh_template(tx: Connection, *, principal: Principal, key: int) -> store.Template:
    found = await store.get_template(
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
        _same_owner(owner, parent, "folder")
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


def child_owner(folder: store.Folder) -> Owner:
    """The owner of whatever is created inside ``folder``."""
    return _owner_of(folder)


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
                _same_owner(_owner_of(folder), parent, "folder")
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


async def _delete_template(
    tx: Connection, *, principal: Principal, company_id: int, key: int
) -> None:
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
            await _delete_template(tx, principal=principal, company_id=company_id, key=key)
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
        _same_owner(owner, folder, "message template")
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
            owner=_owner_of(template),
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
        await _delete_template(
            tx, principal=principal, company_id=template.company_id, key=template.id
        )
