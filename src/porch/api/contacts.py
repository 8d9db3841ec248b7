"""Contacts (Front tags "Contacts", "Contact Handles" and "Contact Notes"): company, team and
teammate contacts, their handles and notes, merging, and a contact's conversations.

Contact lists are ``contacts:read`` collections sorted by ``sort_by`` (``created_at`` or
``updated_at``; creation order by default), ``sort_order``, and filtered by
``q[updated_after]`` / ``q[updated_before]`` (epoch seconds, exclusive), keyset-paged.
"""

from __future__ import annotations

import re
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Annotated, Any, Literal

import orjson
from pydantic import Field

from porch import ids
from porch.api.conversations import conversation_page
from porch.api.http import Request, Response, json_response, no_content
from porch.api.models import Body, CustomFields, Name, Ref, ShortText, Text
from porch.api.pagination import collection, read_page
from porch.api.routing import Routes
from porch.api.shapes import owner_link, teammate_json
from porch.domain import contact_lists as lists_domain
from porch.domain import contacts as domain
from porch.domain.contact_merge import do_merge_contacts
from porch.domain.contacts import ContactView, NoteView, access_contact
from porch.domain.errors import BadRequest
from porch.domain.teammates import access_teammate, private_owner
from porch.domain.teams import access_team
from porch.store.contact_lists import ContactList
from porch.store.contacts import Contact
from porch.store.sorted_pages import Window

routes = Routes()

READ = "contacts:read"
WRITE = "contacts:write"

Source = Literal["twitter", "email", "phone", "facebook", "intercom", "front_chat", "custom"]
Url = Annotated[ShortText, Field(min_length=1)]
Names = Annotated[list[Name], Field(max_length=100)]


class ContactHandle(Body):
    handle: Ref
    source: Source


class DeleteContactHandle(ContactHandle):
    force: bool = False


class UpdateContact(Body):
    """Front's ``Contact`` schema (``avatar`` needs multipart, which Porch does not take)."""

    name: Name | None = None
    description: Text | None = None
    links: Annotated[list[Url], Field(max_length=100)] | None = None
    group_names: Names | None = None
    list_names: Names | None = None
    custom_fields: CustomFields | None = None


class CreateContact(UpdateContact):
    handles: Annotated[list[ContactHandle], Field(min_length=1, max_length=100)]


class MergeContacts(Body):
    target_contact_id: Ref | None = None
    contact_ids: Annotated[list[Ref], Field(max_length=50)]


class CreateContactNote(Body):
    author_id: Ref
    body: Text


# --- Shapes -----------------------------------------------------------------------------------


def contact_list_json(req: Request, lst: ContactList) -> dict[str, Any]:
    """Front's ContactListResponses (a contact group is the same object)."""
    gid = ids.encode(ids.CONTACT_LIST, lst.id)
    self_link = f"{req.base_url}/contact_lists/{gid}"
    related = {"contacts": self_link + "/contacts"}
    owner = owner_link(req, lst.team_id, lst.owner_teammate_id)
    if owner is not None:
        related["owner"] = owner
    return {
        "_links": {"self": self_link, "related": related},
        "id": gid,
        "name": lst.name,
        "is_private": lst.owner_teammate_id is not None,
    }


def contact_json(req: Request, view: ContactView) -> dict[str, Any]:
    """Front's ContactResponse. The spec types ``name``, ``description``, ``avatar_url`` and
    the owner link as non-nullable strings: they are left out when there is none."""
    c = view.contact
    cid = ids.encode(ids.CONTACT, c.id)
    self_link = f"{req.base_url}/contacts/{cid}"
    related = {"notes": self_link + "/notes", "conversations": self_link + "/conversations"}
    owner = owner_link(req, c.team_id, c.owner_teammate_id)
    if owner is not None:
        related["owner"] = owner
    out: dict[str, Any] = {"_links": {"self": self_link, "related": related}, "id": cid}
    if c.name is not None:
        out["name"] = c.name
    if c.description is not None:
        out["description"] = c.description
    lists = [contact_list_json(req, lst) for lst in view.lists]
    out["links"] = orjson.loads(c.links)
    out["groups"] = lists
    out["lists"] = lists
    out["handles"] = [{"handle": handle, "source": source} for source, handle in view.handles]
    out["custom_fields"] = orjson.loads(c.custom_fields)
    out["is_private"] = c.owner_teammate_id is not None
    return out


