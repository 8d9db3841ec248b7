"""Contacts (Front tag "Contacts"): so far the conversations of a contact.

The rest of the tag (contact CRUD, handles, notes) comes with the contacts issue.
"""

from __future__ import annotations

from porch.api.conversations import conversation_page
from porch.api.http import Request, Response
from porch.api.routing import Routes
from porch.domain.contacts import access_contact

routes = Routes()


@routes.get(
    "/contacts/{contact_id}/conversations",
    "list-contact-conversations",
    scope="conversations:read",
)
async def list_contact_conversations(req: Request) -> Response:
    """List the conversations in which the contact sent or received a message (those the
    token sees), most recent activity first."""
    contact = await access_contact(
        req.db, principal=req.principal, ref=req.path_params["contact_id"]
    )
    return await conversation_page(req, "contact", contact.id)
