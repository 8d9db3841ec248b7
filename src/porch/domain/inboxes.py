"""Inboxes: team (shared) inboxes and teammates' private inboxes, and who has access to them.

An inbox has exactly one owner: a team or a teammate. Names need not be unique (Front allows
two inboxes of the same name). Access is explicit, per teammate; a private inbox is reached by
its owner alone, so access to it cannot be granted or withdrawn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from porch import ids
from porch.domain import custom_fields, teammates
from porch.domain.errors import BadRequest, not_found
from porch.domain.principal import Principal
from porch.domain.teams import access_team, oldest_team
from porch.events import log
from porch.store import crud, joins
from porch.store import inboxes as store
from porch.store import teammates as teammates_store
from porch.store.db import Database, Reader
from porch.store.tables import inboxes as inboxes_table
from porch.timeutil import now_ms


@dataclass(frozen=True, slots=True)
class Owner:
    """Who a new inbox belongs to: a team (shared inbox) or a teammate (private inbox)."""

    team_id: int | None = None
    teammate_id: int | None = None


async def access_inbox(conn: Reader, *, principal: Principal, ref: str) -> store.Inbox:
    """The inbox ``ref`` names, if the token sees it; NotFound otherwise."""
    key = ids.decode(ids.INBOX, ref)
    inbox = None
    if key is not None:
        inbox = await store.get_visible(
            conn, company_id=principal.company_id, key=key, vis=principal.visibility()
        )
    if inbox is None:
        raise not_found("inbox", ref)
    return inbox


async def team_owner(conn: Reader, *, principal: Principal, team_ref: str | None) -> Owner:
    """A team named by ``team_ref``, or the oldest team the token reaches (``POST /inboxes``)."""
    if team_ref is not None:
        team = await access_team(conn, principal=principal, ref=team_ref)
    else:
        team = await oldest_team(conn, principal=principal)
    return Owner(team_id=team.id)


async def teammate_owner(conn: Reader, *, principal: Principal, teammate_ref: str) -> Owner:
    """A teammate whose private resources the token may reach (private scope and consent)."""
    teammate = await teammates.access_teammate(conn, principal=principal, ref=teammate_ref)
    teammates.private_owner(principal, teammate)
    return Owner(teammate_id=teammate.id)


async def list_visible(conn: Reader, *, principal: Principal) -> list[store.Inbox]:
    """Every inbox the token sees."""
    return await store.all_visible(
        conn, company_id=principal.company_id, vis=principal.visibility()
    )


async def list_of_team(conn: Reader, *, principal: Principal, team_id: int) -> list[store.Inbox]:
    """The inboxes of a team."""
    return await store.of_team(
        conn, company_id=principal.company_id, team_id=team_id, vis=principal.visibility()
    )


async def list_private(
    conn: Reader, *, principal: Principal, teammate_id: int
) -> list[store.Inbox]:
    """A teammate's private inboxes."""
    return await store.private_of(
        conn, company_id=principal.company_id, teammate_id=teammate_id, vis=principal.visibility()
    )


async def teammates_with_access(
    conn: Reader, *, principal: Principal, inbox: store.Inbox
) -> list[teammates_store.Teammate]:
    """The teammates who reach an inbox: its owner (private inbox) and those given access."""
    keys = await store.access_list(conn, inbox_id=inbox.id)
    if inbox.owner_teammate_id is not None:
        keys = sorted({*keys, inbox.owner_teammate_id})
    return await teammates_store.many(conn, company_id=principal.company_id, keys=keys)


def check_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise BadRequest("An inbox name cannot be blank")
    return name


async def do_create_inbox(
    db: Database,
    *,
    principal: Principal,
    owner: Owner,
    name: str,
    is_public: bool = False,
    teammate_refs: list[str] | None = None,
    custom_field_values: dict[str, Any] | None = None,
) -> store.Inbox:
    """Create an inbox; ``teammate_refs`` (ids, email aliases or emails) are given access.

    An unknown teammate is a 404 naming it and nothing is created; invalid custom fields are a
    400. A private inbox takes no teammates: its owner reaches it.
    """
    name = check_name(name)
    if owner.teammate_id is not None and teammate_refs:
        raise BadRequest("A private inbox cannot give access to other teammates")
    fields = await custom_fields.check_values(
        db, principal=principal, object_type="inbox", values=custom_field_values or {}
    )
    members = await teammates.access_teammates(db, principal=principal, refs_=teammate_refs or [])
    member_keys = list(dict.fromkeys(m.id for m in members))
    async with db.transaction() as tx:
        key = await crud.insert(
            tx,
            inboxes_table,
            company_id=principal.company_id,
            name=name,
            team_id=owner.team_id,
            owner_teammate_id=owner.teammate_id,
            is_public=is_public,
            custom_fields=orjson.dumps(fields).decode(),
            created_at=now_ms(),
        )
        if member_keys:
            await crud.link(
                tx,
                joins.INBOX_ACCESS,
                company_id=principal.company_id,
                left_id=key,
                right_ids=member_keys,
            )
        await log.append(
            tx,
            company_id=principal.company_id,
            type="inbox_created",
            source=log.source_of(principal),
            target_type="inbox",
            target_id=key,
            data={
                "name": name,
                "team_id": owner.team_id,
                "owner_teammate_id": owner.teammate_id,
                "is_public": is_public,
                "teammate_ids": member_keys,
            },
        )
        inbox = await store.get(tx, company_id=principal.company_id, key=key)
    assert inbox is not None
    return inbox


async def _members_for_access(
    db: Database, *, principal: Principal, inbox: store.Inbox, teammate_refs: list[str]
) -> list[int]:
    if inbox.is_private:
        raise BadRequest("Access to a private inbox belongs to its owner alone")
    members = await teammates.access_teammates(db, principal=principal, refs_=teammate_refs)
    return list(dict.fromkeys(m.id for m in members))


async def do_add_access(
    db: Database, *, principal: Principal, inbox: store.Inbox, teammate_refs: list[str]
) -> None:
    """Give teammates access to a team inbox (those who have it already keep it)."""
    keys = await _members_for_access(
        db, principal=principal, inbox=inbox, teammate_refs=teammate_refs
    )
    async with db.transaction() as tx:
        await crud.link(
            tx,
            joins.INBOX_ACCESS,
            company_id=principal.company_id,
            left_id=inbox.id,
            right_ids=keys,
        )
        await log.append(
            tx,
            company_id=principal.company_id,
            type="inbox_access_added",
            source=log.source_of(principal),
            target_type="inbox",
            target_id=inbox.id,
            data={"teammate_ids": keys},
        )


async def do_remove_access(
    db: Database, *, principal: Principal, inbox: store.Inbox, teammate_refs: list[str]
) -> None:
    """Withdraw teammates' access to a team inbox (those without access are ignored)."""
    keys = await _members_for_access(
        db, principal=principal, inbox=inbox, teammate_refs=teammate_refs
    )
    async with db.transaction() as tx:
        await crud.unlink(
            tx,
            joins.INBOX_ACCESS,
            company_id=principal.company_id,
            left_id=inbox.id,
            right_ids=keys,
        )
        await log.append(
            tx,
            company_id=principal.company_id,
            type="inbox_access_removed",
            source=log.source_of(principal),
            target_type="inbox",
            target_id=inbox.id,
            data={"teammate_ids": keys},
        )
