"""Teammate groups: named sets of teammates, with teams and the team inboxes they reach.

Groups are company-wide: tokens with shared or provisioning access read them, only shared tokens
change them (a team or private token sees none). A group reaches the public inboxes of its teams
automatically; a non-public inbox of one of its teams is linked explicitly. Removing a team
unlinks that team's inboxes. Groups managed by SCIM cannot be changed through the API (Porch
has no SCIM, so every group is managed by Porch).
"""

from __future__ import annotations

from typing import Any

import orjson

from porch import ids
from porch.domain.errors import BadRequest, Conflict, Forbidden, not_found
from porch.domain.inboxes import access_inbox
from porch.domain.principal import Principal
from porch.events import log
from porch.store import crud, joins
from porch.store import teammate_groups as store
from porch.store.db import Connection, Database, Reader
from porch.store.inboxes import Inbox
from porch.store.tables import (
    teammate_group_inboxes,
    teammate_group_members,
    teammate_group_teams,
    teammate_groups,
)
from porch.store.teammates import Teammate
from porch.store.teams import Team
from porch.timeutil import now_ms

CONTACT_LIST = "grp"
ACCESS = ("all", "contact_lists", "none", "contact_groups")
DEFAULT_PERMISSIONS: dict[str, Any] = {"contacts": {"access": "all"}}


def sees_groups(principal: Principal) -> bool:
    return principal.shared or principal.provisioning


async def access_teammate_group(
    conn: Reader, *, principal: Principal, ref: str
) -> store.TeammateGroup:
    """The group ``ref`` names, if the token reaches groups; NotFound otherwise."""
    key = ids.decode(ids.TEAMMATE_GROUP, ref)
    group = None
    if key is not None and sees_groups(principal):
        group = await store.get(conn, company_id=principal.company_id, key=key)
    if group is None:
        raise not_found("teammate group", ref)
    return group


async def access_group_inboxes(
    conn: Reader, *, principal: Principal, refs_: list[str]
) -> list[Inbox]:
    """The inboxes of a body's ``inbox_ids``; an unknown or invisible one is a 404 naming it."""
    return [await access_inbox(conn, principal=principal, ref=ref) for ref in refs_]


async def list_teammate_groups(conn: Reader, *, principal: Principal) -> list[store.TeammateGroup]:
    if not sees_groups(principal):
        return []
    return await store.all_of(conn, company_id=principal.company_id)


async def group_teammates(
    conn: Reader, *, principal: Principal, group: store.TeammateGroup
) -> list[Teammate]:
    return await store.members(conn, company_id=principal.company_id, group_id=group.id)


async def group_teams(
    conn: Reader, *, principal: Principal, group: store.TeammateGroup
) -> list[Team]:
    return await store.teams_of(conn, company_id=principal.company_id, group_id=group.id)


async def group_inboxes(
    conn: Reader, *, principal: Principal, group: store.TeammateGroup
) -> list[Inbox]:
    """The public inboxes of the group's teams and its linked inboxes, as the token sees them."""
    return await store.inboxes_of(
        conn, company_id=principal.company_id, group_id=group.id, vis=principal.visibility()
    )


def check_permissions(raw: dict[str, Any] | None, base: dict[str, Any]) -> dict[str, Any]:
    """The permissions to store: ``base`` with the parts ``raw`` names replaced.

    ``contacts.access`` is one of ``all``, ``contact_lists``, ``none`` or the deprecated
    ``contact_groups``, which Front renamed to contact lists: it is stored as ``contact_lists``
    with the ``contact_group_ids`` as ``contact_list_ids``. Ids are only allowed with the access
    they belong to.
    """
    out = dict(base)
    if raw is None or raw.get("contacts") is None:
        return out
    contacts = raw["contacts"]
    access = contacts.get("access")
    if access not in ACCESS:
        raise BadRequest(f"permissions.contacts.access must be one of: {', '.join(ACCESS[:3])}")
    list_ids = contacts.get("contact_list_ids")
    group_ids = contacts.get("contact_group_ids")
    if list_ids is not None and access != "contact_lists":
        raise BadRequest("contact_list_ids can only be given with access 'contact_lists'")
    if group_ids is not None and access != "contact_groups":
        raise BadRequest("contact_group_ids can only be given with access 'contact_groups'")
    if access == "contact_groups":
        access, list_ids = "contact_lists", group_ids
    if access != "contact_lists":
        out["contacts"] = {"access": access}
        return out
    refs_ = list(dict.fromkeys(list_ids or []))
    bad = [r for r in refs_ if ids.decode(CONTACT_LIST, r) is None]
    if bad:
        raise BadRequest("Not contact list ids: " + ", ".join(repr(b) for b in bad))
    out["contacts"] = {"access": "contact_lists", "contact_list_ids": refs_}
    return out


