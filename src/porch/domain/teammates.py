"""Teammates: access by id, alias or email; the directory; profile updates.

Teammates are the company's directory: every token of the company can read them. Their private
resources (private inboxes, tags, signatures) are a different matter, see ``private_owner``.
Changing a teammate's profile is company-wide administration: it needs shared or provisioning
access, not a single team's.
"""

from __future__ import annotations

from typing import Any

import orjson

from porch import ids
from porch.domain import custom_fields, refs
from porch.domain.errors import BadRequest, Conflict, Forbidden, not_found
from porch.domain.principal import Principal
from porch.events import log
from porch.store import crud, joins
from porch.store import inboxes as inboxes_store
from porch.store import teammates as store
from porch.store.db import Connection, Database, Reader
from porch.store.inboxes import Inbox
from porch.store.tables import teammates as teammates_table
from porch.timeutil import now_ms


async def find_teammate(conn: Reader, *, company_id: int, ref: str) -> store.Teammate | None:
    """Resolve ``tea_…``, ``alt:email:…`` or a bare email within a company."""
    email = refs.alias(ref, "email")
    if email is None and "@" in ref and not ref.startswith("alt:"):
        email = refs.clean(ref)
    if email is not None:
        return await store.by_email(conn, company_id=company_id, email=email)
    key = ids.decode(ids.TEAMMATE, ref)
    if key is None:
        return None
    return await store.get(conn, company_id=company_id, key=key)


async def access_teammate(conn: Reader, *, principal: Principal, ref: str) -> store.Teammate:
    """The teammate ``ref`` names in the caller's company; NotFound otherwise."""
    found = await find_teammate(conn, company_id=principal.company_id, ref=ref)
    if found is None:
        raise not_found("teammate", ref)
    return found


async def access_teammates(
    conn: Reader, *, principal: Principal, refs_: list[str]
) -> list[store.Teammate]:
    """Every teammate of a list of references (a request body's ``teammate_ids``); an unknown
    one is a 404 naming it, as for an unknown id in the path."""
    out = []
    for ref in refs_:
        found = await find_teammate(conn, company_id=principal.company_id, ref=ref)
        if found is None:
            raise not_found("teammate", ref)
        out.append(found)
    return out


def private_owner(principal: Principal, teammate: store.Teammate) -> None:
    """Raise unless the token may reach ``teammate``'s private resources."""
    if not principal.private:
        raise Forbidden("This token does not have access to private resources")
    if not teammate.api_private_access:
        raise Forbidden("This teammate has not allowed API access to their private resources")


def sees_private_of(principal: Principal, teammate: store.Teammate) -> bool:
    return principal.private and teammate.api_private_access


USERNAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_")
TYPES = (
    "user",
    "visitor",
    "ai",
    "api",
    "application",
    "bulk_reply",
    "csat",
    "integration",
    "macro",
    "rule",
    "smart_csat",
)


def check_username(username: str) -> None:
    if not username or not set(username) <= USERNAME_CHARS:
        raise BadRequest("A username may only contain lowercase letters, numbers and underscores")


def check_email(email: str) -> str:
    email = email.strip().lower()
    local, at, domain = email.partition("@")
    if not at or not local or "." not in domain or any(c.isspace() for c in email):
        raise BadRequest(f"Not an email address: {email!r}")
    return email


async def do_create_teammate(
    db: Database,
    *,
    principal: Principal,
    email: str,
    username: str | None = None,
    first_name: str = "",
    last_name: str = "",
    is_admin: bool = False,
    type: str = "user",
    api_private_access: bool = False,
    team_ids: list[int] | None = None,
) -> store.Teammate:
    """Create a teammate (Porch's admin API and CLI; Front's API cannot), optionally in teams."""
    principal.require_provisioning()
    email = check_email(email)
    username = (
        username
        if username is not None
        else email.split("@")[0].replace(".", "_").replace("-", "_")
    )
    check_username(username)
    if type not in TYPES:
        raise BadRequest(f"type must be one of: {', '.join(TYPES)}")
    now = now_ms()
    async with db.transaction() as tx:
        if await store.by_email(tx, company_id=principal.company_id, email=email):
            raise Conflict(f"A teammate with the email {email!r} already exists")
        if await store.by_username(tx, company_id=principal.company_id, username=username):
            raise Conflict(f"The username {username!r} is taken")
        key = await crud.insert(
            tx,
            teammates_table,
            company_id=principal.company_id,
            email=email,
            username=username,
            first_name=first_name,
            last_name=last_name,
            is_admin=is_admin,
            is_available=True,
            is_blocked=False,
            type=type,
            license_type="regular",
            api_private_access=api_private_access,
            custom_fields="{}",
            created_at=now,
            updated_at=now,
        )
        for team_id in team_ids or []:
            await crud.link(
                tx,
                joins.TEAM_MEMBERS,
                company_id=principal.company_id,
                left_id=team_id,
                right_ids=[key],
            )
        await log.append(
            tx,
            company_id=principal.company_id,
            type="teammate_created",
            source=log.source_of(principal),
            target_type="teammate",
            target_id=key,
            data={"email": email, "username": username},
        )
        teammate = await store.get(tx, company_id=principal.company_id, key=key)
    assert teammate is not None
    return teammate


