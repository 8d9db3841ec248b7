"""Typed resources: Front's endpoints that Porch serves, one method each, written once for both
clients.

A resource is generic in what its calls give back: ``_O`` for one JSON object, ``_N`` for an
empty answer (204), ``_I`` for the items of a collection. The sync client makes them ``dict``,
``None`` and ``Iterator[dict]``; the async client ``Awaitable[dict]``, ``Awaitable[None]`` and
``AsyncIterator[dict]``. Objects are Front's JSON as plain dicts. Ids may be aliases
(``alt:email:pam@example.com``). Collections are followed across pages lazily; ``page_size`` is
Front's ``limit`` (items per page, up to 100), not a cap on the total.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Generic, Literal, Protocol, TypedDict, TypeVar

from porch.client._base import Params, compact, segment, segment_all

__all__ = [
    "UNSET",
    "Accounts",
    "Attachment",
    "Channels",
    "ContactLists",
    "Contacts",
    "Conversations",
    "Events",
    "Handle",
    "Inboxes",
    "Messages",
    "Tags",
    "Teammates",
    "Teams",
]

_O = TypeVar("_O", covariant=True)
_N = TypeVar("_N", covariant=True)
_I = TypeVar("_I", covariant=True)

HandleSource = Literal["email", "phone", "twitter", "facebook", "intercom", "front_chat", "custom"]
SortOrder = Literal["asc", "desc"]
Highlight = Literal[
    "grey", "pink", "red", "orange", "yellow", "green", "light-blue", "blue", "purple"
]
# A point in time: UNIX seconds, or a datetime (a naive one is local time, as in Python).
Timestamp = float | datetime
# A file to upload: (file name, content, content type).
Attachment = tuple[str, bytes, str]


class Handle(TypedDict):
    """A contact's handle: ``{"handle": "pam@example.com", "source": "email"}``."""

    handle: str
    source: HandleSource


class _Unset(enum.Enum):
    UNSET = "UNSET"


# "Leave as it is", for the fields where None means "clear" (a conversation's assignee, due_at).
UNSET = _Unset.UNSET


class Calls(Protocol[_O, _N, _I]):
    """What a resource needs from a client."""

    def object(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: Any = None,
        attachments: list[Attachment] | None = None,
    ) -> _O: ...

    def empty(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: Any = None,
        attachments: list[Attachment] | None = None,
    ) -> _N: ...

    def items(self, path: str, params: Params | None = None) -> _I: ...


def _seconds(value: Timestamp | None) -> float | None:
    """UNIX seconds as Front writes them: milliseconds at most."""
    if isinstance(value, datetime):
        value = value.timestamp()
    if isinstance(value, float):
        return round(value, 3)
    return value


def _owner(collection: str, *, team_id: str | None, teammate_id: str | None) -> str:
    """``/<collection>`` of the company, a team (``team_id``) or a teammate (``teammate_id``)."""
    if team_id is not None and teammate_id is not None:
        raise ValueError("give team_id or teammate_id, not both")
    if team_id is not None:
        return f"/teams/{segment(team_id)}/{collection}"
    if teammate_id is not None:
        return f"/teammates/{segment(teammate_id)}/{collection}"
    return f"/{collection}"


def _listing(
    *,
    page_size: int | None = None,
    sort_by: str | None = None,
    sort_order: SortOrder | None = None,
    **q: Any,
) -> Params:
    return {"q": q, "limit": page_size, "sort_by": sort_by, "sort_order": sort_order}


def _files(attachments: Sequence[Attachment] | None) -> list[Attachment] | None:
    return list(attachments) if attachments else None


class _Resource(Generic[_O, _N, _I]):
    def __init__(self, calls: Calls[_O, _N, _I]) -> None:
        self._calls = calls


