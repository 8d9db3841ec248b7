"""Tags: company, team and private (teammate) tags, with children.

Names are unique among siblings of the same owner (Front refuses a duplicate name in the same
place); a child belongs to the owner of its parent. Deleting a tag deletes its children.
"""

from __future__ import annotations

from dataclasses import dataclass

from porch import ids
from porch.domain import teammates as teammates_domain
from porch.domain.errors import BadRequest, Conflict, Forbidden, not_found
from porch.domain.principal import Principal
from porch.domain.teams import access_team, oldest_team
from porch.events import log
from porch.store import crud
from porch.store import tags as store
from porch.store.db import Database, Reader
from porch.store.tables import tags as tags_table
from porch.timeutil import now_ms

HIGHLIGHTS = ("grey", "pink", "red", "orange", "yellow", "green", "light-blue", "blue", "purple")


@dataclass(frozen=True, slots=True)
class Owner:
    """Where a tag lives: the company (both None), a team, or a teammate."""

    team_id: int | None = None
    teammate_id: int | None = None


async def access_tag(conn: Reader, *, principal: Principal, ref: str) -> store.Tag:
    """The tag ``ref`` names, if the token sees it; NotFound otherwise."""
    key = ids.decode(ids.TAG, ref)
    tag = None
    if key is not None:
        tag = await store.get_visible(
            conn, company_id=principal.company_id, key=key, vis=principal.visibility()
        )
    if tag is None:
        raise not_found("tag", ref)
    return tag


async def list_tags(
    db: Database,
    *,
    principal: Principal,
    scope: str,
    owner: int | None,
    after: int | None,
    limit: int,
    descending: bool,
) -> tuple[list[store.Tag], int | None]:
    """A page of visible tags and the key to continue after, if there may be more."""
    rows = await store.page(
        db,
        company_id=principal.company_id,
        vis=principal.visibility(),
        scope=scope,
        owner=owner,
        after=after,
        limit=limit + 1,
        descending=descending,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more and rows else None)


async def company_owner(principal: Principal) -> Owner:
    principal.require_shared()
    return Owner()


async def team_owner(conn: Reader, *, principal: Principal, team_ref: str | None) -> Owner:
    """A team named by ``team_ref``, or the oldest team (Front's legacy ``POST /tags``)."""
    if team_ref is None:
        team = await oldest_team(conn, principal=principal)
    else:
        team = await access_team(conn, principal=principal, ref=team_ref)
    return Owner(team_id=team.id)


async def teammate_owner(conn: Reader, *, principal: Principal, teammate_ref: str) -> Owner:
    teammate = await teammates_domain.access_teammate(conn, principal=principal, ref=teammate_ref)
    teammates_domain.private_owner(principal, teammate)
    return Owner(teammate_id=teammate.id)


def check_tag_fields(*, name: str | None, highlight: str | None) -> None:
    if name is not None and not name.strip():
        raise BadRequest("A tag name cannot be blank")
    if highlight is not None and highlight not in HIGHLIGHTS:
        raise BadRequest(f"highlight must be one of: {', '.join(HIGHLIGHTS)}")


async def do_create_tag(
    db: Database,
    *,
    principal: Principal,
    owner: Owner,
    name: str,
    description: str | None = None,
    highlight: str | None = None,
    is_visible_in_conversation_lists: bool = False,
    parent: store.Tag | None = None,
) -> store.Tag:
    """Create a tag (a child of ``parent`` if given, in the parent's owner)."""
    check_tag_fields(name=name, highlight=highlight)
    if parent is not None:
        owner = Owner(parent.team_id, parent.owner_teammate_id)
    now = now_ms()
    async with db.transaction() as tx:
        if await store.name_taken(
            tx,
            company_id=principal.company_id,
            name=name,
            team_id=owner.team_id,
            owner_id=owner.teammate_id,
            parent_id=parent.id if parent else None,
        ):
            raise Conflict(f"A tag named {name!r} already exists here")
        key = await crud.insert(
            tx,
            tags_table,
            company_id=principal.company_id,
            name=name,
            description=description,
            highlight=highlight,
            is_visible_in_conversation_lists=is_visible_in_conversation_lists,
            parent_id=parent.id if parent else None,
            team_id=owner.team_id,
            owner_teammate_id=owner.teammate_id,
            created_at=now,
            updated_at=now,
        )
        await log.append(
            tx,
            company_id=principal.company_id,
            type="tag_created",
            source=log.source_of(principal),
            target_type="tag",
            target_id=key,
            data={"name": name},
        )
        tag = await store.get(tx, company_id=principal.company_id, key=key)
    assert tag is not None
    return tag


