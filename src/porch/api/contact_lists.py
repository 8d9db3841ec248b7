"""Contact Lists and Contact Groups (Front tags "Contact Lists" and "Contact Groups"): the same
lists under Front's current and deprecated routes. Lists are not paged (every list the token
sees is in ``_results``); a list's contacts are, by contact id.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from porch.api.contacts import contact_list_json, contact_page
from porch.api.http import Request, Response, no_content
from porch.api.models import Body, Name, Ref, Refs
from porch.api.pagination import collection
from porch.api.routing import Routes
from porch.domain import contact_lists as domain
from porch.domain.contacts import access_contacts
from porch.domain.teammates import access_teammate, private_owner
from porch.domain.teams import access_team
from porch.store.contact_lists import ContactList

routes = Routes()

READ = "contacts:read"
WRITE = "contacts:write"


class CreateContactList(Body):
    name: Name


class AddContactsToList(Body):
    contact_ids: Refs


class RemoveContactsFromList(Body):
    contact_ids: Annotated[list[Ref], Field(max_length=50)]


async def _lists(req: Request, scope: str, owner: int | None) -> Response:
    rows = await domain.list_lists(req.db, principal=req.principal, scope=scope, owner=owner)
    return collection(req, [contact_list_json(req, lst) for lst in rows])


async def _create(req: Request, owner: domain.Owner) -> Response:
    body = await req.parse(CreateContactList)
    await domain.do_create_list(req.db, principal=req.principal, owner=owner, name=body.name)
    return no_content()


async def _access(req: Request, param: str) -> ContactList:
    return await domain.access_list(req.db, principal=req.principal, ref=req.path_params[param])


async def _delete(req: Request, param: str) -> Response:
    lst = await _access(req, param)
    await domain.do_delete_list(req.db, principal=req.principal, lst=lst)
    return no_content()


async def _members(req: Request, param: str) -> Response:
    lst = await _access(req, param)
    return await contact_page(req, "list", lst.id, sortable=False)


async def _add(req: Request, param: str) -> Response:
    lst = await _access(req, param)
    body = await req.parse(AddContactsToList)
    contacts = await access_contacts(req.db, principal=req.principal, refs_=body.contact_ids)
    await domain.do_add_contacts(req.db, principal=req.principal, lst=lst, contacts=contacts)
    return no_content()


async def _remove(req: Request, param: str) -> Response:
    lst = await _access(req, param)
    body = await req.parse(RemoveContactsFromList)
    contacts = await access_contacts(req.db, principal=req.principal, refs_=body.contact_ids)
    await domain.do_remove_contacts(req.db, principal=req.principal, lst=lst, contacts=contacts)
    return no_content()


async def _team(req: Request) -> int:
    team = await access_team(req.db, principal=req.principal, ref=req.path_params["team_id"])
    return team.id


async def _teammate(req: Request) -> int:
    teammate = await access_teammate(
        req.db, principal=req.principal, ref=req.path_params["teammate_id"]
    )
    private_owner(req.principal, teammate)
    return teammate.id


async def _team_owner(req: Request, team_ref: str | None) -> domain.Owner:
    return await domain.team_owner(req.db, principal=req.principal, team_ref=team_ref)


async def _teammate_owner(req: Request) -> domain.Owner:
    return await domain.teammate_owner(
        req.db, principal=req.principal, teammate_ref=req.path_params["teammate_id"]
    )


# --- Contact lists ----------------------------------------------------------------------------

LIST = "contact_list_id"


@routes.get("/contact_lists", "list-contact-lists", scope=READ)
async def list_contact_lists(req: Request) -> Response:
    """List every contact list the token sees."""
    return await _lists(req, "all", None)


@routes.post(
    "/contact_lists", "create-contact-list", scope=WRITE, status=204, body=CreateContactList
)
async def create_contact_list(req: Request) -> Response:
    """Create a contact list in the oldest team the token reaches."""
    return await _create(req, await _team_owner(req, None))


@routes.delete(
    "/contact_lists/{contact_list_id}",
    "delete-contact-list",
    scope="contacts:delete",
    status=204,
)
async def delete_contact_list(req: Request) -> Response:
    """Delete a contact list (its contacts stay)."""
    return await _delete(req, LIST)


@routes.get(
    "/contact_lists/{contact_list_id}/contacts", "list-contacts-in-contact-list", scope=READ
)
async def list_contacts_in_contact_list(req: Request) -> Response:
    """List the contacts of a contact list."""
    return await _members(req, LIST)


@routes.post(
    "/contact_lists/{contact_list_id}/contacts",
    "add-contacts-to-contact-list",
    scope=WRITE,
    status=204,
    body=AddContactsToList,
)
async def add_contacts_to_contact_list(req: Request) -> Response:
    """Add contacts (ids or aliases) to a contact list."""
    return await _add(req, LIST)


@routes.delete(
    "/contact_lists/{contact_list_id}/contacts",
    "remove-contacts-from-contact-list",
    scope=WRITE,
    status=204,
    body=RemoveContactsFromList,
)
async def remove_contacts_from_contact_list(req: Request) -> Response:
    """Remove contacts (ids or aliases) from a contact list."""
    return await _remove(req, LIST)


@routes.get("/teams/{team_id}/contact_lists", "list-team-contact-lists", scope=READ)
async def list_team_contact_lists(req: Request) -> Response:
    """List a team's contact lists."""
    return await _lists(req, "team", await _team(req))