class Contacts(_Resource[_O, _N, _I]):
    """Contacts (``crd_``; aliases ``alt:email:…``, ``alt:phone:…``, ``alt:custom:…``)."""

    def list(
        self,
        *,
        updated_after: Timestamp | None = None,
        updated_before: Timestamp | None = None,
        sort_by: Literal["created_at", "updated_at"] | None = None,
        sort_order: SortOrder | None = None,
        page_size: int | None = None,
        team_id: str | None = None,
        teammate_id: str | None = None,
    ) -> _I:
        """Every contact, optionally only those updated in a time range (or only a team's or a
        teammate's)."""
        params = _listing(
            page_size=page_size,
            sort_by=sort_by,
            sort_order=sort_order,
            updated_after=_seconds(updated_after),
            updated_before=_seconds(updated_before),
        )
        path = _owner("contacts", team_id=team_id, teammate_id=teammate_id)
        return self._calls.items(path, params)

    def get(self, contact_id: str) -> _O:
        return self._calls.object("GET", f"/contacts/{segment(contact_id)}")

    def create(
        self,
        *,
        handles: Sequence[Handle],
        name: str | None = None,
        description: str | None = None,
        links: Sequence[str] | None = None,
        list_names: Sequence[str] | None = None,
        custom_fields: Mapping[str, Any] | None = None,
        team_id: str | None = None,
        teammate_id: str | None = None,
    ) -> _O:
        """Create a contact (the company's, or a team's or a teammate's); ``list_names`` are
        created if missing."""
        body = compact(
            handles=list(handles),
            name=name,
            description=description,
            links=links,
            list_names=list_names,
            custom_fields=custom_fields,
        )
        path = _owner("contacts", team_id=team_id, teammate_id=teammate_id)
        return self._calls.object("POST", path, json=body)

    def update(
        self,
        contact_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        links: Sequence[str] | None = None,
        list_names: Sequence[str] | None = None,
        custom_fields: Mapping[str, Any] | None = None,
    ) -> _N:
        """Change the fields given; ``custom_fields`` replaces the whole map."""
        body = compact(
            name=name,
            description=description,
            links=links,
            list_names=list_names,
            custom_fields=custom_fields,
        )
        return self._calls.empty("PATCH", f"/contacts/{segment(contact_id)}", json=body)

    def delete(self, contact_id: str) -> _N:
        return self._calls.empty("DELETE", f"/contacts/{segment(contact_id)}")

    def merge(self, *, contact_ids: Sequence[str], target_contact_id: str | None = None) -> _O:
        """Merge contacts into ``target_contact_id`` (else the first); returns the survivor."""
        body = compact(contact_ids=list(contact_ids), target_contact_id=target_contact_id)
        return self._calls.object("POST", "/contacts/merge", json=body)

    def add_handle(self, contact_id: str, *, handle: str, source: HandleSource) -> _N:
        body = {"handle": handle, "source": source}
        return self._calls.empty("POST", f"/contacts/{segment(contact_id)}/handles", json=body)

    def delete_handle(
        self, contact_id: str, *, handle: str, source: HandleSource, force: bool = False
    ) -> _N:
        """Remove a handle; ``force`` deletes the contact if it was its last one."""
        body: dict[str, Any] = {"handle": handle, "source": source}
        if force:
            body["force"] = True
        return self._calls.empty("DELETE", f"/contacts/{segment(contact_id)}/handles", json=body)

    def notes(self, contact_id: str) -> _I:
        return self._calls.items(f"/contacts/{segment(contact_id)}/notes")

    def add_note(self, contact_id: str, *, body: str, author_id: str) -> _O:
        note = {"body": body, "author_id": author_id}
        return self._calls.object("POST", f"/contacts/{segment(contact_id)}/notes", json=note)

    def conversations(
        self,
        contact_id: str,
        *,
        statuses: Sequence[str] | None = None,
        page_size: int | None = None,
    ) -> _I:
        """The contact's conversations, newest activity first."""
        params = _listing(page_size=page_size, statuses=statuses)
        return self._calls.items(f"/contacts/{segment(contact_id)}/conversations", params)


