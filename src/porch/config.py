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
    # Inbound SMTP: the listening address (None: no SMTP server in this process; ``porch serve``
    # defaults to 127.0.0.1:2525), the largest message taken (552 above it), STARTTLS when both
    # certificate files are given, senders refused or alone accepted (addresses or "@domain"),
    # and per-connection limits.
    smtp_host: str = "127.0.0.1"
    smtp_port: int | None = None
    smtp_max_bytes: int = 35 * 1024 * 1024
    smtp_tls_cert: str | None = None
    smtp_tls_key: str | None = None
    smtp_deny: tuple[str, ...] = ()
    smtp_allow: tuple[str, ...] = ()
    smtp_max_recipients: int = 100
    smtp_max_messages_per_connection: int = 1000
    # Outbound email: the relay every email channel sends through, as a URL:
    # smtp://[user:password@]host[:port][?starttls=true] or smtps://… (implicit TLS). None: email
    # replies wait in the outbox until one is configured.
    smtp_relay_url: str | None = None
    # IMAP mailboxes are polled this often when the server offers no IDLE.
    imap_poll_seconds: float = 60.0
    # Rules: how often the timer worker looks for due time-based triggers ("unreplied").
    rules_timer_poll_seconds: float = 5.0
    # Webhooks (issue 6): how often the fan-out and the delivery worker look for work when not
    # woken, the POST timeout, the backoff (first retry, cap, random jitter applied on top),
    # how long after its event a delivery is given up, how many failed attempts in a row
    # disable a subscription, how long a claimed delivery is leased to one process, and how
    # many POSTs one process has in flight.
    webhook_poll_seconds: float = 0.1
    webhook_timeout_seconds: float = 5.0
    webhook_backoff_seconds: float = 1.0
    webhook_max_backoff_seconds: float = 3600.0
    webhook_max_age_seconds: float = 86400.0
    webhook_disable_after: int = 50
    webhook_lease_seconds: float = 30.0
    webhook_concurrency: int = 64
    # Whether this process runs the background workers (``porch serve --no-workers`` for an
    # API-only process beside ``porch worker``).
    run_workers: bool = True

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
        smtp_host=os.environ.get("PORCH_SMTP_HOST", "127.0.0.1"),
        smtp_port=_port(os.environ.get("PORCH_SMTP_PORT", "2525")),
        smtp_max_bytes=int(os.environ.get("PORCH_SMTP_MAX_BYTES", str(35 * 1024 * 1024))),
        smtp_tls_cert=os.environ.get("PORCH_SMTP_TLS_CERT") or None,
        smtp_tls_key=os.environ.get("PORCH_SMTP_TLS_KEY") or None,
        smtp_deny=_words(os.environ.get("PORCH_SMTP_DENY", "")),
        smtp_allow=_words(os.environ.get("PORCH_SMTP_ALLOW", "")),
        smtp_max_recipients=int(os.environ.get("PORCH_SMTP_MAX_RECIPIENTS", "100")),
        smtp_max_messages_per_connection=int(
            os.environ.get("PORCH_SMTP_MAX_MESSAGES_PER_CONNECTION", "1000")
        ),
        smtp_relay_url=os.environ.get("PORCH_SMTP_RELAY_URL") or None,
        imap_poll_seconds=float(os.environ.get("PORCH_IMAP_POLL_SECONDS", "60")),
        rules_timer_poll_seconds=float(os.environ.get("PORCH_RULES_TIMER_POLL_SECONDS", "5")),
        webhook_poll_seconds=float(os.environ.get("PORCH_WEBHOOK_POLL_SECONDS", "0.1")),
        webhook_timeout_seconds=float(os.environ.get("PORCH_WEBHOOK_TIMEOUT_SECONDS", "5")),
        webhook_backoff_seconds=float(os.environ.get("PORCH_WEBHOOK_BACKOFF_SECONDS", "1")),
        webhook_max_backoff_seconds=float(
            os.environ.get("PORCH_WEBHOOK_MAX_BACKOFF_SECONDS", "3600")
        ),
        webhook_max_age_seconds=float(os.environ.get("PORCH_WEBHOOK_MAX_AGE_SECONDS", "86400")),
        webhook_disable_after=int(os.environ.get("PORCH_WEBHOOK_DISABLE_AFTER", "50")),
        webhook_lease_seconds=float(os.environ.get("PORCH_WEBHOOK_LEASE_SECONDS", "30")),
        webhook_concurrency=int(os.environ.get("PORCH_WEBHOOK_CONCURRENCY", "64")),
        run_workers=os.environ.get("PORCH_RUN_WORKERS", "1") not in ("0", "false", "no"),
    )


def _port(value: str) -> int | None:
    """A port number; 0 or empty turns the server off."""
    port = int(value or "0")
    return port or None


def _words(value: str) -> tuple[str, ...]:
    """A comma- or space-separated list, lower-cased."""
    return tuple(w.lower() for w in value.replace(",", " ").split())
