"""The full-text index of conversations and the search query over it.

Each conversation has one document: its subject, then the subject and plain text of every
message (drafts excepted), then the body of every comment. SQLite keeps documents in the FTS5
table ``conversation_fts`` (rowid = conversation key); PostgreSQL in ``conversation_search``
as a ``tsvector`` of the ``simple`` configuration (no stemming or stop words: words match as
written, in any language, case-insensitively) behind a GIN index. Both are created by migration
0008 and written only by the ``search_index`` consumer and ``rebuild``.

A search narrows by the index first, then by filters on indexed columns of the relational
tables, which are always current; only the text part is eventually consistent.
"""