class ContactLists(_Resource[_O, _N, _I]):
    """Contact lists (``grp_``) of the company, a team or a teammate."""

    def list(self, *, team_id: str | None = None, teammate_id: str | None = None) -> _I:
        path = _owner("contact_lists", team_id=team_id, teammate_id=teammate_id)
        return self._calls.items(path)

    def create(
        self, *, name: str, team_id: str | None = None, teammate_id: str | None = None
    ) -> _N:
        """Create a list: the team's, the teammate's, or without either in the oldest team the
        token reaches (Front answers 204, without the list: find it with :meth:`list`)."""
        path = _owner("contact_lists", team_id=team_id, teammate_id=teammate_id)
        return self._calls.empty("POST", path, json={"name": name})

    def delete(self, contact_list_id: str) -> _N:
        return self._calls.empty("DELETE", f"/contact_lists/{segment(contact_list_id)}")

    def contacts(self, contact_list_id: str, *, page_size: int | None = None) -> _I:
        path = f"/contact_lists/{segment(contact_list_id)}/contacts"
        return self._calls.items(path, _listing(page_size=page_size))

    def add_contacts(self, contact_list_id: str, *, contact_ids: Sequence[str]) -> _N:
        path = f"/contact_lists/{segment(contact_list_id)}/contacts"
        return self._calls.empty("POST", path, json={"contact_ids": list(contact_ids)})

    def remove_contacts(self, contact_list_id: str, *, contact_ids: Sequence[str]) -> _N:
        path = f"/contact_lists/{segment(contact_list_id)}/contacts"
        return self._calls.empty("DELETE", path, json={"contact_ids": list(contact_ids)})


class Accounts(_Resource[_O, _N, _I]):
    """Accounts (``acc_``; aliases ``alt:domain:…``, ``alt:ext_id:…``)."""

    def list(
        self,
        *,
        updated_after: Timestamp | None = None,
        updated_before: Timestamp | None = None,
        sort_by: Literal["created_at", "updated_at"] | None = None,
        sort_order: SortOrder | None = None,
        page_size: int | None = None,
    ) -> _I:
        params = _listing(
            page_size=page_size,
            sort_by=sort_by,
            sort_order=sort_order,
            updated_after=_seconds(updated_after),
            updated_before=_seconds(updated_before),
        )
        return self._calls.items("/accounts", params)

    def get(self, account_id: str) -> _O:
        return self._calls.object("GET", f"/accounts/{segment(account_id)}")

    def create(
        self,
        *,
        name: str,
        description: str | None = None,
        domains: Sequence[str] | None = None,
        external_id: str | None = None,
        custom_fields: Mapping[str, Any] | None = None,
    ) -> _O:
        body = compact(
            name=name,
            description=description,
            domains=domains,
            external_id=external_id,
            custom_fields=custom_fields,
        )
        return self._calls.object("POST", "/accounts", json=body)

    def update(
        self,
        account_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        domains: Sequence[str] | None = None,
        custom_fields: Mapping[str, Any] | None = None,
    ) -> _O:
        """Change the fields given; returns the account."""
        body = compact(
            name=name, description=description, domains=domains, custom_fields=custom_fields
        )
        return self._calls.object("PATCH", f"/accounts/{segment(account_id)}", json=body)

    def delete(self, account_id: str) -> _N:
        return self._calls.empty("DELETE", f"/accounts/{segment(account_id)}")

    def contacts(self, account_id: str, *, page_size: int | None = None) -> _I:
        path = f"/accounts/{segment(account_id)}/contacts"
        return self._calls.items(path, _listing(page_size=page_size))

    def add_contacts(self, account_id: str, *, contact_ids: Sequence[str]) -> _N:
        path = f"/accounts/{segment(account_id)}/contacts"
        return self._calls.empty("POST", path, json={"contact_ids": list(contact_ids)})

    def remove_contacts(self, account_id: str, *, contact_ids: Sequence[str]) -> _N:
        path = f"/accounts/{segment(account_id)}/contacts"
        return self._calls.empty("DELETE", path, json={"contact_ids": list(contact_ids)})


