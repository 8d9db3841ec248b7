"""Accounts (Front tag "Accounts"): accounts, their domains and external ids, and their
contacts. Lists are keyset-paged, sorted and filtered as contact lists are."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from pydantic import Field

from porch import ids
from porch.api.contacts import contact_page, read_window
from porch.api.http import Request, Response, json_response, no_content
from porch.api.models import Body, CustomFields, Name, Ref, Refs, ShortText, Text
from porch.api.pagination import collection
from porch.api.routing import Routes
from porch.domain import accounts as domain
from porch.domain.accounts import AccountView
from porch.domain.contacts import access_contacts
from porch.store.accounts import Account

routes = Routes()

Domains = Annotated[list[Annotated[ShortText, Field(max_length=253)]], Field(max_length=100)]


class UpdateAccount(Body):
    name: Name | None = None
    description: Text | None = None
    domains: Domains | None = None
    custom_fields: CustomFields | None = None


class CreateAccount(UpdateAccount):
    name: Name
    external_id: Ref | None = None


class ContactIds(Body):
    contact_ids: Refs


def account_json(req: Request, view: AccountView) -> dict[str, Any]:
    """Front's AccountResponse (``logo_url`` is null: Porch stores no logos)."""
    a = view.account
    aid = ids.encode(ids.ACCOUNT, a.id)
    self_link = f"{req.base_url}/accounts/{aid}"
    return {
        "_links": {"self": self_link, "related": {"contacts": self_link + "/contacts"}},
        "id": aid,
        "name": a.name,
        "logo_url": a.logo_url,
        "description": a.description,
        "domains": view.domains,
        "external_id": a.external_id,
        "custom_fields": orjson.loads(a.custom_fields),
        "created_at": a.created_at / 1000,
        "updated_at": a.updated_at / 1000,
    }


async def _account(req: Request) -> Account:
    return await domain.access_account(
        req.db, principal=req.principal, ref=req.path_params["account_id"]
    )


@routes.get("/accounts", "list-accounts", scope="accounts:read")
async def list_accounts(req: Request) -> Response:
    """List the company's accounts."""
    window, limit = read_window(req)
    views, last = await domain.list_accounts(
        req.db, principal=req.principal, window=window, limit=limit
    )
    nxt = [getattr(last, window.sort), last.id] if last is not None else None
    return collection(req, [account_json(req, v) for v in views], nxt)


@routes.post("/accounts", "create-account", scope="accounts:write", status=201, body=CreateAccount)
async def create_account(req: Request) -> Response:
    """Create an account."""
    body = await req.parse(CreateAccount)
    view = await domain.do_create_account(
        req.db,
        principal=req.principal,
        name=body.name,
        description=body.description,
        domains=body.domains,
        external_id=body.external_id,
        custom_fields=body.custom_fields,
    )
    return json_response(account_json(req, view), 201)


@routes.get("/accounts/{account_id}", "fetch-an-account", scope="accounts:read")
async def fetch_an_account(req: Request) -> Response:
    """Fetch an account by id, domain or external id."""
    account = await _account(req)
    [view] = await domain.views(req.db, principal=req.principal, rows=[account])
    return json_response(account_json(req, view))


@routes.patch(
    "/accounts/{account_id}", "update-account", scope="accounts:write", body=UpdateAccount
)
async def update_account(req: Request) -> Response:
    """Update an account (only the fields sent) and return it."""
    account = await _account(req)
    body = await req.parse(UpdateAccount)
    view = await domain.do_update_account(
        req.db, principal=req.principal, account=account, changes=body.sent()
    )
    return json_response(account_json(req, view))


@routes.delete("/accounts/{account_id}", "delete-an-account", scope="accounts:delete", status=204)
async def delete_an_account(req: Request) -> Response:
    """Delete an account (its contacts stay, in no account)."""
    account = await _account(req)
    await domain.do_delete_account(req.db, principal=req.principal, account=account)
    return no_content()


@routes.get("/accounts/{account_id}/contacts", "list-account-contacts", scope="contacts:read")
async def list_account_contacts(req: Request) -> Response:
    """List the contacts of an account (those the token sees)."""
    account = await _account(req)
    return await contact_page(req, "account", account.id)


@routes.post(
    "/accounts/{account_id}/contacts",
    "add-contact-to-account",
    scope="accounts:write",
    status=204,
    body=ContactIds,
)
async def add_contact_to_account(req: Request) -> Response:
    """Put contacts in an account (moving them from any other)."""
    account = await _account(req)
    body = await req.parse(ContactIds)
    contacts = await access_contacts(req.db, principal=req.principal, refs_=body.contact_ids)
    await domain.do_add_contacts(
        req.db, principal=req.principal, account=account, contacts=contacts
    )
    return no_content()


@routes.delete(
    "/accounts/{account_id}/contacts",
    "remove-contact-from-account",
    scope="accounts:write",
    status=204,
    body=ContactIds,
)
async def remove_contact_from_account(req: Request) -> Response:
    """Take contacts out of an account."""
    account = await _account(req)
    body = await req.parse(ContactIds)
    contacts = await access_contacts(req.db, principal=req.principal, refs_=body.contact_ids)
    await domain.do_remove_contacts(
        req.db, principal=req.principal, account=account, contacts=contacts
    )
    return no_content()
