"""Settings, read once from the command line and the environment.

Every setting has an embedded default so that ``porch serve`` works on a fresh machine:
a SQLite file and attachment storage in the data dir, workers in-process.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Settings:
    """What a Porch process needs to know about where it lives."""

    data_dir: Path
    database_url: str
    public_url: str | None = None
    # How long a verified API token is trusted without asking the database again. A token revoked
    # through the API of the same process stops working at once; elsewhere within this delay.
    auth_cache_seconds: float = 5.0
    # JSON request bodies above this size get 413 before they are parsed.
    max_json_body: int = 1024 * 1024
    sqlite_synchronous: str = "FULL"
    # Sending: the first retry of a failed delivery waits this long, each next one twice as
    # long; after this many attempts the message has failed. The worker looks every poll.
    outbox_backoff_seconds: float = 2.0
    outbox_max_attempts: int = 8
    outbox_poll_seconds: float = 1.0
    # Event-log consumers (the search index): how often they look for new events, and how long
    # a gap in event ids may stay open before it is taken for a rolled-back transaction.
    consumer_poll_seconds: float = 0.2
    consumer_gap_seconds: float = 5.0
    # The intake worker is woken by its own process's requests; this is how often it looks for
    # rows other processes accepted.
    intake_poll_seconds: float = 0.5

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def load(data_dir: str | os.PathLike[str] | None = None) -> Settings:
    """Build settings from ``data_dir`` (or ``PORCH_DATA_DIR``) and ``PORCH_*`` variables."""
    base = Path(data_dir or os.environ.get("PORCH_DATA_DIR") or "porch-data").resolve()
    url = os.environ.get("PORCH_DATABASE_URL") or f"sqlite:///{base / 'porch.db'}"
    return Settings(
        data_dir=base,
        database_url=url,
        public_url=os.environ.get("PORCH_PUBLIC_URL") or None,
        auth_cache_seconds=float(os.environ.get("PORCH_AUTH_CACHE_SECONDS", "5")),
        max_json_body=int(os.environ.get("PORCH_MAX_JSON_BODY", str(1024 * 1024))),
        sqlite_synchronous=os.environ.get("PORCH_SQLITE_SYNCHRONOUS", "FULL").upper(),
        outbox_backoff_seconds=float(os.environ.get("PORCH_OUTBOX_BACKOFF_SECONDS", "2")),
        outbox_max_attempts=int(os.environ.get("PORCH_OUTBOX_MAX_ATTEMPTS", "8")),
        outbox_poll_seconds=float(os.environ.get("PORCH_OUTBOX_POLL_SECONDS", "1")),
        consumer_poll_seconds=float(os.environ.get("PORCH_CONSUMER_POLL_SECONDS", "0.2")),
        consumer_gap_seconds=float(os.environ.get("PORCH_CONSUMER_GAP_SECONDS", "5")),
        intake_poll_seconds=float(os.environ.get("PORCH_INTAKE_POLL_SECONDS", "0.5")),
    )
