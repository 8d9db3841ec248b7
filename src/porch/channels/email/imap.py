"""Importing an IMAP mailbox: the client side of an email channel's ``imap`` configuration.

Each mailbox a channel imports gets a connection of its own (IDLE watches one selected
mailbox), over implicit TLS, STARTTLS or plain TCP, and runs this round forever:

1. LOGIN, SELECT the mailbox, read its UIDVALIDITY. If it differs from the one stored, the
   mailbox's UIDs name other messages now: the import starts over from UID 1
   (``do_open_mailbox``); messages seen before come again and the intake, which recognises
   an email by its Message-ID, writes them once.
2. UID SEARCH the UIDs above the stored position and UID FETCH them (``BODY.PEEK[]``, so
   nothing is marked read) in batches. Each message is put in the blob store, then one
   transaction queues it in the intake *and* moves the position to its UID
   (``do_queue_message``): a crash between two messages neither loses nor repeats one.
3. With ``move_to``, the imported messages are moved there (UID MOVE, or COPY + \\Deleted +
   EXPUNGE where the server has no MOVE). Moving follows the commit, so after a crash between
   the two the messages at or below the position still in the mailbox are moved at the next
   connection. The sent mailbox is never moved from.
4. Wait: IDLE where the server offers it (renewed every 25 minutes, as servers may drop an
   IDLE after 30), else ``poll_seconds``. Then again from 2.

Any error (refused login, lost connection, timeout, a server saying NO) is logged and the
mailbox is tried again after a backoff that doubles up to five minutes; nothing here raises
out of ``run_channel`` but cancellation.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
import ssl
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import aioimaplib

from porch.domain import email_in
from porch.domain import imap as imap_domain
from porch.domain.imap import ImapConfig, PositionMoved
from porch.storage import BlobStore
from porch.store.db import Database

logger = logging.getLogger("porch.imap")

# Messages fetched per UID FETCH: bounds what is held in memory at once.
FETCH_BATCH = 20
# How long one command may take before the connection is given up.
COMMAND_TIMEOUT = 60.0
# Servers may end an IDLE after 30 minutes (RFC 2177); it is renewed before.
IDLE_RENEW_SECONDS = 25 * 60.0
BACKOFF_FIRST = 1.0
BACKOFF_MAX = 300.0

_UIDVALIDITY = re.compile(rb"\[UIDVALIDITY (\d+)\]", re.IGNORECASE)
_FETCH_START = re.compile(rb"^\d+ FETCH \(", re.IGNORECASE)
_FETCH_UID = re.compile(rb"UID (\d+)", re.IGNORECASE)


class ImapError(Exception):
    """The server refused a command or broke off the conversation."""


def _tls_context(config: ImapConfig) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if not config.verify_tls:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def mailbox_name(name: str) -> str:
    """A mailbox name as an IMAP argument: modified UTF-7 (RFC 3501 5.1.3), quoted."""
    out: list[str] = []
    pending: list[str] = []

    def shift() -> None:
        if pending:
            encoded = base64.b64encode("".join(pending).encode("utf-16-be")).decode()
            out.append("&" + encoded.rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for ch in name:
        if " " <= ch <= "~":
            shift()
            out.append("&-" if ch == "&" else ch)
        else:
            pending.append(ch)
    shift()
    return _quoted("".join(out))


def _quoted(text: str) -> str:
    """An IMAP quoted string (RFC 3501 section 9)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _said_lines(lines: Iterable[Any]) -> str:
    text = b" ".join(bytes(line) for line in lines if isinstance(line, bytes))
    return text.decode("utf-8", "replace")[:300]


def _said(response: Any) -> str:
    """The server's words in a response, for an error message."""
    return _said_lines(response.lines)


def _ok(response: Any, what: str) -> Any:
    if response.result != "OK":
        raise ImapError(f"{what}: {response.result} {_said(response)}")
    return response


def _uid_set(uids: Iterable[int]) -> str:
    return ",".join(str(u) for u in uids)


