"""Merging conversations into one survivor (Front's ``conversations_merged``).

Front's public API has no merge endpoint; Porch offers one to administrators (the admin API and
``porch conversations merge``). The survivor (target) takes the comments, tags, followers,
links, inboxes and reminders of the sources, without duplicate join rows; where both have a
reminder for the same teammate, the target's is kept. Each source keeps its row, trashed and
pointing at the target through ``merged_into_id``, so every route of its id answers 301 to the
survivor. A source keeps its inbox rows too, so the tokens that saw it still get the 301 rather
than a 404. The target's activity is bumped, and one ``conversations_merged`` event on the
target lists the merged conversations' public ids in ``data["deleted_conversation_ids"]``.
"""

from __future__ import annotations

from porch import ids
from porch.domain.conversations import access_conversation
from porch.domain.errors import BadRequest, Conflict, Moved
from porch.domain.principal import Principal
from porch.events import log
from porch.store import conversations as conversations_store
from porch.store import crud, joins
from porch.store import merge as store
from porch.store.conversations import Conversation
from porch.store.db import Database, Reader
from porch.store.tables import conversations as conversations_table
from porch.timeutil import now_ms

MAX_SOURCES = 50

# Join rows that move to the survivor; inboxes are copied (see the module docstring).
_MOVED = (joins.CONVERSATION_TAGS, joins.CONVERSATION_FOLLOWERS, joins.CONVERSATION_LINKS)


async def access_sources(
    conn: Reader, *, principal: Principal, target: Conversation, refs: list[str]
) -> list[Conversation]:
    """The conversations to merge into ``target``: visible, distinct, not yet merged (409),
    and not the target itself (400)."""
    if not refs:
        raise BadRequest("Name at least one conversation to merge")
    if len(refs) > MAX_SOURCES:
        raise BadRequest(f"At most {MAX_SOURCES} conversations merge at once")
    out: dict[int, Conversation] = {}
    for ref in refs:
        try:
            conv = await access_conversation(conn, principal=principal, ref=ref)
        except Moved as exc:
            raise Conflict(f"{ref} was already merged into {exc.new_ref}") from exc
        if conv.id == target.id:
            raise BadRequest("A conversation cannot be merged into itself")
        out.setdefault(conv.id, conv)
    return list(out.values())


async def do_merge_conversations(
    db: Database, *, principal: Principal, target: Conversation, sources: list[Conversation]
) -> Conversation:
    """Merge ``sources`` into ``target`` and return the survivor as it is afterwards."""
    principal.require_provisioning()
    if not sources:
        raise BadRequest("Name at least one conversation to merge")
    if any(s.id == target.id for s in sources):
        raise BadRequest("A conversation cannot be merged into itself")
    company_id = target.company_id
    now = now_ms()
    async with db.transaction() as tx:
        for source in sources:
            current = await conversations_store.get(tx, company_id=company_id, key=source.id)
            # Checked again inside the transaction: a concurrent merge may have won.
            if current is None or current.merged_into_id is not None:
                raise Conflict(f"{ids.encode(ids.CONVERSATION, source.id)} was already merged")
            await store.move_contents(tx, company_id=company_id, source=source.id, target=target.id)
            for join in _MOVED:
                await store.copy_join(
                    tx, join, company_id=company_id, source=source.id, target=target.id, move=True
                )
            await store.copy_join(
                tx,
                joins.CONVERSATION_INBOXES,
                company_id=company_id,
                source=source.id,
                target=target.id,
                move=False,
            )
            await store.move_reminders(
                tx, company_id=company_id, source=source.id, target=target.id
            )
            await store.repoint_merged(
                tx, company_id=company_id, source=source.id, target=target.id
            )
            await crud.update(
                tx,
                conversations_table,
                company_id=company_id,
                key=source.id,
                merged_into_id=target.id,
                state="trashed",
                updated_at=now,
            )
        await crud.update(
            tx,
            conversations_table,
            company_id=company_id,
            key=target.id,
            updated_at=now,
            activity_at=max(now, target.activity_at + 1),
        )
        await log.append(
            tx,
            company_id=company_id,
            type="conversations_merged",
            source=log.source_of(principal),
            target_type="deleted_conversation_ids",
            conversation_id=target.id,
            data={
                "deleted_conversation_ids": [ids.encode(ids.CONVERSATION, s.id) for s in sources]
            },
        )
        survivor = await conversations_store.get(tx, company_id=company_id, key=target.id)
    assert survivor is not None
    return survivor
