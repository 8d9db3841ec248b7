"""Signatures: team signatures and teammates' private signatures.

A signature belongs to a team or a teammate and is visible as the owner's other resources.
``channel_ids`` restricts it to some channels (null: every channel of the owner); the channels
must be ones the token sees (an unknown or invisible one is a 404 naming it, as for any
reference) and ones the owner could sign on: a team's channels for a team signature, shared
channels or the teammate's own for a private one (else 400). At most one signature per owner
is the default: making one the default clears the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from porch import ids
from porch.domain import teammates
from porch.domain.channels import access_channels
from porch.domain.errors import BadRequest, not_found
from porch.domain.principal import Principal
from porch.domain.teams import access_team
from porch.events import log
from porch.store import crud
from porch.store import signatures as store
from porch.store.db import Database, Reader
from porch.store.tables import signatures as signatures_table
from porch.timeutil import now_ms


@dataclass(frozen=True, slots=True)
class Owner:
    """A signature's owner: a team, or a teammate (private signature)."""

    team_id: int | None = None
    teammate_id: int | None = None


async def access_signature(conn: Reader, *, principal: Principal, ref: str) -> store.Signature:
    """The signature ``ref`` names, if the token sees it; NotFound otherwise."""
    key = ids.decode(ids.SIGNATURE, ref)
    found = None
    if key is not None:
        found = await store.get_visible(
            conn, company_id=principal.company_id, key=key, vis=principal.visibility()
        )
    if found is None:
        raise not_found("signature", ref)
    return found


async def team_owner(conn: Reader, *, principal: Principal, team_ref: str) -> Owner:
    team = await access_team(conn, principal=principal, ref=team_ref)
    return Owner(team_id=team.id)


async def teammate_owner(conn: Reader, *, principal: Principal, teammate_ref: str) -> Owner:
    """A teammate whose private resources the token may reach (private scope and consent)."""
    teammate = await teammates.access_teammate(conn, principal=principal, ref=teammate_ref)
    teammates.private_owner(principal, teammate)
    return Owner(teammate_id=teammate.id)


async def list_signatures(
    db: Database,
    *,
    principal: Principal,
    owner: Owner,
    after: int | None,
    limit: int,
    descending: bool,
) -> tuple[list[store.Signature], int | None]:
    """A page of an owner's signatures and the key to continue after, if there may be more."""
    if owner.team_id is not None:
        scope, key = "team", owner.team_id
    else:
        assert owner.teammate_id is not None
        scope, key = "teammate", owner.teammate_id
    rows = await store.page(
        db,
        company_id=principal.company_id,
        vis=principal.visibility(),
        scope=scope,
        owner=key,
        after=after,
        limit=limit + 1,
        descending=descending,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more and rows else None)


async def _channel_keys(
    conn: Reader, *, principal: Principal, owner: Owner, refs_: list[str] | None
) -> list[int] | None:
    """Channel keys for ``channel_ids`` (None stays None: every channel of the owner)."""
    if refs_ is None:
        return None
    found = await access_channels(conn, principal=principal, refs_=refs_)
    wrong = [
        ref
        for ref, ch in zip(refs_, found, strict=True)
        if (owner.team_id is not None and ch.team_id != owner.team_id)
        or (owner.teammate_id is not None and ch.owner_teammate_id not in (None, owner.teammate_id))
    ]
    if wrong:
        whose = "the team's" if owner.team_id is not None else "shared or the teammate's own"
        raise BadRequest(
            f"A signature's channels must be {whose} channels", details=[str(w) for w in wrong]
        )
    return list(dict.fromkeys(ch.id for ch in found))


def _check_text(*, name: Any = "", body: Any = "") -> None:
    if name is None or not str(name).strip():
        raise BadRequest("A signature name cannot be blank")
    if body is None or not str(body).strip():
        raise BadRequest("A signature body cannot be blank")