class Conversations(_Resource[_O, _N, _I]):
    """Conversations (``cnv_``), their comments, tags, followers, links and events."""

    def list(
        self,
        *,
        statuses: Sequence[Literal["assigned", "unassigned", "archived", "trashed"]] | None = None,
        status_categories: Sequence[Literal["open", "waiting", "resolved"]] | None = None,
        status_ids: Sequence[str] | None = None,
        sort_by: Literal["date"] | None = None,
        sort_order: SortOrder | None = None,
        page_size: int | None = None,
    ) -> _I:
        """Every conversation the token can see, most recent activity first."""
        params = _listing(
            page_size=page_size,
            sort_by=sort_by,
            sort_order=sort_order,
            statuses=statuses,
            status_categories=status_categories,
            status_ids=status_ids,
        )
        return self._calls.items("/conversations", params)

    def get(self, conversation_id: str) -> _O:
        return self._calls.object("GET", f"/conversations/{segment(conversation_id)}")

    def create(
        self,
        *,
        type: Literal["discussion", "task"],
        subject: str,
        inbox_id: str | None = None,
        teammate_ids: Sequence[str] | None = None,
        comment: Mapping[str, Any] | None = None,
        description: str | None = None,
        due_at: Timestamp | None = None,
        custom_fields: Mapping[str, Any] | None = None,
    ) -> _O:
        """Create a discussion or a task (message conversations come from messages)."""
        body = compact(
            type=type,
            subject=subject,
            inbox_id=inbox_id,
            teammate_ids=teammate_ids,
            comment=comment,
            description=description,
            due_at=_seconds(due_at),
            custom_fields=custom_fields,
        )
        return self._calls.object("POST", "/conversations", json=body)

    def update(
        self,
        conversation_id: str,
        *,
        assignee_id: str | None | _Unset = UNSET,
        inbox_id: str | None = None,
        status: Literal["open", "archived", "deleted", "spam"] | None = None,
        status_id: str | None = None,
        tag_ids: Sequence[str] | None = None,
        description: str | None = None,
        due_at: Timestamp | None | _Unset = UNSET,
        custom_fields: Mapping[str, Any] | None = None,
    ) -> _N:
        """Change the fields given: ``tag_ids`` and ``custom_fields`` replace the whole set,
        ``assignee_id=None`` unassigns, ``due_at=None`` clears a task's due date."""
        body = compact(
            inbox_id=inbox_id,
            status=status,
            status_id=status_id,
            tag_ids=tag_ids,
            description=description,
            custom_fields=custom_fields,
        )
        if not isinstance(assignee_id, _Unset):
            body["assignee_id"] = assignee_id
        if not isinstance(due_at, _Unset):
            body["due_at"] = _seconds(due_at)
        return self._calls.empty("PATCH", f"/conversations/{segment(conversation_id)}", json=body)

    def delete(self, conversation_id: str) -> _N:
        """Delete for good a conversation in the trash."""
        return self._calls.empty("DELETE", f"/conversations/{segment(conversation_id)}")

    def search(self, query: str, *, page_size: int | None = None) -> _I:
        """Conversations matching Front's search syntax (``is:open tag:tag_1 "exact words"``).

        The total is on each page: ``client.pages(f"/conversations/search/{quote(q)}")``.
        """
        path = f"/conversations/search/{segment_all(query)}"
        return self._calls.items(path, _listing(page_size=page_size))

    def assign(self, conversation_id: str, *, assignee_id: str | None) -> _N:
        """Assign to a teammate, or unassign with None."""
        path = f"/conversations/{segment(conversation_id)}/assignee"
        return self._calls.empty("PUT", path, json={"assignee_id": assignee_id})

    def messages(
        self,
        conversation_id: str,
        *,
        sort_order: SortOrder | None = None,
        page_size: int | None = None,
    ) -> _I:
        path = f"/conversations/{segment(conversation_id)}/messages"
        return self._calls.items(path, _listing(page_size=page_size, sort_order=sort_order))

    def comments(self, conversation_id: str) -> _I:
        return self._calls.items(f"/conversations/{segment(conversation_id)}/comments")

    def add_comment(
        self,
        conversation_id: str,
        *,
        body: str,
        author_id: str | None = None,
        is_pinned: bool | None = None,
        attachments: Sequence[Attachment] | None = None,
    ) -> _O:
        """Comment (markdown ``body``); without ``author_id``, as the token's API bot."""
        comment = compact(body=body, author_id=author_id, is_pinned=is_pinned)
        path = f"/conversations/{segment(conversation_id)}/comments"
        return self._calls.object("POST", path, json=comment, attachments=_files(attachments))

    def add_tags(self, conversation_id: str, *, tag_ids: Sequence[str]) -> _N:
        path = f"/conversations/{segment(conversation_id)}/tags"
        return self._calls.empty("POST", path, json={"tag_ids": list(tag_ids)})

    def remove_tags(self, conversation_id: str, *, tag_ids: Sequence[str]) -> _N:
        path = f"/conversations/{segment(conversation_id)}/tags"
        return self._calls.empty("DELETE", path, json={"tag_ids": list(tag_ids)})

    def followers(self, conversation_id: str) -> _I:
        return self._calls.items(f"/conversations/{segment(conversation_id)}/followers")

    def add_followers(self, conversation_id: str, *, teammate_ids: Sequence[str]) -> _N:
        path = f"/conversations/{segment(conversation_id)}/followers"
        return self._calls.empty("POST", path, json={"teammate_ids": list(teammate_ids)})

    def remove_followers(self, conversation_id: str, *, teammate_ids: Sequence[str]) -> _N:
        path = f"/conversations/{segment(conversation_id)}/followers"
        return self._calls.empty("DELETE", path, json={"teammate_ids": list(teammate_ids)})

    def inboxes(self, conversation_id: str) -> _I:
        return self._calls.items(f"/conversations/{segment(conversation_id)}/inboxes")

    def add_links(
        self,
        conversation_id: str,
        *,
        link_ids: Sequence[str] | None = None,
        link_external_urls: Sequence[str] | None = None,
    ) -> _N:
        """Link by id or by external URL (one or the other, up to 10)."""
        body = compact(link_ids=link_ids, link_external_urls=link_external_urls)
        path = f"/conversations/{segment(conversation_id)}/links"
        return self._calls.empty("POST", path, json=body)

    def remove_links(self, conversation_id: str, *, link_ids: Sequence[str]) -> _N:
        path = f"/conversations/{segment(conversation_id)}/links"
        return self._calls.empty("DELETE", path, json={"link_ids": list(link_ids)})

    def set_reminder(
        self,
        conversation_id: str,
        *,
        teammate_id: str,
        scheduled_at: Timestamp | None,
        status_id: str | None = None,
    ) -> _N:
        """Snooze until ``scheduled_at`` for ``teammate_id``; None cancels the reminder."""
        body = compact(teammate_id=teammate_id, status_id=status_id)
        body["scheduled_at"] = _seconds(scheduled_at)
        path = f"/conversations/{segment(conversation_id)}/reminders"
        return self._calls.empty("PATCH", path, json=body)

    def events(self, conversation_id: str, *, page_size: int | None = None) -> _I:
        path = f"/conversations/{segment(conversation_id)}/events"
        return self._calls.items(path, _listing(page_size=page_size))