class Session:
    """One logged-in connection to the server.

    Every command is raced against the connection's end: aioimaplib leaves a command waiting
    forever when the server hangs up (as Dovecot does, after a BYE, when a selected mailbox is
    deleted), so a lost connection must end the wait here.
    """

    def __init__(self, client: aioimaplib.IMAP4, lost: asyncio.Event) -> None:
        self._client = client
        self._lost = lost

    @classmethod
    async def open(cls, config: ImapConfig) -> Session:
        """Connect, secure the connection as configured, and log in."""
        lost = asyncio.Event()
        client = aioimaplib.IMAP4(
            host=config.host,
            port=config.port,
            timeout=COMMAND_TIMEOUT,
            conn_lost_cb=lambda _exc: lost.set(),
            ssl_context=_tls_context(config) if config.security == "tls" else None,
        )
        session = cls(client, lost)
        try:
            await session._call(client.wait_hello_from_server(), "connecting")
            if config.security == "starttls":
                await session._starttls(config)
            protocol = client.protocol
            # aioimaplib quotes the password but sends the user name as it is.
            login = protocol.login(_quoted(config.username), config.password)
            _ok(await session._call(login, "LOGIN"), f"LOGIN as {config.username}")
            # What the server offers after login (IDLE, MOVE ...) may differ from before.
            await session._call(protocol.capability(), "CAPABILITY")
        except BaseException:
            session.close()
            raise
        return session

    async def _call(
        self, command: Awaitable[Any], what: str, timeout: float | None = COMMAND_TIMEOUT
    ) -> Any:
        """The outcome of ``command``; ImapError if the connection ends or ``timeout`` passes
        first (None: aioimaplib's own inactivity timeout applies, as for a long FETCH)."""
        task = asyncio.ensure_future(command)
        lost = asyncio.ensure_future(self._lost.wait())
        try:
            done, _ = await asyncio.wait(
                {task, lost}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        except BaseException:
            task.cancel()
            raise
        finally:
            lost.cancel()
        if task in done:
            return task.result()
        task.cancel()
        if self._lost.is_set():
            raise ImapError(f"{what}: the server closed the connection")
        raise ImapError(f"{what}: no answer within {timeout:.0f} s")

    async def _starttls(self, config: ImapConfig) -> None:
        protocol = self._client.protocol
        if "STARTTLS" not in protocol.capabilities:
            raise ImapError("the server does not offer STARTTLS")
        command = aioimaplib.Command("STARTTLS", protocol.new_tag(), loop=protocol.loop)
        _ok(await self._call(protocol.execute(command), "STARTTLS"), "STARTTLS")
        # aioimaplib has no STARTTLS of its own: the same protocol object goes on reading
        # from the TLS transport the plain one is wrapped into.
        loop = asyncio.get_running_loop()
        handshake = loop.start_tls(
            protocol.transport, protocol, _tls_context(config), server_hostname=config.host
        )
        protocol.transport = await self._call(handshake, "the TLS handshake")
        # Capabilities announced before TLS must not be trusted (RFC 3501 6.2.1).
        await self._call(protocol.capability(), "CAPABILITY")

    def has(self, capability: str) -> bool:
        return capability in self._client.protocol.capabilities

    async def _command(self, what: str, name: str, *args: str) -> Any:
        """Run one of aioimaplib's UID commands (``uid``) or plain ones, checked to be OK."""
        protocol = self._client.protocol
        if name == "uid":
            call = protocol.uid(*args, timeout=COMMAND_TIMEOUT)
        elif name == "expunge":
            call = protocol.expunge()
        else:
            call = protocol.simple_command(name, *args)
        # A FETCH may take long on a slow link: aioimaplib gives up on it only when nothing
        # arrives for COMMAND_TIMEOUT.
        timeout = None if args[:1] == ("fetch",) else COMMAND_TIMEOUT
        return await self._call(call, what, timeout)

    async def select(self, mailbox: str) -> int:
        """Select ``mailbox``; its UIDVALIDITY."""
        what = f"SELECT {mailbox}"
        response = _ok(
            await self._call(self._client.protocol.select(mailbox_name(mailbox)), what), what
        )
        for line in response.lines:
            found = _UIDVALIDITY.search(line) if isinstance(line, bytes) else None
            if found:
                return int(found.group(1))
        raise ImapError(f"{what}: the server gave no UIDVALIDITY")

    async def _search(self, criteria: str) -> list[int]:
        what = f"UID SEARCH {criteria}"
        search = self._client.protocol.search(criteria, charset=None, by_uid=True)
        response = _ok(await self._call(search, what), what)
        # aioimaplib hands the untagged SEARCH's numbers without the word; the tagged
        # completion comes last.
        uids: list[int] = []
        for line in response.lines[:-1]:
            words = bytes(line).split()
            if words and words[0].upper() == b"SEARCH":
                words = words[1:]
            if all(w.isdigit() for w in words):
                uids.extend(int(w) for w in words)
        return sorted(set(uids))

    async def uids_after(self, last: int) -> list[int]:
        """The UIDs above ``last``, in order (``n:*`` also answers the highest UID when all
        are below ``n``: those are dropped)."""
        return [u for u in await self._search(f"UID {last + 1}:*") if u > last]

    async def uids_upto(self, last: int) -> list[int]:
        """The UIDs still in the mailbox at or below ``last``."""
        if last < 1:
            return []
        return [u for u in await self._search(f"UID 1:{last}") if u <= last]

    async def present(self, uids: list[int]) -> list[int]:
        """Those of ``uids`` still in the mailbox."""
        return await self._search(f"UID {_uid_set(uids)}")

    async def fetch(self, uids: list[int]) -> dict[int, bytes]:
        """The raw messages of ``uids`` (those expunged meanwhile are missing)."""
        fetched = await self._command(
            "UID FETCH", "uid", "fetch", _uid_set(uids), "(UID BODY.PEEK[])"
        )
        response = _ok(fetched, "UID FETCH")
        found: dict[int, bytes] = {}
        uid: int | None = None
        body: bytes | None = None
        for line in response.lines:
            if isinstance(line, bytearray):
                body = bytes(line)
            elif _FETCH_START.match(line):
                uid, body = None, None
            if isinstance(line, bytes):
                match = _FETCH_UID.search(line)
                if match:
                    uid = int(match.group(1))
            if uid is not None and body is not None:
                found[uid] = body
        return found

    async def move(self, uids: list[int], folder: str) -> None:
        """Move ``uids`` to ``folder``, creating it if the server asks for that."""
        if not uids:
            return
        target = mailbox_name(folder)
        response = await self._transfer(uids, target)
        if response.result != "OK" and "TRYCREATE" in _said(response).upper():
            await self._command(f"CREATE {folder}", "CREATE", target)
            response = await self._transfer(uids, target)
        _ok(response, f"moving {len(uids)} messages to {folder}")
        if not self.has("MOVE"):
            await self._expunge(uids)

    async def _transfer(self, uids: list[int], target: str) -> Any:
        verb = "move" if self.has("MOVE") else "copy"
        response = await self._command(f"UID {verb.upper()}", "uid", verb, _uid_set(uids), target)
        if verb == "copy" and response.result == "OK":
            flag = ("store", _uid_set(uids), "+FLAGS.SILENT", r"(\Deleted)")
            _ok(await self._command("UID STORE", "uid", *flag), "UID STORE \\Deleted")
        return response

    async def _expunge(self, uids: list[int]) -> None:
        if self.has("UIDPLUS"):
            response = await self._command("UID EXPUNGE", "uid", "expunge", _uid_set(uids))
        else:
            # Without UIDPLUS, EXPUNGE also removes whatever else is marked \Deleted here.
            response = await self._command("EXPUNGE", "expunge")
        _ok(response, "EXPUNGE")

    async def wait_for_news(self, poll_seconds: float) -> None:
        """Return when the mailbox may have changed: on the server's word during IDLE (or
        when the IDLE is due for renewal), else after ``poll_seconds``."""
        if self.has("IDLE"):
            await self._idle()
            return
        lost = asyncio.ensure_future(self._lost.wait())
        try:
            await asyncio.wait({lost}, timeout=poll_seconds)
        finally:
            lost.cancel()
        if self._lost.is_set():
            raise ImapError("the server closed the connection")

    async def _idle(self) -> None:
        client = self._client
        idle = await self._call(client.idle_start(timeout=IDLE_RENEW_SECONDS), "IDLE")
        # Any word from the server (EXISTS, EXPUNGE, flags) or the renewal's own wake-up.
        pushed = await self._call(client.wait_server_push(timeout=None), "IDLE", None)
        if any(bytes(line).upper().startswith(b"BYE") for line in pushed):
            raise ImapError(f"the server ended the session: {_said_lines(pushed)}")
        client.idle_done()
        _ok(await self._call(idle, "IDLE"), "IDLE")

    def close(self) -> None:
        """Drop the connection (no LOGOUT: this runs on errors and cancellation too)."""
        client = self._client
        waiter = getattr(client, "_idle_waiter", None)
        if waiter is not None:
            waiter.cancel()
        for task in [*client.tasks, *client.protocol.tasks]:
            task.cancel()
        connecting = getattr(client, "_client_task", None)
        if connecting is not None and not connecting.done():
            connecting.cancel()
        transport = client.protocol.transport
        if transport is not None:
            transport.close()


async def _import_new(
    session: Session,
    db: Database,
    blobs: BlobStore,
    *,
    company_id: int,
    channel_id: int,
    mailbox: str,
    uidvalidity: int,
    last: int,
    move_to: str | None,
    wake: Callable[[], None],
) -> int:
    """Queue the messages above ``last`` (and move them); the new position. ``wake`` tells
    the intake worker of this process that rows are committed."""
    uids = await session.uids_after(last)
    for start in range(0, len(uids), FETCH_BATCH):
        batch = uids[start : start + FETCH_BATCH]
        raws = await session.fetch(batch)
        missing = [uid for uid in batch if uid not in raws]
        if missing and await session.present(missing):
            # Skipping it would move the position past a message never imported.
            raise ImapError(f"UID FETCH did not return the messages {missing}")
        queued = []
        for uid in batch:
            raw = raws.get(uid)
            if raw is None:
                continue  # expunged since the search
            sha256 = await email_in.store_raw(blobs, raw)
            await imap_domain.do_queue_message(
                db,
                company_id=company_id,
                channel_id=channel_id,
                mailbox=mailbox,
                uidvalidity=uidvalidity,
                uid=uid,
                sha256=sha256,
                size=len(raw),
            )
            queued.append(uid)
            last = uid
        if queued:
            wake()
        if move_to:
            await session.move(queued, move_to)
        if queued:
            logger.info("IMAP channel %s %s: %d messages queued", channel_id, mailbox, len(queued))
    return last


async def import_mailbox(
    db: Database,
    blobs: BlobStore,
    *,
    company_id: int,
    channel_id: int,
    config: ImapConfig,
    mailbox: str,
    poll_seconds: float,
    wake: Callable[[], None],
) -> None:
    """Import ``mailbox`` as the module says, until cancelled."""
    where = f"channel {channel_id}, {config.username} at {config.host}:{config.port}, {mailbox}"
    move_to = config.move_to if mailbox != config.sent_mailbox else None
    delay = BACKOFF_FIRST
    while True:
        session: Session | None = None
        try:
            session = await Session.open(config)
            uidvalidity = await session.select(mailbox)
            last = await imap_domain.do_open_mailbox(
                db,
                company_id=company_id,
                channel_id=channel_id,
                mailbox=mailbox,
                uidvalidity=uidvalidity,
            )
            if move_to:
                # Left behind by a stop between a commit and its move.
                await session.move(await session.uids_upto(last), move_to)
            while True:
                last = await _import_new(
                    session,
                    db,
                    blobs,
                    company_id=company_id,
                    channel_id=channel_id,
                    mailbox=mailbox,
                    uidvalidity=uidvalidity,
                    last=last,
                    move_to=move_to,
                    wake=wake,
                )
                await session.wait_for_news(poll_seconds)
                # A whole round went well: the next failure starts the backoff afresh.
                delay = BACKOFF_FIRST
        except (ImapError, aioimaplib.AioImapException, OSError, TimeoutError) as exc:
            # OSError covers refused connections, resolver and TLS failures.
            reason = str(exc) or type(exc).__name__
            logger.warning("IMAP %s: %s; trying again in %.0f s", where, reason, delay)
        except PositionMoved as exc:
            logger.info("IMAP %s: %s; reading the position again", where, exc)
        except Exception:
            logger.exception("IMAP %s failed; trying again in %.0f s", where, delay)
        finally:
            if session is not None:
                session.close()
        await asyncio.sleep(delay)
        delay = min(delay * 2, BACKOFF_MAX)


async def run_channel(
    db: Database,
    blobs: BlobStore,
    *,
    company_id: int,
    channel_id: int,
    config: ImapConfig,
    poll_seconds: float,
    wake: Callable[[], None],
) -> None:
    """Import every mailbox of the channel's configuration, each on its own connection, until
    cancelled."""
    async with asyncio.TaskGroup() as group:
        for mailbox in config.sources():
            group.create_task(
                import_mailbox(
                    db,
                    blobs,
                    company_id=company_id,
                    channel_id=channel_id,
                    config=config,
                    mailbox=mailbox,
                    poll_seconds=poll_seconds,
                    wake=wake,
                ),
                name=f"imap-{channel_id}-{mailbox}",
            )
