"""Accounts: the organisations contacts belong to, named by ``acc_…``, ``alt:domain:<domain>``
or ``alt:ext_id:<external id>``.

Accounts are company-wide: every token that reaches company resources (shared, provisioning or
a team) sees them; creating and deleting one needs a shared token (403), as for company tags.
Domains (lower-cased) and external ids are unique per company: one another account holds is a
409 naming it. A PATCH's ``domains`` and ``custom_fields`` replace the whole set. A contact is in
at most one account: adding it to one moves it there; deleting an account leaves its contacts
without one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from porch import ids
from porch.domain import custom_fields, refs
from porch.domain.errors import BadRequest, Conflict, Forbidden, not_found
from porch.domain.principal import Principal
from porch.events import log
from porch.store import accounts as store
from porch.store import contacts as contacts_store
from porch.store import crud
from porch.store.accounts import Account
from porch.store.contacts import Contact
from porch.store.db import Connection, Database, Reader
from porch.store.sorted_pages import Window
from porch.store.tables import accounts
from porch.timeutil import now_ms

MAX_DOMAINS = 100
_NOT_IN_DOMAIN = set(" \t\r\n/\\@:?#,;")


@dataclass(frozen=True, slots=True)
class AccountView:
    account: Account
    domains: list[str]


def _reaches_company(principal: Principal) -> bool:
    return bool(principal.visibility()["company"])


def canonical_domain(value: str) -> str:
    return value.strip().lower().rstrip(".")


def check_domain(value: str) -> str:
    """A domain as stored: trimmed and lower-cased; BadRequest if it cannot be a domain."""
    domain = canonical_domain(value)
    labels = domain.split(".")
    if (
        not 3 <= len(domain) <= 253
        or len(labels) < 2
        or any(not label for label in labels)
        or any(ch in _NOT_IN_DOMAIN for ch in domain)
    ):
        raise BadRequest(f"{value!r} is not a domain", details=[f"domains: {value}"])
    return domain


async def access_account(conn: Reader, *, principal: Principal, ref: str) -> Account:
    """The account ``ref`` names (``acc_…``, ``alt:domain:…``, ``alt:ext_id:…``); NotFound
    otherwise."""
    key = ids.decode(ids.ACCOUNT, ref)
    company_id = principal.company_id
    if key is None and (domain := refs.alias(ref, "domain")) is not None:
        key = await store.key_by_domain(conn, company_id=company_id, value=canonical_domain(domain))
    elif key is None and (external := refs.alias(ref, "ext_id")) is not None:
        key = await store.key_by_external_id(conn, company_id=company_id, value=external)
    account = None
    if key is not None and _reaches_company(principal):
        account = await store.get(conn, company_id=company_id, key=key)
    if account is None:
        raise not_found("account", ref)
    return account


async def views(conn: Reader, *, principal: Principal, rows: list[Account]) -> list[AccountView]:
    if not rows:
        return []
    domains = await store.domains_of(
        conn, company_id=principal.company_id, keys=[a.id for a in rows]
    )
    return [AccountView(a, domains.get(a.id, [])) for a in rows]


async def list_accounts(
    db: Database, *, principal: Principal, window: Window, limit: int
) -> tuple[list[AccountView], Account | None]:
    """A page of the company's accounts, and the last one shown if there may be more."""
    if not _reaches_company(principal):
        return [], None
    rows = await store.page(db, company_id=principal.company_id, window=window, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return await views(db, principal=principal, rows=rows), (rows[-1] if more and rows else None)


def _check_name(name: str) -> str:
    if not name.strip():
        raise BadRequest("An account name cannot be blank")
    return name


def _check_domains(domains: list[str]) -> list[str]:
    cleaned = list(dict.fromkeys(check_domain(d) for d in domains))
    if len(cleaned) > MAX_DOMAINS:
        raise BadRequest(f"An account has at most {MAX_DOMAINS} domains")
    return cleaned


async def _custom_fields(conn: Reader, principal: Principal, values: Any) -> str:
    checked = await custom_fields.check_values(
        conn, principal=principal, object_type="account", values=values or {}
    )
    return orjson.dumps(checked).decode()


async def _add_domains(
    tx: Connection, *, principal: Principal, key: int, domains: list[str]
) -> None:
    for domain in domains:
        if not await store.add_domain(
            tx, company_id=principal.company_id, account_id=key, domain=domain
        ):
            holder = await store.key_by_domain(tx, company_id=principal.company_id, value=domain)
            if holder == key:
                continue
            aid = ids.encode(ids.ACCOUNT, holder) if holder else "another account"
            raise Conflict(
                f"The domain {domain} already belongs to account {aid}",
                details=[f"account_id: {aid}"],
            )


async def do_create_account(
    db: Database,
    *,
    principal: Principal,
    name: str,
    description: str | None = None,
    domains: list[str] | None = None,
    external_id: str | None = None,
    custom_fields: dict[str, Any] | None = None,
) -> AccountView:
    """Create an account (409 if another holds one of its domains or its external id)."""
    principal.require_shared()
    name = _check_name(name)
    cleaned = _check_domains(domains or [])
    if external_id is not None and not external_id.strip():
        raise BadRequest("external_id cannot be blank")
    values_json = await _custom_fields(db, principal, custom_fields) if custom_fields else "{}"
    now = now_ms()
    async with db.transaction() as tx:
        if external_id is not None:
            holder = await store.key_by_external_id(
                tx, company_id=principal.company_id, value=external_id
            )
            if holder is not None:
                aid = ids.encode(ids.ACCOUNT, holder)
                raise Conflict(
                    f"The external_id {external_id!r} already belongs to account {aid}",
                    details=[f"account_id: {aid}"],
                )
        row = await crud.insert_row(
            tx,
            accounts,
            company_id=principal.company_id,
            name=name,
            description=description,
            logo_url=None,
            external_id=external_id,
            custom_fields=values_json,
            created_at=now,
            updated_at=now,
        )
        await _add_domains(tx, principal=principal, key=row[0], domains=cleaned)
        await log.append(
            tx,
            company_id=principal.company_id,
            type="account_created",
            source=log.source_of(principal),
            target_type="account",
            target_id=row[0],
            data={"name": name, "domains": cleaned, "external_id": external_id},
        )
    return AccountView(Account(*row), cleaned)


async def do_update_account(
    db: Database, *, principal: Principal, account: Account, changes: dict[str, Any]
) -> AccountView:
    """Apply a PATCH (only the fields sent); ``domains`` and ``custom_fields`` replace the set."""
    values: dict[str, Any] = {}
    if changes.get("name") is not None:
        values["name"] = _check_name(changes["name"])
    if "description" in changes:
        values["description"] = changes["description"]
    if "custom_fields" in changes:
        values["custom_fields"] = await _custom_fields(db, principal, changes["custom_fields"])
    domains = _check_domains(changes["domains"] or []) if "domains" in changes else None
    async with db.transaction() as tx:
        if values or domains is not None:
            if domains is not None:
                await store.delete_domains(tx, company_id=account.company_id, key=account.id)
                await _add_domains(tx, principal=principal, key=account.id, domains=domains)
            values["updated_at"] = now_ms()
            await crud.update(tx, accounts, company_id=account.company_id, key=account.id, **values)
            logged = {k: v for k, v in values.items() if k not in ("updated_at", "custom_fields")}
            if "custom_fields" in values:
                logged["custom_fields"] = orjson.loads(values["custom_fields"])
            if domains is not None:
                logged["domains"] = domains
            await log.append(
                tx,
                company_id=account.company_id,
                type="account_updated",
                source=log.source_of(principal),
                target_type="account",
                target_id=account.id,
                data=logged,
            )
        updated = await store.get(tx, company_id=account.company_id, key=account.id)
        assert updated is not None
        [view] = await views(tx, principal=principal, rows=[updated])
    return view


async def do_delete_account(db: Database, *, principal: Principal, account: Account) -> None:
    """Delete an account; its contacts stay, in no account."""
    if not principal.shared:
        raise Forbidden("Only a token with shared access can delete accounts")
    async with db.transaction() as tx:
        await contacts_store.clear_account(tx, company_id=account.company_id, account_id=account.id)
        await store.delete_domains(tx, company_id=account.company_id, key=account.id)
        await crud.delete(tx, accounts, company_id=account.company_id, key=account.id)
        await log.append(
            tx,
            company_id=account.company_id,
            type="account_deleted",
            source=log.source_of(principal),
            target_type="account",
            target_id=account.id,
            data={"name": account.name},
        )


async def do_add_contacts(
    db: Database, *, principal: Principal, account: Account, contacts: list[Contact]
) -> None:
    """Put contacts in the account (moving them from another account)."""
    keys = [c.id for c in contacts if c.account_id != account.id]
    if not keys:
        return
    async with db.transaction() as tx:
        await contacts_store.set_account(
            tx, company_id=account.company_id, keys=keys, account_id=account.id
        )
        await log.append(
            tx,
            company_id=account.company_id,
            type="account_contacts_added",
            source=log.source_of(principal),
            target_type="account",
            target_id=account.id,
            data={"contact_ids": [ids.encode(ids.CONTACT, k) for k in keys]},
        )


async def do_remove_contacts(
    db: Database, *, principal: Principal, account: Account, contacts: list[Contact]
) -> None:
    """Take contacts out of the account (those not in it are left as they are)."""
    keys = [c.id for c in contacts if c.account_id == account.id]
    if not keys:
        return
    async with db.transaction() as tx:
        await contacts_store.unset_account(
            tx, company_id=account.company_id, keys=keys, account_id=account.id
        )
        await log.append(
            tx,
            company_id=account.company_id,
            type="account_contacts_removed",
            source=log.source_of(principal),
            target_type="account",
            target_id=account.id,
            data={"contact_ids": [ids.encode(ids.CONTACT, k) for k in keys]},
        )