async def list_teammates(conn: Reader, *, principal: Principal) -> list[store.Teammate]:
    """The whole directory of the caller's company, oldest first."""
    return await store.all_of(conn, company_id=principal.company_id)


async def teammate_inboxes(
    conn: Reader, *, principal: Principal, teammate: store.Teammate
) -> list[Inbox]:
    """The inboxes ``teammate`` has access to (or owns), limited to those the token sees."""
    return await inboxes_store.of_teammate(
        conn, company_id=principal.company_id, teammate_id=teammate.id, vis=principal.visibility()
    )


def require_directory_admin(principal: Principal) -> None:
    if not (principal.shared or principal.provisioning):
        raise Forbidden("Changing a teammate needs a token with shared access")


async def do_update_teammate(
    db: Database,
    *,
    principal: Principal,
    teammate: store.Teammate,
    changes: dict[str, Any],
) -> None:
    """Apply a PATCH of ``username``, ``first_name``, ``last_name``, ``is_available`` and
    ``custom_fields`` (only the fields sent). A username must be unused in the company;
    ``custom_fields`` replaces the whole map."""
    require_directory_admin(principal)
    values: dict[str, Any] = {}
    for name in ("first_name", "last_name", "is_available"):
        if changes.get(name) is not None:
            values[name] = changes[name]
    username = changes.get("username")
    if username is not None:
        check_username(str(username))
        values["username"] = username
    async with db.transaction() as tx:
        if "custom_fields" in changes:
            fields = await custom_fields.check_values(
                tx, principal=principal, object_type="teammate", values=changes["custom_fields"]
            )
            values["custom_fields"] = orjson.dumps(fields).decode()
        if username is not None and username != teammate.username:
            taken = await store.by_username(tx, company_id=teammate.company_id, username=username)
            if taken is not None:
                raise Conflict(f"The username {username!r} is taken")
        values["updated_at"] = now_ms()
        await crud.update(
            tx, teammates_table, company_id=teammate.company_id, key=teammate.id, **values
        )
        data = {k: v for k, v in values.items() if k not in ("updated_at", "custom_fields")}
        if "custom_fields" in values:
            data["custom_fields"] = orjson.loads(values["custom_fields"])
        await log.append(
            tx,
            company_id=teammate.company_id,
            type="teammate_updated",
            source=log.source_of(principal),
            target_type="teammate",
            target_id=teammate.id,
            data=data,
        )


async def do_set_teammate_flags(
    db: Database,
    *,
    principal: Principal,
    teammate: store.Teammate,
    api_private_access: bool | None = None,
    is_admin: bool | None = None,
    is_blocked: bool | None = None,
) -> store.Teammate:
    """Change what Front's API cannot: a teammate's consent to API access to their private
    resources (their own preference), admin rights and blocking (provisioning)."""
    principal.require_provisioning()
    values: dict[str, Any] = {
        k: v
        for k, v in (
            ("api_private_access", api_private_access),
            ("is_admin", is_admin),
            ("is_blocked", is_blocked),
        )
        if v is not None
    }
    async with db.transaction() as tx:
        if values:
            values["updated_at"] = now_ms()
            await crud.update(
                tx, teammates_table, company_id=teammate.company_id, key=teammate.id, **values
            )
            await log.append(
                tx,
                company_id=teammate.company_id,
                type="teammate_updated",
                source=log.source_of(principal),
                target_type="teammate",
                target_id=teammate.id,
                data={k: v for k, v in values.items() if k != "updated_at"},
            )
        updated = await store.get(tx, company_id=teammate.company_id, key=teammate.id)
    assert updated is not None
    return updated


API_BOT_USERNAME = "porch_api"


async def api_author(tx: Connection, *, principal: Principal) -> int:
    """The bot teammate (type ``api``) that authors what a token writes without naming an
    author, as Front posts "as the API token"; created the first time it is needed."""
    found = await store.by_username(tx, company_id=principal.company_id, username=API_BOT_USERNAME)
    if found is not None:
        return found.id
    now = now_ms()
    return await crud.insert(
        tx,
        teammates_table,
        company_id=principal.company_id,
        email=f"{API_BOT_USERNAME}@bots.porch.invalid",
        username=API_BOT_USERNAME,
        first_name="API",
        last_name="",
        is_admin=False,
        is_available=False,
        is_blocked=False,
        type="api",
        license_type="bot",
        api_private_access=False,
        custom_fields="{}",
        created_at=now,
        updated_at=now,
    )