class Messages(_Resource[_O, _N, _I]):
    """Messages (``msg_``; alias ``alt:uid:<message_uid>``): fetch, send, reply, import.

    Sending answers 202 ``{"status": "accepted", "message_uid": …}``: the message exists
    shortly after (``get(f"alt:uid:{uid}")`` is a 404 until then).
    """

    def get(self, message_id: str) -> _O:
        return self._calls.object("GET", f"/messages/{segment(message_id)}")

    def send(
        self,
        channel_id: str,
        *,
        to: Sequence[str],
        body: str,
        cc: Sequence[str] | None = None,
        bcc: Sequence[str] | None = None,
        subject: str | None = None,
        sender_name: str | None = None,
        author_id: str | None = None,
        text: str | None = None,
        archive: bool | None = None,
        tag_ids: Sequence[str] | None = None,
        signature_id: str | None = None,
        should_add_default_signature: bool | None = None,
        attachments: Sequence[Attachment] | None = None,
    ) -> _O:
        """Start a conversation on a channel (``archive`` after sending defaults to true)."""
        message = compact(
            to=list(to),
            body=body,
            cc=cc,
            bcc=bcc,
            subject=subject,
            sender_name=sender_name,
            author_id=author_id,
            text=text,
            options=compact(archive=archive, tag_ids=tag_ids) or None,
            signature_id=signature_id,
            should_add_default_signature=should_add_default_signature,
        )
        path = f"/channels/{segment(channel_id)}/messages"
        return self._calls.object("POST", path, json=message, attachments=_files(attachments))

    def reply(
        self,
        conversation_id: str,
        *,
        body: str,
        to: Sequence[str] | None = None,
        cc: Sequence[str] | None = None,
        bcc: Sequence[str] | None = None,
        subject: str | None = None,
        sender_name: str | None = None,
        author_id: str | None = None,
        channel_id: str | None = None,
        text: str | None = None,
        quote_body: str | None = None,
        archive: bool | None = None,
        tag_ids: Sequence[str] | None = None,
        signature_id: str | None = None,
        should_add_default_signature: bool | None = None,
        attachments: Sequence[Attachment] | None = None,
    ) -> _O:
        """Reply in a conversation (on its channel unless ``channel_id`` says another)."""
        message = compact(
            body=body,
            to=to,
            cc=cc,
            bcc=bcc,
            subject=subject,
            sender_name=sender_name,
            author_id=author_id,
            channel_id=channel_id,
            text=text,
            quote_body=quote_body,
            options=compact(archive=archive, tag_ids=tag_ids) or None,
            signature_id=signature_id,
            should_add_default_signature=should_add_default_signature,
        )
        path = f"/conversations/{segment(conversation_id)}/messages"
        return self._calls.object("POST", path, json=message, attachments=_files(attachments))

    def import_message(
        self,
        inbox_id: str,
        *,
        sender: Mapping[str, Any],
        to: Sequence[str],
        body: str,
        external_id: str,
        created_at: Timestamp,
        metadata: Mapping[str, Any],
        subject: str | None = None,
        cc: Sequence[str] | None = None,
        bcc: Sequence[str] | None = None,
        body_format: Literal["html", "markdown"] | None = None,
        type: Literal["email", "sms", "intercom", "custom"] | None = None,
        assignee_id: str | None = None,
        tags: Sequence[str] | None = None,
        conversation_id: str | None = None,
        attachments: Sequence[Attachment] | None = None,
    ) -> _O:
        """Import a message into an inbox (``metadata`` needs ``is_inbound``); a repeated
        ``external_id`` is not imported twice."""
        message = compact(
            sender=sender,
            to=list(to),
            body=body,
            external_id=external_id,
            created_at=int(_seconds(created_at) or 0),
            metadata=metadata,
            subject=subject,
            cc=cc,
            bcc=bcc,
            body_format=body_format,
            type=type,
            assignee_id=assignee_id,
            tags=tags,
            conversation_id=conversation_id,
        )
        path = f"/inboxes/{segment(inbox_id)}/imported_messages"
        return self._calls.object("POST", path, json=message, attachments=_files(attachments))

    def seen(self, message_id: str) -> _I:
        """Who saw an outbound message, and when first."""
        return self._calls.items(f"/messages/{segment(message_id)}/seen")

    def mark_seen(self, message_id: str) -> _N:
        return self._calls.empty("POST", f"/messages/{segment(message_id)}/seen")


