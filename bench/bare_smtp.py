"""The bare baseline for bench/smtp_ingest.py: an aiosmtpd server that parses each message with
the stdlib (``policy.default``, as shared/research/perf-baseline.md §4 measured) and inserts
its fields and raw bytes into SQLite (WAL, synchronous=NORMAL, a commit per message) before its
250. No recipients checked, no threading, no attachments, no durability beyond SQLite's.

    python bench/bare_smtp.py PORT DB_FILE
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from email.parser import BytesParser
from email.policy import default
from typing import Any

from aiosmtpd.smtp import SMTP


class Handler:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.parser = BytesParser(policy=default)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content
        msg = self.parser.parsebytes(raw)
        body = msg.get_body(preferencelist=("plain", "html"))  # type: ignore[attr-defined]
        text = body.get_content() if body is not None else ""
        self.db.execute(
            "INSERT INTO mail (message_id, sender, recipients, subject, date, text, raw)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                str(msg.get("message-id", "")),
                str(msg.get("from", "")),
                str(msg.get("to", "")),
                str(msg.get("subject", "")),
                str(msg.get("date", "")),
                text,
                raw,
            ),
        )
        self.db.commit()
        return "250 OK"


async def main(port: int, path: str) -> None:
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute(
        "CREATE TABLE IF NOT EXISTS mail (id INTEGER PRIMARY KEY, message_id TEXT, sender TEXT,"
        " recipients TEXT, subject TEXT, date TEXT, text TEXT, raw BLOB)"
    )
    handler = Handler(db)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="bare", data_size_limit=None, loop=loop), "127.0.0.1", port
    )
    print(f"bare SMTP on 127.0.0.1:{port}", flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2]))