def note_json(req: Request, view: NoteView) -> dict[str, Any]:
    """Front's ContactNoteResponses; ``is_private`` is the contact's (the spec requires it)."""
    note, contact = view.note, view.contact
    assert view.author is not None, "a note's author is a teammate of the company"
    return {
        "_links": {
            "related": {
                "author": f"{req.base_url}/teammates/{ids.encode(ids.TEAMMATE, note.author_id)}",
                "owner": owner_link(req, contact.team_id, contact.owner_teammate_id),
            }
        },
        "author": teammate_json(req, view.author),
        "body": note.body,
        "created_at": note.created_at / 1000,
        "is_private": contact.owner_teammate_id is not None,
    }


# --- Collections ------------------------------------------------------------------------------

_SECONDS = re.compile(r"\d{1,12}(?:\.\d{1,24})?")


def _bound(req: Request, name: str, *, upper: bool) -> int | None:
    """``q[updated_after]`` / ``q[updated_before]`` in milliseconds. Front documents up to three
    decimals; more are accepted (clients send ``time.time()``) and compared exactly: the bound
    is rounded away from the rows it excludes."""
    raw = req.query_one(name)
    if raw is None:
        return None
    if not _SECONDS.fullmatch(raw):
        raise BadRequest(f"{name} must be epoch seconds")
    ms = Decimal(raw) * 1000
    return int(ms.to_integral_value(rounding=ROUND_CEILING if upper else ROUND_FLOOR))


def read_window(req: Request, *, sortable: bool = True) -> tuple[Window, int]:
    """The sorted keyset window and page size a contact or account list asks for."""
    page = read_page(req, key_width=2, sort_fields=("created_at", "updated_at") if sortable else ())
    after = None
    if page.after is not None:
        value, key = page.after
        if not isinstance(value, int) or not isinstance(key, int):
            raise BadRequest("Invalid page_token")
        after = (value, key)
    window = Window(
        sort=page.sort_by or "id",
        descending=page.descending,
        after=after,
        updated_after=_bound(req, "q[updated_after]", upper=False),
        updated_before=_bound(req, "q[updated_before]", upper=True),
    )
    return window, page.limit


async def contact_page(
    req: Request, scope: str, owner: int | None, *, sortable: bool = True
) -> Response:
    """A page of the visible contacts of ``scope`` (all, a team's, a teammate's, a list's, an
    account's)."""
    window, limit = read_window(req, sortable=sortable)
    views, last = await domain.list_contacts(
        req.db, principal=req.principal, scope=scope, owner=owner, window=window, limit=limit
    )
    nxt = [getattr(last, window.sort), last.id] if last is not None else None
    return collection(req, [contact_json(req, v) for v in views], nxt)


async def _create(req: Request, owner: lists_domain.Owner) -> Response:
    body = await req.parse(CreateContact)
    view = await domain.do_create_contact(
        req.db,
        principal=req.principal,
        owner=owner,
        handles=[(h.source, h.handle) for h in body.handles],
        name=body.name,
        description=body.description,
        links=body.links,
        list_names=body.list_names if body.list_names is not None else body.group_names,
        custom_fields=body.custom_fields,
    )
    return json_response(contact_json(req, view), 201)


async def _contact(req: Request) -> Contact:
    return await access_contact(req.db, principal=req.principal, ref=req.path_params["contact_id"])


# --- Contacts ---------------------------------------------------------------------------------


@routes.get("/contacts", "list-contacts", scope=READ)
async def list_contacts(req: Request) -> Response:
    """List every contact the token sees."""
    return await contact_page(req, "all", None)


@routes.post("/contacts", "create-contact", scope=WRITE, status=201, body=CreateContact)
async def create_contact(req: Request) -> Response:
    """Create a company contact."""
    return await _create(req, domain.company_owner(req.principal))


@routes.post("/contacts/merge", "merge-contacts", scope=WRITE, body=MergeContacts)
async def merge_contacts(req: Request) -> Response:
    """Merge contacts into one (the target, or the first listed) and return it."""
    body = await req.parse(MergeContacts)
    view = await do_merge_contacts(
        req.db, principal=req.principal, target_ref=body.target_contact_id, refs_=body.contact_ids
    )
    return json_response(contact_json(req, view))


@routes.get("/contacts/{contact_id}", "get-contact", scope=READ)
async def get_contact(req: Request) -> Response:
    """Fetch a contact by id or alias."""
    contact = await _contact(req)
    [view] = await domain.views(req.db, principal=req.principal, contacts=[contact])
    return json_response(contact_json(req, view))


