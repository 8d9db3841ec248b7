"""API objects (Front's JSON) → warehouse rows, one function per kind of object.

Rows are plain dicts keyed by column; timestamps become aware UTC datetimes, lists and objects
stay Python values (the destination writes them as JSON). Nothing here talks to the API.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from porch.sync.warehouse.schema import custom_column

Row = dict[str, Any]
JSONObj = dict[str, Any]

# Front's event types that change a conversation's status, and the status each leaves it in.
STATUS_EVENTS = {
    "archive": "archived",
    "reopen": "open",
    "trash": "deleted",
    "restore": "open",
    "assign": "assigned",
    "unassign": "unassigned",
    "ticket_status_update": None,
}
TAG_EVENTS = ("tag", "untag")
LINK_EVENTS = ("link_added", "link_removed")


def ts(value: Any) -> dt.datetime | None:
    """Front's epoch seconds (a float) as an aware UTC datetime."""
    if value is None or value == "":
        return None
    return dt.datetime.fromtimestamp(float(value), tz=dt.UTC)


def _id(obj: Any) -> str | None:
    return str(obj["id"]) if isinstance(obj, dict) and obj.get("id") is not None else None


def _related_id(obj: JSONObj, name: str) -> str | None:
    """The id at the end of ``_links.related.<name>`` (recipients name their contact so)."""
    url = ((obj.get("_links") or {}).get("related") or {}).get(name)
    return str(url).rstrip("/").rsplit("/", 1)[-1] if url else None


def customs(obj: JSONObj) -> Row:
    return {custom_column(k): v for k, v in (obj.get("custom_fields") or {}).items()}


def conversation(c: JSONObj, last_message_id: str | None) -> Row:
    recipient = c.get("recipient") or {}
    return {
        "id": c["id"],
        "subject": c.get("subject"),
        "status": c.get("status"),
        "status_category": c.get("status_category"),
        "status_id": c.get("status_id"),
        "teammate_id": _id(c.get("assignee")),
        "recipient_handle": recipient.get("handle"),
        "recipient_role": recipient.get("role"),
        "recipient_contact_id": _related_id(recipient, "contact"),
        "last_message_id": last_message_id,
        "is_private": c.get("is_private"),
        "created_at": ts(c.get("created_at")),
        "updated_at": ts(c.get("updated_at")),
        "ticket_ids": c.get("ticket_ids") or [],
        "_deleted": c.get("status") == "deleted",
        **customs(c),
    }


def conversation_children(c: JSONObj) -> dict[str, list[Row]]:
    cid = c["id"]
    return {
        "conversation_tag": [
            {"conversation_id": cid, "tag_id": t["id"]} for t in c.get("tags") or []
        ]
    }


def message(m: JSONObj, conversation_id: str) -> dict[str, list[Row]]:
    mid = m["id"]
    out: dict[str, list[Row]] = {
        "message": [
            {
                "id": mid,
                "conversation_id": conversation_id,
                "message_uid": m.get("message_uid"),
                "type": m.get("type"),
                "is_inbound": m.get("is_inbound"),
                "is_draft": m.get("is_draft") or m.get("draft_mode") is not None,
                "subject": m.get("subject"),
                "blurb": m.get("blurb"),
                "body": m.get("body"),
                "text": m.get("text"),
                "author_id": _id(m.get("author")),
                "created_at": ts(m.get("created_at")),
            }
        ],
        "message_recipient": [],
        "message_attachment": [],
    }
    seen: set[tuple[str, str]] = set()
    for r in m.get("recipients") or []:
        key = (str(r.get("handle")), str(r.get("role")))
        if key in seen:
            continue
        seen.add(key)
        out["message_recipient"].append(
            {
                "message_id": mid,
                "handle": r.get("handle"),
                "role": r.get("role"),
                "name": r.get("name"),
                "contact_id": _related_id(r, "contact"),
            }
        )
    for a in m.get("attachments") or []:
        out["message_attachment"].append(
            {
                "id": a.get("id"),
                "message_id": mid,
                "filename": a.get("filename"),
                "content_type": a.get("content_type"),
                "size": a.get("size"),
                "url": a.get("url"),
            }
        )
    return out


def comment(c: JSONObj, conversation_id: str) -> Row:
    return {
        "id": c["id"],
        "conversation_id": conversation_id,
        "author_id": _id(c.get("author")),
        "body": c.get("body"),
        "posted_at": ts(c.get("posted_at")),
    }


