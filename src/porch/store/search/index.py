"""The conversations' full-text documents: written from their rows (by the ``search_index``
consumer and ``rebuild``), dropped when a conversation goes, walked in key order to rebuild."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import TSVECTOR

from porch.store.db import Connection, Query, Reader
from porch.store.tables import conversations

t = conversations
# PostgreSQL keeps at most 1 MB per tsvector: documents are cut to this many characters (4 bytes
# a character at worst, and positions), so that no conversation can make indexing fail.
MAX_DOC_CHARS = 200_000

_pg_meta = sa.MetaData()
conversation_search = sa.Table(
    "conversation_search",
    _pg_meta,
    sa.Column("conversation_id", sa.BigInteger, primary_key=True),
    sa.Column("company_id", sa.BigInteger, nullable=False),
    sa.Column("tsv", TSVECTOR, nullable=False),
    # Copies of the conversation's columns, kept by triggers in the writing transaction
    # (migration 0010): a text search filters and pages on them without reading conversations.
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("merged", sa.Boolean, nullable=False),
    sa.Column("activity_at", sa.BigInteger, nullable=False),
)


# The document of each conversation of :keys that exists and was not merged away.
_DOC_SQLITE = """
SELECT c.id AS id, c.company_id AS company_id,
       c.subject
       || ' ' || coalesce((SELECT group_concat(m.subject || ' ' || m.text, ' ')
                             FROM messages m
                            WHERE m.conversation_id = c.id AND m.is_draft = 0), '')
       || ' ' || coalesce((SELECT group_concat(k.body, ' ')
                             FROM comments k WHERE k.conversation_id = c.id), '') AS doc
  FROM conversations c
 WHERE c.id IN (SELECT value FROM json_each(:keys)) AND c.merged_into_id IS NULL
"""
_DOC_PG = """
SELECT c.id AS id, c.company_id AS company_id, c.state AS state, c.activity_at AS activity_at,
       c.subject
       || ' ' || coalesce((SELECT string_agg(m.subject || ' ' || m.text, ' ' ORDER BY m.id)
                             FROM messages m
                            WHERE m.conversation_id = c.id AND NOT m.is_draft), '')
       || ' ' || coalesce((SELECT string_agg(k.body, ' ' ORDER BY k.id)
                             FROM comments k WHERE k.conversation_id = c.id), '') AS doc
  FROM conversations c
 WHERE c.id = ANY(:keys) AND c.merged_into_id IS NULL
"""

# Every part is a constant of this module: no user text reaches these statements' SQL.
_INSERT_SQLITE = f"INSERT INTO conversation_fts (rowid, doc) SELECT id, doc FROM ({_DOC_SQLITE})"  # noqa: S608
# On PostgreSQL a live conversation's row is never deleted and rewritten, only its tsv: its
# other columns belong to the triggers, which a concurrent write may be running (an upsert
# serialises with them on the row; a delete and insert would lose their update). A row is
# missing only for a conversation older than those triggers.
_INSERT_PG = (
    "INSERT INTO conversation_search (conversation_id, company_id, tsv, state, merged,"  # noqa: S608
    f" activity_at) SELECT id, company_id, to_tsvector('simple', left(doc, {MAX_DOC_CHARS})),"
    f" state, false, activity_at FROM ({_DOC_PG}) d"
    " ON CONFLICT (conversation_id) DO UPDATE SET tsv = EXCLUDED.tsv"
)
_REINDEX = [
    Query(
        sa.text("DELETE FROM conversation_fts WHERE rowid IN (SELECT value FROM json_each(:keys))"),
        # Merged away for good: the document goes (rows of deleted conversations went with them).
        postgresql=sa.text(
            "DELETE FROM conversation_search s WHERE s.conversation_id = ANY(:keys) AND EXISTS"
            " (SELECT 1 FROM conversations c WHERE c.id = s.conversation_id"
            " AND c.merged_into_id IS NOT NULL)"
        ),
    ),
    Query(sa.text(_INSERT_SQLITE), postgresql=sa.text(_INSERT_PG)),
]
# Documents whose conversation is gone (deleted for good) or merged away.
_ORPHANS = Query(
    sa.text(
        "DELETE FROM conversation_fts WHERE rowid NOT IN "
        "(SELECT id FROM conversations WHERE merged_into_id IS NULL)"
    ),
    postgresql=sa.text(
        "DELETE FROM conversation_search s WHERE NOT EXISTS (SELECT 1 FROM conversations c "
        "WHERE c.id = s.conversation_id AND c.merged_into_id IS NULL)"
    ),
)
_KEYS_AFTER = Query(
    sa.select(t.c.id)
    .where(t.c.id > sa.bindparam("after", type_=sa.BigInteger))
    .order_by(t.c.id)
    .limit(sa.bindparam("lim"))
)
_COMPANY_KEYS_AFTER = Query(
    sa.select(t.c.id)
    .where(
        t.c.company_id == sa.bindparam("company_id"),
        t.c.id > sa.bindparam("after", type_=sa.BigInteger),
    )
    .order_by(t.c.id)
    .limit(sa.bindparam("lim"))
)


async def reindex(tx: Connection, *, keys: list[int]) -> None:
    """Rebuild the documents of the conversations ``keys`` from their rows; a conversation
    that is gone or merged away loses its document. Idempotent."""
    if not keys:
        return
    for q in _REINDEX:
        await tx.execute(q, keys=keys)


async def remove_orphans(tx: Connection) -> int:
    """Drop the documents of conversations that no longer exist or were merged."""
    return await tx.execute(_ORPHANS)


async def conversation_keys(
    conn: Reader, *, company_id: int | None, after: int, limit: int
) -> list[int]:
    """Up to ``limit`` conversation keys above ``after`` (of one company, or all), ascending."""
    if company_id is None:
        rows = await conn.fetch_all(_KEYS_AFTER, after=after, lim=limit)
    else:
        rows = await conn.fetch_all(
            _COMPANY_KEYS_AFTER, company_id=company_id, after=after, lim=limit
        )
    return [int(r["id"]) for r in rows]
