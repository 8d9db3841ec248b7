"""Teammates: access by id, alias or email.

Teammates are the company's directory: every token of the company can read them. Their private
resources (private inboxes, tags, signatures) are a different matter, see ``private_owner``.
"""

from __future__ import annotations

from porch import ids
from porch.domain import refs
from porch.domain.errors import Forbidden, not_found
from porch.domain.principal import Principal
from porch.store import teammates as store
from porch.store.db import Connection


async def find_teammate(conn: Connection, *, company_id: int, ref: str) -> store.Teammate | None:
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


async def access_teammate(conn: Connection, *, principal: Principal, ref: str) -> store.Teammate:
    """The teammate ``ref`` names in the caller's company; NotFound otherwise."""
    found = await find_teammate(conn, company_id=principal.company_id, ref=ref)
    if found is None:
        raise not_found("teammate", ref)
    return found


async def access_teammates(
    conn: Connection, *, principal: Principal, refs_: list[str]
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
        raise Forbidden(
            "This teammate has not allowed API access to their private resources"
        )


def sees_private_of(principal: Principal, teammate: store.Teammate) -> bool:
    return principal.private and teammate.api_private_access