async def do_create_signature(
    db: Database,
    *,
    principal: Principal,
    owner: Owner,
    name: str,
    body: str,
    sender_info: str | None = None,
    is_default: bool = False,
    is_visible_for_all_teammate_channels: bool | None = None,
    channel_refs: list[str] | None = None,
) -> store.Signature:
    """Create a signature; ``is_visible_for_all_teammate_channels`` is for team signatures."""
    _check_text(name=name, body=body)
    if owner.teammate_id is not None and is_visible_for_all_teammate_channels is not None:
        raise BadRequest("is_visible_for_all_teammate_channels is only for team signatures")
    channel_keys = await _channel_keys(db, principal=principal, owner=owner, refs_=channel_refs)
    async with db.transaction() as tx:
        key = await crud.insert(
            tx,
            signatures_table,
            company_id=principal.company_id,
            team_id=owner.team_id,
            owner_teammate_id=owner.teammate_id,
            name=name,
            body=body,
            sender_info=sender_info,
            is_visible_for_all_teammate_channels=bool(is_visible_for_all_teammate_channels),
            is_default=is_default,
            channel_ids=orjson.dumps(channel_keys).decode() if channel_keys is not None else None,
            created_at=now_ms(),
        )
        if is_default:
            await store.clear_other_defaults(
                tx,
                company_id=principal.company_id,
                team_id=owner.team_id,
                owner_id=owner.teammate_id,
                key=key,
            )
        await log.append(
            tx,
            company_id=principal.company_id,
            type="signature_created",
            source=log.source_of(principal),
            target_type="signature",
            target_id=key,
            data={"name": name, "is_default": is_default, "channel_ids": channel_keys},
        )
        signature = await store.get(tx, company_id=principal.company_id, key=key)
    assert signature is not None
    return signature


async def do_update_signature(
    db: Database, *, principal: Principal, signature: store.Signature, changes: dict[str, Any]
) -> store.Signature:
    """Apply a PATCH: ``changes`` holds the fields sent; returns the signature as it now is.

    ``sender_info`` and ``channel_ids`` may be null (no sender info; every channel); the other
    fields may not.
    """
    for field in ("name", "body", "is_default", "is_visible_for_all_teammate_channels"):
        if field in changes and changes[field] is None:
            raise BadRequest(f"{field} cannot be null")
    _check_text(name=changes.get("name", "x"), body=changes.get("body", "x"))
    if signature.is_private and "is_visible_for_all_teammate_channels" in changes:
        raise BadRequest("is_visible_for_all_teammate_channels is only for team signatures")
    values: dict[str, Any] = {
        f: changes[f]
        for f in (
            "name",
            "body",
            "sender_info",
            "is_default",
            "is_visible_for_all_teammate_channels",
        )
        if f in changes
    }
    data: dict[str, Any] = {k: v for k, v in values.items() if k != "body"}
    if "channel_ids" in changes:
        owner = Owner(signature.team_id, signature.owner_teammate_id)
        keys = await _channel_keys(
            db, principal=principal, owner=owner, refs_=changes["channel_ids"]
        )
        values["channel_ids"] = orjson.dumps(keys).decode() if keys is not None else None
        data["channel_ids"] = keys
    async with db.transaction() as tx:
        if values:
            await crud.update(
                tx, signatures_table, company_id=principal.company_id, key=signature.id, **values
            )
            if values.get("is_default"):
                await store.clear_other_defaults(
                    tx,
                    company_id=principal.company_id,
                    team_id=signature.team_id,
                    owner_id=signature.owner_teammate_id,
                    key=signature.id,
                )
            await log.append(
                tx,
                company_id=principal.company_id,
                type="signature_updated",
                source=log.source_of(principal),
                target_type="signature",
                target_id=signature.id,
                data=data,
            )
        updated = await store.get(tx, company_id=principal.company_id, key=signature.id)
    assert updated is not None
    return updated


async def do_delete_signature(
    db: Database, *, principal: Principal, signature: store.Signature
) -> None:
    """Delete a signature."""
    async with db.transaction() as tx:
        await crud.delete(tx, signatures_table, company_id=principal.company_id, key=signature.id)
        await log.append(
            tx,
            company_id=principal.company_id,
            type="signature_deleted",
            source=log.source_of(principal),
            target_type="signature",
            target_id=signature.id,
            data={"name": signature.name},
        )