@routes.patch(
    "/contacts/{contact_id}", "update-a-contact", scope=WRITE, status=204, body=UpdateContact
)
async def update_a_contact(req: Request) -> Response:
    """Update a contact; only the fields sent change."""
    contact = await _contact(req)
    body = await req.parse(UpdateContact)
    await domain.do_update_contact(
        req.db, principal=req.principal, contact=contact, changes=body.sent()
    )
    return no_content()


@routes.delete("/contacts/{contact_id}", "delete-a-contact", scope="contacts:delete", status=204)
async def delete_a_contact(req: Request) -> Response:
    """Delete a contact (its conversations stay)."""
    contact = await _contact(req)
    await domain.do_delete_contact(req.db, principal=req.principal, contact=contact)
    return no_content()


@routes.get(
    "/contacts/{contact_id}/conversations",
    "list-contact-conversations",
    scope="conversations:read",
)
async def list_contact_conversations(req: Request) -> Response:
    """List the conversations in which the contact sent or received a message (those the
    token sees), most recent activity first."""
    contact = await _contact(req)
    return await conversation_page(req, "contact", contact.id)


# --- Handles ----------------------------------------------------------------------------------


@routes.post(
    "/contacts/{contact_id}/handles",
    "add-contact-handle",
    scope=WRITE,
    status=204,
    body=ContactHandle,
)
async def add_contact_handle(req: Request) -> Response:
    """Add a handle to a contact (409 naming the contact that holds it already)."""
    contact = await _contact(req)
    body = await req.parse(ContactHandle)
    await domain.do_add_handle(
        req.db, principal=req.principal, contact=contact, source=body.source, handle=body.handle
    )
    return no_content()


@routes.delete(
    "/contacts/{contact_id}/handles",
    "delete-contact-handle",
    scope=WRITE,
    status=204,
    body=DeleteContactHandle,
)
async def delete_contact_handle(req: Request) -> Response:
    """Remove a handle; the last one only with ``force``, which deletes the contact."""
    contact = await _contact(req)
    body = await req.parse(DeleteContactHandle)
    await domain.do_delete_handle(
        req.db,
        principal=req.principal,
        contact=contact,
        source=body.source,
        handle=body.handle,
        force=body.force,
    )
    return no_content()


# --- Notes ------------------------------------------------------------------------------------


@routes.get("/contacts/{contact_id}/notes", "list-notes", scope=READ, status=202)
async def list_notes(req: Request) -> Response:
    """List a contact's notes, newest first (Front documents this answer as a 202)."""
    contact = await _contact(req)
    notes = await domain.list_notes(req.db, principal=req.principal, contact=contact)
    response = collection(req, [note_json(req, n) for n in notes])
    response.status = 202
    return response


@routes.post(
    "/contacts/{contact_id}/notes", "add-note", scope=WRITE, status=201, body=CreateContactNote
)
async def add_note(req: Request) -> Response:
    """Write a note on a contact."""
    contact = await _contact(req)
    body = await req.parse(CreateContactNote)
    view = await domain.do_add_note(
        req.db, principal=req.principal, contact=contact, author_ref=body.author_id, body=body.body
    )
    return json_response(note_json(req, view), 201)


# --- Team and teammate contacts -----------------------------------------------------------------


@routes.get("/teams/{team_id}/contacts", "list-team-contacts", scope=READ)
async def list_team_contacts(req: Request) -> Response:
    """List a team's contacts."""
    team = await access_team(req.db, principal=req.principal, ref=req.path_params["team_id"])
    return await contact_page(req, "team", team.id)


@routes.post(
    "/teams/{team_id}/contacts", "create-team-contact", scope=WRITE, status=201, body=CreateContact
)
async def create_team_contact(req: Request) -> Response:
    """Create a contact owned by a team."""
    owner = await lists_domain.team_owner(
        req.db, principal=req.principal, team_ref=req.path_params["team_id"]
    )
    return await _create(req, owner)


@routes.get("/teammates/{teammate_id}/contacts", "list-teammate-contacts", scope=READ)
async def list_teammate_contacts(req: Request) -> Response:
    """List a teammate's private contacts."""
    teammate = await access_teammate(
        req.db, principal=req.principal, ref=req.path_params["teammate_id"]
    )
    private_owner(req.principal, teammate)
    return await contact_page(req, "teammate", teammate.id)


@routes.post(
    "/teammates/{teammate_id}/contacts",
    "create-teammate-contact",
    scope=WRITE,
    status=201,
    body=CreateContact,
)
async def create_teammate_contact(req: Request) -> Response:
    """Create a private contact of a teammate."""
    owner = await lists_domain.teammate_owner(
        req.db, principal=req.principal, teammate_ref=req.path_params["teammate_id"]
    )
    return await _create(req, owner)
