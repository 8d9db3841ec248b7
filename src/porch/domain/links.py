"""Links (Front's "topics"): external resources conversations are linked to.

Links are company-level resources: every token that sees company-level things sees every link
of its company. A link is identified by its ``external_url``, unique in the company; creating a
link whose URL exists returns the existing link unchanged (no second row, no event), as adding
``link_external_urls`` to a conversation does. Links made through the API have type ``web``.
A link created from a ``pattern`` (an application-object identifier such as ``ORDER-123``)
stores the pattern as its identifying ``external_url`` (and as its default name).
"""

from __future__ import annotations

from typing import Any

import orjson

from porch import ids
from porch.domain import custom_fields
from porch.domain.errors import BadRequest, Forbidden, not_found
from porch.domain.principal import Principal
from porch.events import log
from porch.store import crud, joins
from porch.store import links as store
from porch.store.conversations import Conversation
from porch.store.db import Connection, Database, Reader
from porch.store.tables import conversations as conversations_table
from porch.store.tables import links as links_table
from porch.timeutil import now_ms

WEB = "web"
MAX_URL = 1000


def _sees_links(principal: Principal) -> bool:
    return bool(principal.visibility()["company"])


async def access_link(conn: Reader, *, principal: Principal, ref: str) -> store.Link:
    """The link ``ref`` (``top_...``) names in the caller's company; NotFound otherwise."""
    key = ids.decode(ids.LINK, ref)
    link = None
    if key is not None and _sees_links(principal):
        link = await store.get(conn, company_id=principal.company_id, key=key)
    if link is None:
        raise not_found("link", ref)
    return link


async def access_links(conn: Reader, *, principal: Principal, refs: list[str]) -> list[store.Link]:
    """The links ``refs`` name, in order and without repeats; NotFound naming the first unknown."""
    keys: dict[int, str] = {}
    for ref in refs:
        key = ids.decode(ids.LINK, ref)
        if key is None or not _sees_links(principal):
            raise not_found("link", ref)
        keys.setdefault(key, ref)
    found = {
        link.id: link
        for link in await store.many(conn, company_id=principal.company_id, keys=list(keys))
    }
    for key, ref in keys.items():
        if key not in found:
            raise not_found("link", ref)
    return [found[k] for k in keys]


async def list_links(
    db: Database,
    *,
    principal: Principal,
    types: list[str],
    after: int | None,
    limit: int,
    descending: bool,
) -> tuple[list[store.Link], int | None]:
    """A page of the company's links (``types`` filters, empty for all) and the key to
    continue after, if there may be more. A token that sees no company-level things sees none."""
    if not _sees_links(principal):
        return [], None
    rows = await store.page(
        db,
        company_id=principal.company_id,
        types=types or None,
        after=after,
        limit=limit + 1,
        descending=descending,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more and rows else None)


def check_url(url: str) -> str:
    """An external URL (or pattern) as stored: trimmed, non-blank, of bounded length."""
    url = url.strip()
    if not url:
        raise BadRequest("A link needs a non-blank external_url or pattern")
    if len(url) > MAX_URL:
        raise BadRequest(f"external_url is longer than {MAX_URL} characters")
    return url


def _require_company(principal: Principal) -> None:
    if not _sees_links(principal):
        raise Forbidden("This token does not have access to company resources")


async def _create(tx: Connection, *, principal: Principal, name: str, url: str) -> store.Link:
    """The link of ``url``, created (type web, with a link_created event) if it is new."""
    existing = await store.by_url(tx, company_id=principal.company_id, url=url)
    if existing is not None:
        return existing
    now = now_ms()
    key = await crud.insert(
        tx,
        links_table,
        company_id=principal.company_id,
        name=name,
        type=WEB,
        external_url=url,
        custom_fields="{}",
        created_at=now,
        updated_at=now,
    )
    await log.append(
        tx,
        company_id=principal.company_id,
        type="link_created",
        source=log.source_of(principal),
        target_type="link",
        target_id=key,
        data={"name": name, "external_url": url},
    )
    link = await store.get(tx, company_id=principal.company_id, key=key)
    assert link is not None
    return link


