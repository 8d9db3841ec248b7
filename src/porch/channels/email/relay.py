"""Handing email to the configured SMTP relay, and what its answer means.

The relay is a URL (``PORCH_SMTP_RELAY_URL``): ``smtp://[user:password@]host[:port]`` (port 25;
``?starttls=true`` upgrades the connection and defaults to port 587) or ``smtps://…`` (TLS from
the first byte, port 465). User and password are percent-decoded. ``verify=false`` accepts a
relay whose certificate does not verify (a self-signed one on the same network).

``send`` answers a ``Result``. A refusal is **permanent** when the relay will never take this
message: a 5xx answer to the sender or the data, or a 5xx for every recipient. Everything else
is worth trying again: a 4xx answer, a connection refused or dropped, a timeout, and also a
failed login or TLS handshake, which are the relay's configuration rather than the message's
(the outbox's backoff gives up on them in the end). When the relay takes the message for some
recipients and refuses others, the message is sent and the refused ones are listed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

import aiosmtplib

# Each command's answer is awaited this long, the whole transaction at most TOTAL_SECONDS:
# less than the outbox lease of an email, so no other process takes the row during a send.
TIMEOUT_SECONDS = 30.0
TOTAL_SECONDS = 240.0
_TRUE = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


@dataclass(frozen=True, slots=True)
class Relay:
    """Where and how to connect to the relay."""

    host: str
    port: int
    use_tls: bool = False
    start_tls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    verify: bool = True


def parse_url(url: str) -> Relay:
    """The relay a URL names; ValueError (without the password) when it is not one."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError("the SMTP relay URL must start with smtp:// or smtps://")
    if not parts.hostname:
        raise ValueError("the SMTP relay URL names no host")
    flags: dict[str, bool] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name not in ("starttls", "verify") or value.lower() not in _TRUE:
            raise ValueError(f"unknown SMTP relay URL parameter: {name}={value}")
        flags[name] = _TRUE[value.lower()]
    use_tls = parts.scheme == "smtps"
    start_tls = flags.get("starttls", False) and not use_tls
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError("the SMTP relay URL has a bad port") from exc
    if port is None:
        port = 465 if use_tls else (587 if start_tls else 25)
    return Relay(
        host=parts.hostname,
        port=port,
        use_tls=use_tls,
        start_tls=start_tls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        verify=flags.get("verify", True),
    )


@dataclass(frozen=True, slots=True)
class Result:
    """What the relay did with a message: took it (``error`` None; ``refused`` lists the
    recipients it would not take, with its answer), or not, and whether never."""

    error: str | None = None
    permanent: bool = False
    refused: dict[str, str] = field(default_factory=dict)


def _permanent(code: int) -> bool:
    return 500 <= code < 600


def classify(exc: BaseException) -> Result:
    """The Result of a send that raised ``exc``."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        answers = {r.recipient: f"{r.code} {r.message}" for r in exc.recipients}
        every = bool(exc.recipients) and all(_permanent(r.code) for r in exc.recipients)
        shown = "; ".join(f"{who}: {answer}" for who, answer in answers.items())
        return Result(f"the relay refused every recipient ({shown})"[:1000], permanent=every)
    if isinstance(exc, aiosmtplib.SMTPSenderRefused | aiosmtplib.SMTPDataError):
        what = "sender" if isinstance(exc, aiosmtplib.SMTPSenderRefused) else "message"
        error = f"the relay refused the {what}: {exc.code} {exc.message}"[:1000]
        return Result(error, permanent=_permanent(exc.code))
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return Result(f"the relay refused the login: {exc.code} {exc.message}"[:1000])
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        # A greeting or HELO refused: the relay is not taking mail from us now.
        return Result(f"the relay answered {exc.code} {exc.message}"[:1000])
    if isinstance(exc, TimeoutError):
        return Result("the relay did not answer in time")
    return Result(f"{type(exc).__name__}: {exc}"[:1000])


async def send(
    relay: Relay,
    *,
    raw: bytes,
    sender: str,
    recipients: Sequence[str],
    timeout: float = TIMEOUT_SECONDS,
    total: float = TOTAL_SECONDS,
) -> Result:
    """Hand ``raw`` (a whole RFC 5322 message, CRLF line ends) to the relay for the envelope
    ``sender`` → ``recipients``; never raises for anything the relay or the network does."""
    try:
        async with asyncio.timeout(total):
            refused, _ = await aiosmtplib.send(
                raw,
                sender=sender,
                recipients=list(recipients),
                hostname=relay.host,
                port=relay.port,
                username=relay.username,
                password=relay.password,
                use_tls=relay.use_tls,
                start_tls=relay.start_tls,
                validate_certs=relay.verify,
                timeout=timeout,
            )
    except (aiosmtplib.SMTPException, OSError) as exc:
        # OSError covers refused connections, resets and TLS errors; TimeoutError is one.
        return classify(exc)
    return Result(refused={who: f"{r.code} {r.message}" for who, r in refused.items()})
