"""search filter columns

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23

PostgreSQL only: ``conversation_search`` also holds each conversation's state, whether it was
merged away and its last activity, so that a text search counts and pages its matches from that
table alone instead of joining every conversation of the company (the cost of an exact
``_total``). Triggers on ``conversations`` keep the copies in the same transaction as the write
(a row per conversation from its insert, with an empty document until the ``search_index``
consumer writes it), so they are never stale; the consumer only ever writes ``tsv``. SQLite is
unchanged (its FTS5 table is read with the conversation rows, which is fast enough there).
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_FUNCTION = """
CREATE FUNCTION porch_conversation_search_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO conversation_search
            (conversation_id, company_id, tsv, state, merged, activity_at)
        VALUES (NEW.id, NEW.company_id, ''::tsvector, NEW.state,
                NEW.merged_into_id IS NOT NULL, NEW.activity_at)
        ON CONFLICT (conversation_id) DO UPDATE
            SET state = EXCLUDED.state, merged = EXCLUDED.merged,
                activity_at = EXCLUDED.activity_at;
    ELSIF TG_OP = 'UPDATE' THEN
        UPDATE conversation_search
           SET state = NEW.state, merged = NEW.merged_into_id IS NOT NULL,
               activity_at = NEW.activity_at
         WHERE conversation_id = NEW.id;
    ELSE
        DELETE FROM conversation_search WHERE conversation_id = OLD.id;
    END IF;
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "ALTER TABLE conversation_search ADD COLUMN state TEXT,"
        " ADD COLUMN merged BOOLEAN, ADD COLUMN activity_at BIGINT"
    )
    # Documents of conversations gone or merged away carry nothing worth keeping.
    op.execute(
        "DELETE FROM conversation_search s WHERE NOT EXISTS (SELECT 1 FROM conversations c"
        " WHERE c.id = s.conversation_id AND c.merged_into_id IS NULL)"
    )
    op.execute(
        "UPDATE conversation_search s SET state = c.state, merged = false,"
        " activity_at = c.activity_at FROM conversations c WHERE c.id = s.conversation_id"
    )
    # Every other conversation gets its row now, with an empty document until reindexed.
    op.execute(
        "INSERT INTO conversation_search"
        " (conversation_id, company_id, tsv, state, merged, activity_at)"
        " SELECT c.id, c.company_id, ''::tsvector, c.state, c.merged_into_id IS NOT NULL,"
        " c.activity_at FROM conversations c"
        " WHERE NOT EXISTS (SELECT 1 FROM conversation_search s WHERE s.conversation_id = c.id)"
    )
    op.execute(
        "ALTER TABLE conversation_search ALTER COLUMN state SET NOT NULL,"
        " ALTER COLUMN merged SET NOT NULL, ALTER COLUMN activity_at SET NOT NULL"
    )
    op.execute(_FUNCTION)
    op.execute(
        "CREATE TRIGGER conversation_search_sync"
        " AFTER INSERT OR DELETE OR UPDATE OF state, merged_into_id, activity_at"
        " ON conversations FOR EACH ROW EXECUTE FUNCTION porch_conversation_search_sync()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER conversation_search_sync ON conversations")
    op.execute("DROP FUNCTION porch_conversation_search_sync()")
    op.execute("DELETE FROM conversation_search WHERE merged OR tsv = ''::tsvector")
    op.execute(
        "ALTER TABLE conversation_search DROP COLUMN state, DROP COLUMN merged,"
        " DROP COLUMN activity_at"
    )