def check_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise BadRequest("A teammate group needs a name")
    return name


def check_not_scim(group: store.TeammateGroup) -> None:
    if group.is_managed_by_scim:
        raise Forbidden("This teammate group is managed by SCIM and cannot be changed here")


async def _event(
    tx: Connection,
    principal: Principal,
    type: str,
    group_id: int,
    data: dict[str, Any] | None = None,
) -> None:
    await log.append(
        tx,
        company_id=principal.company_id,
        type=type,
        source=log.source_of(principal),
        target_type="teammate_group",
        target_id=group_id,
        data=data,
    )


async def do_create_teammate_group(
    db: Database,
    *,
    principal: Principal,
    name: str,
    description: str | None = None,
    permissions: dict[str, Any] | None = None,
) -> store.TeammateGroup:
    """Create a group; names are unique in the company."""
    principal.require_shared()
    name = check_name(name)
    perms = check_permissions(permissions, DEFAULT_PERMISSIONS)
    async with db.transaction() as tx:
        if await store.by_name(tx, company_id=principal.company_id, name=name) is not None:
            raise Conflict(f"A teammate group named {name!r} already exists")
        key = await crud.insert(
            tx,
            teammate_groups,
            company_id=principal.company_id,
            name=name,
            description=description,
            is_managed_by_scim=False,
            permissions=orjson.dumps(perms).decode(),
            created_at=now_ms(),
        )
        await _event(tx, principal, "teammate_group_created", key, {"name": name})
        group = await store.get(tx, company_id=principal.company_id, key=key)
    assert group is not None
    return group


async def do_update_teammate_group(
    db: Database,
    *,
    principal: Principal,
    group: store.TeammateGroup,
    changes: dict[str, Any],
) -> None:
    """Apply a PATCH: ``changes`` holds only the fields sent (a null description clears it)."""
    principal.require_shared()
    check_not_scim(group)
    values: dict[str, Any] = {}
    if changes.get("name") is not None:
        values["name"] = check_name(str(changes["name"]))
    if "description" in changes:
        values["description"] = changes["description"]
    if changes.get("permissions") is not None:
        perms = check_permissions(changes["permissions"], group.permissions)
        values["permissions"] = orjson.dumps(perms).decode()
    async with db.transaction() as tx:
        if "name" in values and values["name"] != group.name:
            other = await store.by_name(tx, company_id=group.company_id, name=values["name"])
            if other is not None:
                raise Conflict(f"A teammate group named {values['name']!r} already exists")
        await crud.update(tx, teammate_groups, company_id=group.company_id, key=group.id, **values)
        data = {k: orjson.loads(v) if k == "permissions" else v for k, v in values.items()}
        await _event(tx, principal, "teammate_group_updated", group.id, data)


async def do_delete_teammate_group(
    db: Database, *, principal: Principal, group: store.TeammateGroup
) -> None:
    """Delete a group with its memberships, teams and inbox links."""
    principal.require_shared()
    check_not_scim(group)
    async with db.transaction() as tx:
        for table in (teammate_group_members, teammate_group_teams, teammate_group_inboxes):
            await crud.delete_where(tx, table, company_id=group.company_id, group_id=group.id)
        await crud.delete(tx, teammate_groups, company_id=group.company_id, key=group.id)
        await _event(tx, principal, "teammate_group_deleted", group.id, {"name": group.name})


async def do_add_teammates(
    db: Database, *, principal: Principal, group: store.TeammateGroup, teammates: list[Teammate]
) -> None:
    """Make teammates members of the group (members already are left alone)."""
    principal.require_shared()
    check_not_scim(group)
    keys = [t.id for t in teammates]
    async with db.transaction() as tx:
        await crud.link(
            tx, joins.GROUP_MEMBERS, company_id=group.company_id, left_id=group.id, right_ids=keys
        )
        await _event(
            tx, principal, "teammate_group_teammates_added", group.id, {"teammate_ids": keys}
        )


