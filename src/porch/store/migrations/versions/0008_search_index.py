"""search index

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23

The full-text index of conversations (kept by the ``search_index`` event-log consumer) and the
indexes search filters start from. SQLite gets an FTS5 table whose rowid is the conversation's
key; PostgreSQL a table of tsvectors (``simple`` configuration: words match as written, in any
language, case-insensitively) with a GIN index. Neither is declared in tables.py: FTS5 tables
cannot be, and the tsvector table exists on PostgreSQL only.
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_comments_author_id", "comments", ["author_id"])
    op.create_index(
        "ix_message_recipients_company_id_handle", "message_recipients", ["company_id", "handle"]
    )
    op.create_index("ix_messages_author_id", "messages", ["author_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TABLE conversation_search ("
            " conversation_id BIGINT PRIMARY KEY,"
            " company_id BIGINT NOT NULL,"
            " tsv TSVECTOR NOT NULL)"
        )
        op.execute("CREATE INDEX ix_conversation_search_tsv ON conversation_search USING GIN (tsv)")
    else:
        # A regular (content-storing) FTS5 table: SQLite 3.40 has no contentless_delete, and a
        # document must be replaceable without its old text.
        op.execute(
            "CREATE VIRTUAL TABLE conversation_fts USING fts5("
            "doc, tokenize = 'unicode61 remove_diacritics 2')"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE conversation_search")
    else:
        op.execute("DROP TABLE conversation_fts")
    op.drop_index("ix_messages_author_id", "messages")
    op.drop_index("ix_message_recipients_company_id_handle", "message_recipients")
    op.drop_index("ix_comments_author_id", "comments")
