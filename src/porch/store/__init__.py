"""Storage: table definitions, compiled queries, migrations."""