class Tags(_Resource[_O, _N, _I]):
    """Tags (``tag_``) of the company, a team or a teammate, and their children."""

    def list(
        self,
        *,
        team_id: str | None = None,
        teammate_id: str | None = None,
        company: bool = False,
        page_size: int | None = None,
    ) -> _I:
        """Every tag the token can see; or only the company's, a team's or a teammate's."""
        path = (
            "/company/tags" if company else _owner("tags", team_id=team_id, teammate_id=teammate_id)
        )
        return self._calls.items(path, _listing(page_size=page_size))

    def get(self, tag_id: str) -> _O:
        return self._calls.object("GET", f"/tags/{segment(tag_id)}")

    def create(
        self,
        *,
        name: str,
        description: str | None = None,
        highlight: Highlight | None = None,
        is_visible_in_conversation_lists: bool | None = None,
        team_id: str | None = None,
        teammate_id: str | None = None,
        parent_tag_id: str | None = None,
    ) -> _O:
        """Create a company tag, or a team's, a teammate's, or a child of ``parent_tag_id``."""
        if parent_tag_id is not None:
            path = f"/tags/{segment(parent_tag_id)}/children"
        elif team_id is None and teammate_id is None:
            path = "/company/tags"
        else:
            path = _owner("tags", team_id=team_id, teammate_id=teammate_id)
        body = compact(
            name=name,
            description=description,
            highlight=highlight,
            is_visible_in_conversation_lists=is_visible_in_conversation_lists,
        )
        return self._calls.object("POST", path, json=body)

    def update(
        self,
        tag_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        highlight: Highlight | None = None,
        parent_tag_id: str | None = None,
        is_visible_in_conversation_lists: bool | None = None,
    ) -> _N:
        body = compact(
            name=name,
            description=description,
            highlight=highlight,
            parent_tag_id=parent_tag_id,
            is_visible_in_conversation_lists=is_visible_in_conversation_lists,
        )
        return self._calls.empty("PATCH", f"/tags/{segment(tag_id)}", json=body)

    def delete(self, tag_id: str) -> _N:
        return self._calls.empty("DELETE", f"/tags/{segment(tag_id)}")

    def children(self, tag_id: str) -> _I:
        return self._calls.items(f"/tags/{segment(tag_id)}/children")

    def conversations(
        self,
        tag_id: str,
        *,
        statuses: Sequence[str] | None = None,
        page_size: int | None = None,
    ) -> _I:
        params = _listing(page_size=page_size, statuses=statuses)
        return self._calls.items(f"/tags/{segment(tag_id)}/conversations", params)


