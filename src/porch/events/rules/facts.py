"""What conditions look at: the conversation, the message behind the event, its sender's
contact, loaded once per rule evaluation and only when a condition asks."""

from __future__ import annotations

from typing import Any

import orjson

from porch.store import contacts as contacts_store
from porch.store import conversations as conversations_store
from porch.store import messages as messages_store
from porch.store import rules as store
from porch.store.contacts import Contact
from porch.store.conversations import Conversation
from porch.store.db import Reader, Row
from porch.store.messages import Message

_UNSET: Any = object()


class Facts:
    """One conversation as one event (or a fired timer) shows it to a rule's conditions."""

    def __init__(self, conn: Reader, *, conv: Conversation, event: Row, at: int) -> None:
        self.conn = conn
        self.conv = conv
        self.event = event
        # When it happened (ms): what business hours compare.
        self.at = at
        self._cache: dict[str, Any] = {}

    @property
    def company_id(self) -> int:
        return self.conv.company_id

    async def inboxes(self) -> list[Row]:
        """The conversation's inboxes (id, team_id, owner_teammate_id)."""
        if "inboxes" not in self._cache:
            self._cache["inboxes"] = await store.inboxes_of_conversation(
                self.conn, company_id=self.company_id, key=self.conv.id
            )
        rows: list[Row] = self._cache["inboxes"]
        return rows

    async def tag_ids(self) -> set[int]:
        if "tags" not in self._cache:
            rows = await conversations_store.tag_rows_of(self.conn, keys=[self.conv.id])
            self._cache["tags"] = {int(r["id"]) for r in rows.get(self.conv.id, [])}
        tags: set[int] = self._cache["tags"]
        return tags

    async def message(self) -> Message | None:
        """The event's message (inbound, outbound), else the latest inbound message."""
        if "message" not in self._cache:
            found: Message | None = None
            if self.event["target_type"] == "message" and self.event["target_id"] is not None:
                found = await messages_store.get(
                    self.conn, company_id=self.company_id, key=self.event["target_id"]
                )
            if found is None:
                row = await store.latest_inbound(
                    self.conn, company_id=self.company_id, conversation_id=self.conv.id
                )
                found = messages_store.Message.from_row(row) if row else None
            self._cache["message"] = found
        msg: Message | None = self._cache["message"]
        return msg

    async def recipients(self) -> list[Row]:
        """The message's handles with their roles (from, to, cc, bcc, reply-to)."""
        if "recipients" not in self._cache:
            msg = await self.message()
            self._cache["recipients"] = (
                await store.recipients(self.conn, company_id=self.company_id, message_id=msg.id)
                if msg
                else []
            )
        rows: list[Row] = self._cache["recipients"]
        return rows

    async def sender(self) -> Row | None:
        for r in await self.recipients():
            if r["role"] == "from":
                return r
        return None

    async def sender_contact(self) -> Contact | None:
        """The contact the message's sender handle belongs to."""
        if "contact" not in self._cache:
            sender = await self.sender()
            contact = None
            if sender is not None and sender["contact_id"] is not None:
                contact = await contacts_store.get(
                    self.conn, company_id=self.company_id, key=sender["contact_id"]
                )
            self._cache["contact"] = contact
        found: Contact | None = self._cache["contact"]
        return found

    async def contact_fields(self) -> dict[str, Any]:
        contact = await self.sender_contact()
        if contact is None:
            return {}
        fields: dict[str, Any] = orjson.loads(contact.custom_fields)
        return fields

    async def contact_lists(self) -> set[int]:
        contact = await self.sender_contact()
        if contact is None:
            return set()
        return await store.lists_of_contact(
            self.conn, company_id=self.company_id, contact_id=contact.id
        )
