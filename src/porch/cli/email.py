"""``porch smtp`` (the inbound SMTP server alone) and ``porch deliver`` (mail handed over by an
MTA's pipe transport, e.g. Postfix ``pipe``: ``porch deliver --channel ${recipient}``).

``porch deliver`` answers in sysexits codes, which MTAs understand: 0 taken (durable), 64 bad
usage, 65 empty or oversized message, 67 no email channel has that address (the MTA bounces),
70 an internal error, 75 a temporary failure such as a locked or unreachable database (the MTA
keeps the message and tries again).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys

from porch.channels.email import smtp_server
from porch.channels.email.addresses import split_plus
from porch.cli.common import add_data_dir, open_db, settings_of
from porch.cli.serve import with_smtp_args
from porch.storage.local import LocalBlobStore
from porch.store import channels as channels_store
from porch.workers.intake import run_intake

EX_OK = 0
EX_USAGE = 64
EX_DATAERR = 65
EX_NOUSER = 67
EX_SOFTWARE = 70
EX_TEMPFAIL = 75


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    s = sub.add_parser("smtp", help="run the inbound SMTP server (and the intake worker) alone")
    add_data_dir(s)
    s.add_argument("--smtp-port", type=int, default=None, help="default $PORCH_SMTP_PORT or 2525")
    s.add_argument("--smtp-host", default=None, help="default 127.0.0.1")
    s.set_defaults(func=smtp)
    d = sub.add_parser("deliver", help="take one message from standard input (an MTA's pipe)")
    add_data_dir(d)
    d.add_argument("--channel", required=True, help="the recipient address (an email channel's)")
    d.add_argument("--from", dest="sender", default=None, help="the envelope sender")
    d.set_defaults(func=deliver)


def smtp(args: argparse.Namespace) -> None:
    settings = with_smtp_args(settings_of(args), args)
    if settings.smtp_port is None:
        print("porch: no SMTP port (give --smtp-port)", file=sys.stderr)
        raise SystemExit(EX_USAGE)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("mail.log").setLevel(logging.WARNING)

    async def go() -> None:
        db = await open_db(settings)
        blobs = LocalBlobStore(settings.data_dir / "attachments")
        stop, wake = asyncio.Event(), asyncio.Event()
        worker = asyncio.create_task(
            run_intake(db, stop, wake, interval=settings.intake_poll_seconds, blobs=blobs)
        )
        server = await smtp_server.start(db, blobs, settings, wake.set)
        print(f"Inbound mail: smtp://{settings.smtp_host}:{settings.smtp_port}", flush=True)
        try:
            await server.serve_forever()
        finally:
            stop.set()
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
            server.close()
            await db.close()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(go())


def deliver(args: argparse.Namespace) -> None:
    raise SystemExit(_deliver(args))


def _deliver(args: argparse.Namespace) -> int:
    try:
        settings = settings_of(args)
    except Exception as exc:  # an unreadable data dir or environment: nothing was taken
        print(f"porch deliver: {exc}", file=sys.stderr)
        return EX_TEMPFAIL
    raw = sys.stdin.buffer.read(settings.smtp_max_bytes + 1)
    if not raw.strip():
        print("porch deliver: the message is empty", file=sys.stderr)
        return EX_DATAERR
    if len(raw) > settings.smtp_max_bytes:
        print(
            f"porch deliver: the message is over {settings.smtp_max_bytes} bytes", file=sys.stderr
        )
        return EX_DATAERR

    async def go() -> int:
        try:
            db = await open_db(settings)
        except Exception as exc:
            print(f"porch deliver: the database is unavailable: {exc}", file=sys.stderr)
            return EX_TEMPFAIL
        try:
            base, _ = split_plus(args.channel)
            channels = await channels_store.email_by_address(db, address=base)
            if not channels:
                print(f"porch deliver: no email channel has the address {base}", file=sys.stderr)
                return EX_NOUSER
            blobs = LocalBlobStore(settings.data_dir / "attachments")
            handler = smtp_server.Handler(db, blobs, settings)
            try:
                recipients = [(args.channel, ch) for ch in channels]
                await handler.accept(raw, args.sender, recipients, via="pipe")
            except Exception as exc:
                print(f"porch deliver: could not store the message: {exc}", file=sys.stderr)
                return EX_TEMPFAIL
            return EX_OK
        finally:
            await db.close()

    try:
        return asyncio.run(go())
    except Exception as exc:
        print(f"porch deliver: {exc}", file=sys.stderr)
        return EX_SOFTWARE