class Teammates(_Resource[_O, _N, _I]):
    """Teammates (``tea_``; an email or ``alt:email:…`` also names one)."""

    def list(self) -> _I:
        return self._calls.items("/teammates")

    def get(self, teammate_id: str) -> _O:
        return self._calls.object("GET", f"/teammates/{segment(teammate_id)}")

    def update(
        self,
        teammate_id: str,
        *,
        username: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        is_available: bool | None = None,
        custom_fields: Mapping[str, Any] | None = None,
    ) -> _N:
        body = compact(
            username=username,
            first_name=first_name,
            last_name=last_name,
            is_available=is_available,
            custom_fields=custom_fields,
        )
        return self._calls.empty("PATCH", f"/teammates/{segment(teammate_id)}", json=body)

    def conversations(
        self,
        teammate_id: str,
        *,
        statuses: Sequence[str] | None = None,
        page_size: int | None = None,
    ) -> _I:
        """The conversations assigned to the teammate."""
        params = _listing(page_size=page_size, statuses=statuses)
        return self._calls.items(f"/teammates/{segment(teammate_id)}/conversations", params)

    def inboxes(self, teammate_id: str) -> _I:
        return self._calls.items(f"/teammates/{segment(teammate_id)}/inboxes")


class Teams(_Resource[_O, _N, _I]):
    """Teams (``tim_``)."""

    def list(self) -> _I:
        return self._calls.items("/teams")

    def get(self, team_id: str) -> _O:
        return self._calls.object("GET", f"/teams/{segment(team_id)}")

    def add_teammates(self, team_id: str, *, teammate_ids: Sequence[str]) -> _N:
        path = f"/teams/{segment(team_id)}/teammates"
        return self._calls.empty("POST", path, json={"teammate_ids": list(teammate_ids)})

    def remove_teammates(self, team_id: str, *, teammate_ids: Sequence[str]) -> _N:
        path = f"/teams/{segment(team_id)}/teammates"
        return self._calls.empty("DELETE", path, json={"teammate_ids": list(teammate_ids)})