async def do_remove_teammates(
    db: Database, *, principal: Principal, group: store.TeammateGroup, teammates: list[Teammate]
) -> None:
    """Remove teammates from the group (non-members are ignored)."""
    principal.require_shared()
    check_not_scim(group)
    keys = [t.id for t in teammates]
    async with db.transaction() as tx:
        await crud.unlink(
            tx, joins.GROUP_MEMBERS, company_id=group.company_id, left_id=group.id, right_ids=keys
        )
        await _event(
            tx, principal, "teammate_group_teammates_removed", group.id, {"teammate_ids": keys}
        )


async def do_add_teams(
    db: Database, *, principal: Principal, group: store.TeammateGroup, teams: list[Team]
) -> None:
    """Add teams to the group; their public inboxes come with them."""
    principal.require_shared()
    check_not_scim(group)
    keys = [t.id for t in teams]
    async with db.transaction() as tx:
        await crud.link(
            tx, joins.GROUP_TEAMS, company_id=group.company_id, left_id=group.id, right_ids=keys
        )
        await _event(tx, principal, "teammate_group_teams_added", group.id, {"team_ids": keys})


async def do_remove_teams(
    db: Database, *, principal: Principal, group: store.TeammateGroup, teams: list[Team]
) -> None:
    """Remove teams from the group, unlinking the inboxes of those teams linked to it."""
    principal.require_shared()
    check_not_scim(group)
    keys = [t.id for t in teams]
    async with db.transaction() as tx:
        unlinked: list[int] = []
        for key in keys:
            unlinked += await store.linked_of_team(
                tx, company_id=group.company_id, group_id=group.id, team_id=key
            )
        if unlinked:
            await crud.unlink(
                tx,
                joins.GROUP_INBOXES,
                company_id=group.company_id,
                left_id=group.id,
                right_ids=unlinked,
            )
        await crud.unlink(
            tx, joins.GROUP_TEAMS, company_id=group.company_id, left_id=group.id, right_ids=keys
        )
        await _event(
            tx,
            principal,
            "teammate_group_teams_removed",
            group.id,
            {"team_ids": keys, "unlinked_inbox_ids": unlinked},
        )


async def _check_team_inboxes(
    conn: Reader, group: store.TeammateGroup, inboxes: list[Inbox]
) -> None:
    """Only inboxes of a team, and of a team the group has, can be linked to a group."""
    teams = await store.team_keys(conn, company_id=group.company_id, group_id=group.id)
    for inbox in inboxes:
        name = ids.encode(ids.INBOX, inbox.id)
        if inbox.team_id is None:
            raise BadRequest(f"Inbox {name} is private: only team inboxes join a teammate group")
        if inbox.team_id not in teams:
            raise BadRequest(
                f"Inbox {name} belongs to a team that is not part of this teammate group"
            )


async def do_add_inboxes(
    db: Database, *, principal: Principal, group: store.TeammateGroup, inboxes: list[Inbox]
) -> None:
    """Link non-public team inboxes to the group; a public one is already reached through its
    team, so asking for it changes nothing."""
    principal.require_shared()
    check_not_scim(group)
    async with db.transaction() as tx:
        await _check_team_inboxes(tx, group, inboxes)
        keys = [i.id for i in inboxes if not i.is_public]
        await crud.link(
            tx, joins.GROUP_INBOXES, company_id=group.company_id, left_id=group.id, right_ids=keys
        )
        await _event(tx, principal, "teammate_group_inboxes_added", group.id, {"inbox_ids": keys})


async def do_remove_inboxes(
    db: Database, *, principal: Principal, group: store.TeammateGroup, inboxes: list[Inbox]
) -> None:
    """Unlink non-public team inboxes (those not linked are ignored); a public inbox goes only
    with its team and a private one never joins a group (both 400)."""
    principal.require_shared()
    check_not_scim(group)
    for inbox in inboxes:
        name = ids.encode(ids.INBOX, inbox.id)
        if inbox.team_id is None:
            raise BadRequest(f"Inbox {name} is private: only team inboxes join a teammate group")
        if inbox.is_public:
            raise BadRequest(
                f"Inbox {name} is public: it is reached through its team; remove the team instead"
            )
    async with db.transaction() as tx:
        keys = [i.id for i in inboxes]
        await crud.unlink(
            tx, joins.GROUP_INBOXES, company_id=group.company_id, left_id=group.id, right_ids=keys
        )
        await _event(tx, principal, "teammate_group_inboxes_removed", group.id, {"inbox_ids": keys})