def contact(c: JSONObj) -> dict[str, list[Row]]:
    cid = c["id"]
    row = {
        "id": cid,
        "name": c.get("name"),
        "description": c.get("description"),
        "avatar_url": c.get("avatar_url"),
        "is_private": c.get("is_private"),
        "is_spammer": c.get("is_spammer"),
        "updated_at": ts(c.get("updated_at")),
        "lists": sorted(str(g.get("name")) for g in c.get("lists") or c.get("groups") or []),
        **customs(c),
    }
    handles = [
        {"contact_id": cid, "source": h.get("source"), "handle": h.get("handle")}
        for h in c.get("handles") or []
    ]
    return {"contact": [row], "contact_handle": handles}


def account(a: JSONObj) -> Row:
    return {
        "id": a["id"],
        "name": a.get("name"),
        "description": a.get("description"),
        "domains": a.get("domains") or [],
        "external_id": a.get("external_id"),
        "created_at": ts(a.get("created_at")),
        "updated_at": ts(a.get("updated_at")),
        **customs(a),
    }


def inbox(i: JSONObj) -> Row:
    return {
        "id": i["id"],
        "name": i.get("name"),
        "address": i.get("address"),
        "send_as": i.get("send_as"),
        "type": i.get("type"),
        "is_private": i.get("is_private"),
    }


def channel(c: JSONObj) -> Row:
    return {
        "id": c["id"],
        "name": c.get("name"),
        "address": c.get("address"),
        "send_as": c.get("send_as"),
        "type": c.get("type"),
        "is_private": c.get("is_private"),
        "is_valid": c.get("is_valid"),
    }


def tag(t: JSONObj) -> Row:
    return {
        "id": t["id"],
        "name": t.get("name"),
        "description": t.get("description"),
        "highlight": t.get("highlight"),
        "is_private": t.get("is_private"),
        "parent_tag_id": _related_id(t, "parent_tag"),
        "created_at": ts(t.get("created_at")),
        "updated_at": ts(t.get("updated_at")),
    }


def teammate(t: JSONObj) -> Row:
    cols = ("email", "username", "first_name", "last_name", "type", "is_admin", "is_available")
    return {"id": t["id"], **{k: t.get(k) for k in cols}, "is_blocked": t.get("is_blocked")}


def rule(r: JSONObj) -> Row:
    return {
        "id": r["id"],
        "name": r.get("name"),
        "is_private": r.get("is_private"),
        "actions": r.get("actions") or [],
    }


def _source(e: JSONObj) -> Row:
    source = e.get("source") or {}
    kind = (source.get("_meta") or {}).get("type")
    sid = _id(source.get("data"))
    return {
        "source_type": kind,
        "source_teammate_id": sid if kind == "teammate" else None,
        "source_rule_id": sid if kind == "rule" else None,
        "event_type": e.get("type"),
    }


def event(e: JSONObj) -> dict[str, list[Row]]:
    """The ``event`` row and the history rows an event makes (status, tag, link)."""
    source = e.get("source") or {}
    target = e.get("target") or {}
    kind = e.get("type")
    cid = _id(e.get("conversation"))
    when = ts(e.get("emitted_at"))
    out: dict[str, list[Row]] = {
        "event": [
            {
                "id": e["id"],
                "type": kind,
                "emitted_at": when,
                "conversation_id": cid,
                "source_type": (source.get("_meta") or {}).get("type"),
                "source_id": _id(source.get("data")),
                "target_type": (target.get("_meta") or {}).get("type"),
                "target_id": _id(target.get("data")),
            }
        ]
    }
    if cid is None:
        return out
    target_id = _id(target.get("data"))
    if kind in STATUS_EVENTS:
        status = STATUS_EVENTS[kind]
        if status is None or kind == "restore":
            # The status the conversation shows now says what a ticket update or a restore
            # left it in.
            status = (e.get("conversation") or {}).get("status") or status
        out["conversation_status_history"] = [
            {
                "conversation_id": cid,
                "updated_at": when,
                "status": status,
                "assignee_id": target_id if kind == "assign" else None,
                **_source(e),
            }
        ]
    elif kind in TAG_EVENTS and target_id:
        row = {"conversation_id": cid, "tag_id": target_id, "updated_at": when, **_source(e)}
        out["conversation_tag_history"] = [row]
    elif kind in LINK_EVENTS and target_id:
        row = {"conversation_id": cid, "link_id": target_id, "updated_at": when, **_source(e)}
        out["conversation_link_history"] = [row]
    return out