async def do_create_link(
    db: Database,
    *,
    principal: Principal,
    name: str | None,
    external_url: str | None,
    pattern: str | None,
) -> store.Link:
    """Create a web link from ``external_url`` xor ``pattern``; the name defaults to it.

    An existing link with the same URL is returned as it is.
    """
    _require_company(principal)
    if (external_url is None) == (pattern is None):
        raise BadRequest("Give either external_url or pattern, not both and not neither")
    url = check_url(external_url if external_url is not None else str(pattern))
    if name is not None and not name.strip():
        raise BadRequest("A link name cannot be blank")
    async with db.transaction() as tx:
        return await _create(tx, principal=principal, name=name or url, url=url)


async def do_update_link(
    db: Database, *, principal: Principal, link: store.Link, changes: dict[str, Any]
) -> None:
    """Apply a PATCH: ``name`` renames; ``custom_fields`` replaces the whole map."""
    _require_company(principal)
    values: dict[str, Any] = {}
    if changes.get("name") is not None:
        name = str(changes["name"])
        if not name.strip():
            raise BadRequest("A link name cannot be blank")
        values["name"] = name
    async with db.transaction() as tx:
        if "custom_fields" in changes:
            checked = await custom_fields.check_values(
                tx, principal=principal, object_type="link", values=changes["custom_fields"] or {}
            )
            values["custom_fields"] = orjson.dumps(checked).decode()
        if not values:
            return
        await crud.update(
            tx,
            links_table,
            company_id=link.company_id,
            key=link.id,
            updated_at=now_ms(),
            **values,
        )
        await log.append(
            tx,
            company_id=link.company_id,
            type="link_updated",
            source=log.source_of(principal),
            target_type="link",
            target_id=link.id,
            data={k: orjson.loads(v) if k == "custom_fields" else v for k, v in values.items()},
        )


async def _keys_of(tx: Connection, conv: Conversation) -> list[int]:
    return await store.keys_of_conversation(tx, company_id=conv.company_id, conversation_id=conv.id)


async def _touch(tx: Connection, conv: Conversation) -> None:
    await crud.update(
        tx, conversations_table, company_id=conv.company_id, key=conv.id, updated_at=now_ms()
    )


async def do_add_conversation_links(
    db: Database,
    *,
    principal: Principal,
    conv: Conversation,
    link_refs: list[str] | None,
    urls: list[str] | None,
) -> None:
    """Link ``link_refs`` (existing links, 404 if unknown) xor ``urls`` (web links, created
    when new) to a conversation; one link_added event per link not already there."""
    if (link_refs is None) == (urls is None):
        raise BadRequest("Give either link_ids or link_external_urls, not both and not neither")
    if not (link_refs or urls):
        raise BadRequest("Give at least one link")
    async with db.transaction() as tx:
        if link_refs is not None:
            wanted = await access_links(tx, principal=principal, refs=link_refs)
        else:
            _require_company(principal)
            wanted = []
            for url in dict.fromkeys(check_url(u) for u in urls or []):
                wanted.append(await _create(tx, principal=principal, name=url, url=url))
        have = set(await _keys_of(tx, conv))
        added = [link.id for link in dict.fromkeys(wanted) if link.id not in have]
        if not added:
            return
        await crud.link(
            tx,
            joins.CONVERSATION_LINKS,
            company_id=conv.company_id,
            left_id=conv.id,
            right_ids=added,
        )
        for key in added:
            await log.append(
                tx,
                company_id=conv.company_id,
                type="link_added",
                source=log.source_of(principal),
                target_type="link",
                target_id=key,
                conversation_id=conv.id,
            )
        await _touch(tx, conv)


async def do_remove_conversation_links(
    db: Database, *, principal: Principal, conv: Conversation, link_refs: list[str]
) -> None:
    """Unlink ``link_refs`` (404 if a link is unknown) from a conversation; one link_removed
    event per link that was there."""
    if not link_refs:
        raise BadRequest("Give at least one link id")
    async with db.transaction() as tx:
        wanted = await access_links(tx, principal=principal, refs=link_refs)
        have = set(await _keys_of(tx, conv))
        removed = [link.id for link in wanted if link.id in have]
        if not removed:
            return
        await crud.unlink(
            tx,
            joins.CONVERSATION_LINKS,
            company_id=conv.company_id,
            left_id=conv.id,
            right_ids=removed,
        )
        for key in removed:
            await log.append(
                tx,
                company_id=conv.company_id,
                type="link_removed",
                source=log.source_of(principal),
                target_type="link",
                target_id=key,
                conversation_id=conv.id,
            )
        await _touch(tx, conv)
