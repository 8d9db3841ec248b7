"""Front's JSON shapes for the resources several API modules show.

Each function takes the request (for absolute links) and a domain record, and returns exactly
the object Front's spec describes: its required fields, its nullable fields as null, its
``_links`` absolute URLs of this server.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from porch import ids
from porch.api.http import Request
from porch.domain.conversations import ConversationView
from porch.domain.messages import MessageView
from porch.store.attachments import Attachment
from porch.store.channels import Channel
from porch.store.comments import Comment
from porch.store.inboxes import Inbox
from porch.store.links import Link
from porch.store.rules import Rule
from porch.store.tags import Tag
from porch.store.teammates import Teammate
from porch.store.teams import Team


def owner_link(req: Request, team_id: int | None, teammate_id: int | None) -> str | None:
    if team_id is not None:
        return f"{req.base_url}/teams/{ids.encode(ids.TEAM, team_id)}"
    if teammate_id is not None:
        return f"{req.base_url}/teammates/{ids.encode(ids.TEAMMATE, teammate_id)}"
    return None


def rule_json(req: Request, rule: Rule, actions: list[str]) -> dict[str, Any]:
    """Front's RuleResponse, with ``actions`` the readable lines of the rule's actions
    (``domain.rules.describe_actions``)."""
    rid = ids.encode(ids.RULE, rule.id)
    return {
        "_links": {
            "self": f"{req.base_url}/rules/{rid}",
            "related": {"owner": owner_link(req, rule.team_id, rule.owner_teammate_id)},
        },
        "id": rid,
        "name": rule.name,
        "actions": actions,
        "is_private": rule.owner_teammate_id is not None,
    }


def tag_json(req: Request, tag: Tag) -> dict[str, Any]:
    # Lists render up to a hundred of these per request: links are built from the base URL
    # directly rather than through req.url.
    base = req.base_url
    tid = ids.encode(ids.TAG, tag.id)
    self_link = f"{base}/tags/{tid}"
    parent = tag.parent_id
    return {
        "_links": {
            "self": self_link,
            "related": {
                "conversations": self_link + "/conversations",
                "owner": owner_link(req, tag.team_id, tag.owner_teammate_id),
                "parent_tag": f"{base}/tags/{ids.encode(ids.TAG, parent)}" if parent else None,
                "children": self_link + "/children",
            },
        },
        "id": tid,
        "name": tag.name,
        "description": tag.description,
        "highlight": tag.highlight,
        "is_private": tag.owner_teammate_id is not None,
        # SQLite hands booleans back as 0/1.
        "is_visible_in_conversation_lists": bool(tag.is_visible_in_conversation_lists),
        "created_at": tag.created_at / 1000,
        "updated_at": tag.updated_at / 1000,
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


def inbox_json(req: Request, inbox: Inbox) -> dict[str, Any]:
    iid = ids.encode(ids.INBOX, inbox.id)
    return {
        "_links": {
            "self": req.url(f"/inboxes/{iid}"),
            "related": {
                "teammates": req.url(f"/inboxes/{iid}/teammates"),
                "conversations": req.url(f"/inboxes/{iid}/conversations"),
                "channels": req.url(f"/inboxes/{iid}/channels"),
                "owner": owner_link(req, inbox.team_id, inbox.owner_teammate_id),
            },
        },
        "id": iid,
        "name": inbox.name,
        "is_private": inbox.is_private,
        "is_public": inbox.is_public,
        "custom_fields": inbox.custom_fields,
    }


def channel_json(req: Request, ch: Channel) -> dict[str, Any]:
    cid = ids.encode(ids.CHANNEL, ch.id)
    settings = {
        k: v for k, v in ch.settings.items() if k in ("undo_send_time", "all_teammates_can_reply")
    }
    if ch.is_private:
        # Front omits all_teammates_can_reply for private channels.
        settings.pop("all_teammates_can_reply", None)
    body: dict[str, Any] = {
        "_links": {
            "self": req.url(f"/channels/{cid}"),
            "related": {
                "inbox": req.url(f"/inboxes/{ids.encode(ids.INBOX, ch.inbox_id)}"),
                "owner": owner_link(req, ch.team_id, ch.owner_teammate_id),
            },
        },
        "id": cid,
        "name": ch.name,
        "address": ch.address,
        "type": ch.type,
        "send_as": ch.send_as,
        "settings": settings,
        "is_private": ch.is_private,
        "is_valid": ch.is_valid,
    }
    # The spec types these as plain strings: leave them out rather than send null.
    for key in ("name", "address", "send_as"):
        if body[key] is None:
            del body[key]
    return body


def team_json(
    req: Request, team: Team, inboxes: list[Inbox], members: list[Teammate]
) -> dict[str, Any]:
    tid = ids.encode(ids.TEAM, team.id)
    return {
        "_links": {"self": req.url(f"/teams/{tid}")},
        "id": tid,
        "name": team.name,
        "inboxes": [inbox_json(req, i) for i in inboxes],
        "members": [teammate_json(req, m) for m in members],
    }


def link_json(req: Request, link: Link) -> dict[str, Any]:
    lid = ids.encode(ids.LINK, link.id)
    return {
        "_links": {"self": f"{req.base_url}/links/{lid}"},
        "id": lid,
        "name": link.name,
        "type": link.type,
        "external_url": link.external_url,
        "custom_fields": orjson.loads(link.custom_fields),
    }


def conversation_json(req: Request, view: ConversationView) -> dict[str, Any]:
    c = view.conversation
    base = req.base_url
    cid = ids.encode(ids.CONVERSATION, c.id)
    self_link = f"{base}/conversations/{cid}"
    body: dict[str, Any] = {
        "_links": {
            "self": self_link,
            "related": {
                "events": self_link + "/events",
                "followers": self_link + "/followers",
                "messages": self_link + "/messages",
                "comments": self_link + "/comments",
                "inboxes": self_link + "/inboxes",
            },
        },
        "id": cid,
        "type": c.type,
        "subject": c.subject,
        "status": c.front_status,
        "ticket_ids": [f"TICKET-{c.ticket_number}"] if c.ticket_number else [],
        "assignee": teammate_json(req, view.assignee) if view.assignee else None,
        "recipient": recipient_json(req, view.recipient) if view.recipient else None,
        "tags": [tag_json(req, t) for t in view.tags],
        "links": [link_json(req, link) for link in view.links],
        "custom_fields": c.fields,
        "created_at": c.created_at / 1000,
        "updated_at": c.updated_at / 1000,
        "is_private": bool(c.is_private),
        "scheduled_reminders": [
            {
                "_links": {
                    "related": {
                        "owner": f"{base}/teammates/{ids.encode(ids.TEAMMATE, r['teammate_id'])}"
                    }
                },
                "created_at": r["created_at"] / 1000,
                "scheduled_at": r["scheduled_at"] / 1000,
                "updated_at": r["updated_at"] / 1000,
            }
            for r in view.reminders
        ],
        "metadata": {},
    }
    if view.status is not None:
        body["status_id"] = ids.encode(ids.STATUS, view.status.id)
        body["status_category"] = view.status.category
    if c.waiting_since is not None:
        body["waiting_since"] = c.waiting_since / 1000
    if c.type == "task":
        body["description"] = c.description
        body["due_at"] = c.due_at / 1000 if c.due_at is not None else None
    return body


def comment_json(
    req: Request, comment: Comment, author: Teammate, attachments: Sequence[Attachment] = ()
) -> dict[str, Any]:
    base = req.base_url
    cid = ids.encode(ids.COMMENT, comment.id)
    self_link = f"{base}/comments/{cid}"
    reply_to = comment.reply_to_id
    return {
        "_links": {
            "self": self_link,
            "related": {
                "conversation": (
                    f"{base}/conversations/{ids.encode(ids.CONVERSATION, comment.conversation_id)}"
                ),
                "mentions": self_link + "/mentions",
                "comment_replied_to": (
                    f"{base}/comments/{ids.encode(ids.COMMENT, reply_to)}" if reply_to else None
                ),
            },
        },
        "id": cid,
        "author": teammate_json(req, author),
        "body": comment.body,
        "posted_at": comment.posted_at / 1000,
        "attachments": [attachment_json(req, a) for a in attachments],
        # SQLite hands booleans back as 0/1.
        "is_pinned": bool(comment.is_pinned),
    }


def attachment_json(req: Request, attachment: Attachment) -> dict[str, Any]:
    fid = ids.encode(ids.FILE, attachment.id)
    metadata: dict[str, Any] = {"is_inline": bool(attachment.is_inline)}
    if attachment.cid is not None:
        metadata["cid"] = attachment.cid
    return {
        "id": fid,
        "filename": attachment.filename,
        "url": f"{req.base_url}/download/{fid}",
        "content_type": attachment.content_type,
        "size": attachment.size,
        "metadata": metadata,
    }


def recipient_json(req: Request, row: Mapping[str, Any]) -> dict[str, Any]:
    """A message recipient row: its handle, name, role and the contact holding the handle."""
    contact = row["contact_id"]
    return {
        "_links": {
            "related": {
                "contact": (
                    f"{req.base_url}/contacts/{ids.encode(ids.CONTACT, contact)}"
                    if contact
                    else None
                )
            }
        },
        "name": row["name"],
        "handle": row["handle"],
        "role": row["role"],
    }


def message_json(req: Request, view: MessageView) -> dict[str, Any]:
    m = view.message
    base = req.base_url
    mid = ids.encode(ids.MESSAGE, m.id)
    self_link = f"{base}/messages/{mid}"
    meta = m.meta
    body: dict[str, Any] = {
        "_links": {
            "self": self_link,
            "related": {
                "conversation": (
                    f"{base}/conversations/{ids.encode(ids.CONVERSATION, m.conversation_id)}"
                ),
                "message_seen": self_link + "/seen",
            },
        },
        "id": mid,
        "message_uid": m.uid,
        "type": m.type,
        # SQLite hands booleans back as 0/1.
        "is_inbound": bool(m.is_inbound),
        "draft_mode": None,
        "created_at": m.created_at / 1000,
        "subject": m.subject,
        "blurb": m.blurb,
        "recipients": [recipient_json(req, r) for r in view.recipients],
        "body": m.body,
        "text": m.text,
        "attachments": [attachment_json(req, a) for a in view.attachments],
        "metadata": {k: meta[k] for k in ("thread_ref", "headers") if k in meta},
    }
    # The spec does not let author be null: inbound messages (and imports without an author)
    # leave it out.
    if view.author is not None:
        body["author"] = teammate_json(req, view.author)
    # Why sending failed (delivery_failure, bounce); the spec types it a string, so it is left
    # out while nothing failed.
    if m.error_type:
        body["error_type"] = m.error_type
    # Drafts show their mode and the version an edit or a delete must name.
    if m.is_draft:
        body["draft_mode"] = m.draft_mode
        body["version"] = m.version
    return body