@routes.post(
    "/teams/{team_id}/contact_lists",
    "create-team-contact-list",
    scope=WRITE,
    status=204,
    body=CreateContactList,
)
async def create_team_contact_list(req: Request) -> Response:
    """Create a contact list owned by a team."""
    return await _create(req, await _team_owner(req, req.path_params["team_id"]))


@routes.get("/teammates/{teammate_id}/contact_lists", "list-teammate-contact-lists", scope=READ)
async def list_teammate_contact_lists(req: Request) -> Response:
    """List a teammate's private contact lists."""
    return await _lists(req, "teammate", await _teammate(req))


@routes.post(
    "/teammates/{teammate_id}/contact_lists",
    "create-teammate-contact-list",
    scope=WRITE,
    status=204,
    body=CreateContactList,
)
async def create_teammate_contact_list(req: Request) -> Response:
    """Create a private contact list of a teammate."""
    return await _create(req, await _teammate_owner(req))


# --- Contact groups (deprecated aliases of contact lists) --------------------------------------

GROUP = "contact_group_id"


@routes.get("/contact_groups", "list-groups", scope=READ)
async def list_groups(req: Request) -> Response:
    """List every contact group (list) the token sees."""
    return await _lists(req, "all", None)


@routes.post("/contact_groups", "create-group", scope=WRITE, status=204, body=CreateContactList)
async def create_group(req: Request) -> Response:
    """Create a contact group (list) in the oldest team the token reaches."""
    return await _create(req, await _team_owner(req, None))


@routes.delete(
    "/contact_groups/{contact_group_id}", "delete-group", scope="contacts:delete", status=204
)
async def delete_group(req: Request) -> Response:
    """Delete a contact group (list)."""
    return await _delete(req, GROUP)


@routes.get("/contact_groups/{contact_group_id}/contacts", "list-contacts-in-group", scope=READ)
async def list_contacts_in_group(req: Request) -> Response:
    """List the contacts of a contact group (list)."""
    return await _members(req, GROUP)


@routes.post(
    "/contact_groups/{contact_group_id}/contacts",
    "add-contacts-to-group",
    scope=WRITE,
    status=204,
    body=AddContactsToList,
)
async def add_contacts_to_group(req: Request) -> Response:
    """Add contacts to a contact group (list)."""
    return await _add(req, GROUP)


@routes.delete(
    "/contact_groups/{contact_group_id}/contacts",
    "remove-contacts-from-group",
    scope=WRITE,
    status=204,
    body=RemoveContactsFromList,
)
async def remove_contacts_from_group(req: Request) -> Response:
    """Remove contacts from a contact group (list)."""
    return await _remove(req, GROUP)


@routes.get("/teams/{team_id}/contact_groups", "list-team-groups", scope=READ)
async def list_team_groups(req: Request) -> Response:
    """List a team's contact groups (lists)."""
    return await _lists(req, "team", await _team(req))


@routes.post(
    "/teams/{team_id}/contact_groups",
    "create-team-group",
    scope=WRITE,
    status=204,
    body=CreateContactList,
)
async def create_team_group(req: Request) -> Response:
    """Create a contact group (list) owned by a team."""
    return await _create(req, await _team_owner(req, req.path_params["team_id"]))


@routes.get("/teammates/{teammate_id}/contact_groups", "list-teammate-groups", scope=READ)
async def list_teammate_groups(req: Request) -> Response:
    """List a teammate's private contact groups (lists)."""
    return await _lists(req, "teammate", await _teammate(req))


@routes.post(
    "/teammates/{teammate_id}/contact_groups",
    "create-teammate-group",
    scope=WRITE,
    status=204,
    body=CreateContactList,
)
async def create_teammate_group(req: Request) -> Response:
    """Create a private contact group (list) of a teammate."""
    return await _create(req, await _teammate_owner(req))