class Inboxes(_Resource[_O, _N, _I]):
    """Inboxes (``inb_``), their channels, access and conversations."""

    def list(self, *, team_id: str | None = None) -> _I:
        return self._calls.items(_owner("inboxes", team_id=team_id, teammate_id=None))

    def get(self, inbox_id: str) -> _O:
        return self._calls.object("GET", f"/inboxes/{segment(inbox_id)}")

    def create(
        self,
        *,
        name: str,
        team_id: str | None = None,
        teammate_ids: Sequence[str] | None = None,
        is_public: bool | None = None,
        custom_fields: Mapping[str, Any] | None = None,
    ) -> _O:
        """Create an inbox (in the team ``team_id``, else the company's oldest)."""
        body = compact(
            name=name, teammate_ids=teammate_ids, is_public=is_public, custom_fields=custom_fields
        )
        path = _owner("inboxes", team_id=team_id, teammate_id=None)
        return self._calls.object("POST", path, json=body)

    def channels(self, inbox_id: str) -> _I:
        return self._calls.items(f"/inboxes/{segment(inbox_id)}/channels")

    def create_channel(
        self,
        inbox_id: str,
        *,
        type: Literal["custom", "smtp", "twilio"],
        name: str | None = None,
        send_as: str | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> _N:
        """Add a channel (Front answers 204 without it: find it with :meth:`channels`)."""
        body = compact(type=type, name=name, send_as=send_as, settings=settings)
        return self._calls.empty("POST", f"/inboxes/{segment(inbox_id)}/channels", json=body)

    def conversations(
        self,
        inbox_id: str,
        *,
        statuses: Sequence[str] | None = None,
        page_size: int | None = None,
    ) -> _I:
        params = _listing(page_size=page_size, statuses=statuses)
        return self._calls.items(f"/inboxes/{segment(inbox_id)}/conversations", params)

    def teammates(self, inbox_id: str) -> _I:
        return self._calls.items(f"/inboxes/{segment(inbox_id)}/teammates")

    def add_teammates(self, inbox_id: str, *, teammate_ids: Sequence[str]) -> _N:
        path = f"/inboxes/{segment(inbox_id)}/teammates"
        return self._calls.empty("POST", path, json={"teammate_ids": list(teammate_ids)})

    def remove_teammates(self, inbox_id: str, *, teammate_ids: Sequence[str]) -> _N:
        path = f"/inboxes/{segment(inbox_id)}/teammates"
        return self._calls.empty("DELETE", path, json={"teammate_ids": list(teammate_ids)})


class Channels(_Resource[_O, _N, _I]):
    """Channels (``cha_``; alias ``alt:address:…``), and messages into custom channels."""

    def list(self, *, team_id: str | None = None, teammate_id: str | None = None) -> _I:
        return self._calls.items(_owner("channels", team_id=team_id, teammate_id=teammate_id))

    def get(self, channel_id: str) -> _O:
        return self._calls.object("GET", f"/channels/{segment(channel_id)}")

    def update(
        self,
        channel_id: str,
        *,
        name: str | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> _N:
        body = compact(name=name, settings=settings)
        return self._calls.empty("PATCH", f"/channels/{segment(channel_id)}", json=body)

    def validate(self, channel_id: str) -> _O:
        return self._calls.object("POST", f"/channels/{segment(channel_id)}/validate")

    def incoming_message(
        self,
        channel_id: str,
        *,
        sender_handle: str,
        body: str,
        sender_name: str | None = None,
        subject: str | None = None,
        body_format: Literal["markdown", "html"] | None = None,
        thread_ref: str | None = None,
        headers: Mapping[str, str] | None = None,
        attachments: Sequence[Attachment] | None = None,
    ) -> _O:
        """Receive a message on a custom channel, as if ``sender_handle`` wrote it; messages
        with the same ``thread_ref`` (else the same sender) share a conversation."""
        message = compact(
            sender=compact(handle=sender_handle, name=sender_name),
            body=body,
            subject=subject,
            body_format=body_format,
            metadata=compact(thread_ref=thread_ref, headers=headers) or None,
        )
        path = f"/channels/{segment(channel_id)}/incoming_messages"
        return self._calls.object("POST", path, json=message, attachments=_files(attachments))


class Events(_Resource[_O, _N, _I]):
    """The event log (``evt_``), newest first."""

    def list(
        self,
        *,
        types: Sequence[str] | None = None,
        before: Timestamp | None = None,
        after: Timestamp | None = None,
        inboxes: Sequence[str] | None = None,
        sort_order: SortOrder | None = None,
        page_size: int | None = None,
    ) -> _I:
        """Events, optionally of some ``types`` (``archive``, ``tag``…), in a time range or
        some inboxes (at most 15 a page)."""
        params = _listing(
            page_size=page_size,
            sort_order=sort_order,
            types=types,
            before=_seconds(before),
            after=_seconds(after),
            inboxes=inboxes,
        )
        return self._calls.items("/events", params)

    def get(self, event_id: str) -> _O:
        return self._calls.object("GET", f"/events/{segment(event_id)}")
