"""The lookups email threading needs beyond Message-IDs: who took part in a conversation, and a
contact's recent conversations in an inbox (for the subject fallback)."""

from __future__ import annotations

import sqlalchemy as sa

from porch.store.db import Query, Reader, of_company
from porch.store.tables import conversation_inboxes, conversations, message_recipients, messages

m, r, c, ci = messages, message_recipients, conversations, conversation_inboxes

_PARTICIPANTS = Query(
    sa.select(r.c.handle)
    .distinct()
    .join(m, m.c.id == r.c.message_id)
    .where(
        of_company(r.c.company_id),
        m.c.conversation_id == sa.bindparam("conversation_id"),
        m.c.is_draft == sa.false(),
        sa.or_(r.c.role == "from", r.c.role == "to", r.c.role == "cc"),
    )
)
# The contact's conversations in the inbox (a message from or to it), open or archived, active
# since ``since``, latest first.
_WITH_CONTACT = Query(
    sa.select(c.c.id, c.c.subject, c.c.activity_at)
    .where(
        c.c.company_id == sa.bindparam("company_id"),
        c.c.merged_into_id.is_(None),
        sa.or_(c.c.state == "open", c.c.state == "archived"),
        c.c.activity_at >= sa.bindparam("since", type_=sa.BigInteger),
        c.c.id.in_(
            sa.select(ci.c.conversation_id).where(ci.c.inbox_id == sa.bindparam("inbox_id"))
        ),
        c.c.id.in_(
            sa.select(m.c.conversation_id)
            .join(r, r.c.message_id == m.c.id)
            .where(r.c.contact_id == sa.bindparam("contact_id"), m.c.is_draft == sa.false())
        ),
    )
    .order_by(c.c.activity_at.desc(), c.c.id.desc())
    .limit(sa.bindparam("lim"))
)


async def participants(conn: Reader, *, company_id: int, conversation_id: int) -> set[str]:
    """The handles (as stored: email addresses lower-cased) in From, To or Cc of the
    conversation's messages."""
    rows = await conn.fetch_all(
        _PARTICIPANTS, company_id=company_id, conversation_id=conversation_id
    )
    return {str(row["handle"]) for row in rows}


async def recent_with_contact(
    conn: Reader, *, company_id: int, inbox_id: int, contact_id: int, since: int, limit: int = 20
) -> list[tuple[int, str]]:
    """(conversation key, subject) of the contact's recent conversations in the inbox."""
    rows = await conn.fetch_all(
        _WITH_CONTACT,
        company_id=company_id,
        inbox_id=inbox_id,
        contact_id=contact_id,
        since=since,
        lim=limit,
    )
    return [(int(row["id"]), str(row["subject"])) for row in rows]
