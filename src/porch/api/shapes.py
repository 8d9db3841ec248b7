"""Front's JSON shapes for the resources several API modules show.

Each function takes the request (for absolute links) and a domain record, and returns exactly
the object Front's spec describes: its required fields, its nullable fields as null, its
``_links`` absolute URLs of this server.
"""

from __future__ import annotations

from typing import Any

from porch import ids
from porch.api.http import Request
from porch.store.tags import Tag
from porch.store.teammates import Teammate
from porch.timeutil import to_api


def owner_link(req: Request, team_id: int | None, teammate_id: int | None) -> str | None:
    if team_id is not None:
        return req.url(f"/teams/{ids.encode(ids.TEAM, team_id)}")
    if teammate_id is not None:
        return req.url(f"/teammates/{ids.encode(ids.TEAMMATE, teammate_id)}")
    return None


def tag_json(req: Request, tag: Tag) -> dict[str, Any]:
    tid = ids.encode(ids.TAG, tag.id)
    return {
        "_links": {
            "self": req.url(f"/tags/{tid}"),
            "related": {
                "conversations": req.url(f"/tags/{tid}/conversations"),
                "owner": owner_link(req, tag.team_id, tag.owner_teammate_id),
                "parent_tag": (
                    req.url(f"/tags/{ids.encode(ids.TAG, tag.parent_id)}") if tag.parent_id else None
                ),
                "children": req.url(f"/tags/{tid}/children"),
            },
        },
        "id": tid,
        "name": tag.name,
        "description": tag.description,
        "highlight": tag.highlight,
        "is_private": tag.is_private,
        "is_visible_in_conversation_lists": tag.is_visible_in_conversation_lists,
        "created_at": to_api(tag.created_at),
        "updated_at": to_api(tag.updated_at),
    }


def teammate_json(req: Request, tm: Teammate) -> dict[str, Any]:
    tid = ids.encode(ids.TEAMMATE, tm.id)
    return {
        "_links": {
            "self": req.url(f"/teammates/{tid}"),
            "related": {
                "inboxes": req.url(f"/teammates/{tid}/inboxes"),
                "conversations": req.url(f"/teammates/{tid}/conversations"),
            },
        },
        "id": tid,
        "email": tm.email,
        "username": tm.username,
        "first_name": tm.first_name,
        "last_name": tm.last_name,
        "is_admin": tm.is_admin,
        "is_available": tm.is_available,
        "is_blocked": tm.is_blocked,
        "type": tm.type,
        "license_type": tm.license_type,
        "custom_fields": tm.custom_fields,
    }