async def do_update_tag(
    db: Database,
    *,
    principal: Principal,
    tag: store.Tag,
    changes: dict[str, object],
) -> None:
    """Apply a PATCH: ``changes`` holds only the fields the client sent.

    ``parent_tag_id`` (a reference or None) moves the tag under another tag of the same owner,
    or to the top level; a tag cannot become its own ancestor.
    """
    values: dict[str, object] = {}
    name = changes.get("name")
    highlight = changes.get("highlight")
    check_tag_fields(
        name=name if isinstance(name, str) else None,
        highlight=highlight if isinstance(highlight, str) else None,
    )
    for field in ("name", "description", "highlight", "is_visible_in_conversation_lists"):
        if field in changes:
            values[field] = changes[field]
    async with db.transaction() as tx:
        if "parent_tag_id" in changes:
            ref = changes["parent_tag_id"]
            parent_id = None
            if ref is not None:
                parent = await access_tag(tx, principal=principal, ref=str(ref))
                if (parent.team_id, parent.owner_teammate_id) != (
                    tag.team_id,
                    tag.owner_teammate_id,
                ):
                    raise BadRequest("A parent tag must have the same owner as its child")
                walk: store.Tag | None = parent
                while walk is not None:
                    if walk.id == tag.id:
                        raise BadRequest("A tag cannot be its own ancestor")
                    walk = (
                        await store.get(tx, company_id=tag.company_id, key=walk.parent_id)
                        if walk.parent_id
                        else None
                    )
                parent_id = parent.id
            values["parent_id"] = parent_id
        new_name = values.get("name", tag.name)
        new_parent = values.get("parent_id", tag.parent_id)
        if (new_name, new_parent) != (tag.name, tag.parent_id) and await store.name_taken(
            tx,
            company_id=tag.company_id,
            name=str(new_name),
            team_id=tag.team_id,
            owner_id=tag.owner_teammate_id,
            parent_id=new_parent,  # type: ignore[arg-type]
        ):
            raise Conflict(f"A tag named {new_name!r} already exists here")
        values["updated_at"] = now_ms()
        await crud.update(tx, tags_table, company_id=tag.company_id, key=tag.id, **values)
        await log.append(
            tx,
            company_id=tag.company_id,
            type="tag_updated",
            source=log.source_of(principal),
            target_type="tag",
            target_id=tag.id,
            data={k: v for k, v in values.items() if k != "updated_at"},
        )


async def do_delete_tag(db: Database, *, principal: Principal, tag: store.Tag) -> None:
    """Delete a tag and, recursively, its children."""
    if tag.owner_teammate_id is None and tag.team_id is None and not principal.shared:
        raise Forbidden("Only a token with shared access can delete company tags")
    async with db.transaction() as tx:
        pending = [tag.id]
        doomed: list[int] = []
        while pending:
            key = pending.pop()
            doomed.append(key)
            children = await store.page(
                tx,
                company_id=tag.company_id,
                vis={"company": True, "shared": True, "private": True, "team_ids": []},
                scope="children",
                owner=key,
                after=None,
                limit=10_000,
                descending=False,
            )
            pending.extend(c.id for c in children)
        for key in reversed(doomed):
            await crud.delete(tx, tags_table, company_id=tag.company_id, key=key)
            await log.append(
                tx,
                company_id=tag.company_id,
                type="tag_deleted",
                source=log.source_of(principal),
                target_type="tag",
                target_id=key,
            )
