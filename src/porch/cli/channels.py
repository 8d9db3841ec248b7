"""``porch channels imap``: make an email channel import an IMAP mailbox, or stop it.

The password is read from a file (``-`` for standard input), never from the command line,
where other users of the machine could read it in the process list.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from porch.cli.common import add_data_dir, fail
from porch.cli.teams import run_as_admin
from porch.domain import imap
from porch.domain.channels import access_channel
from porch.domain.errors import BadRequest
from porch.domain.principal import Principal
from porch.store.db import Database


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("channels", help="manage channels")
    csub = p.add_subparsers(dest="channels_cmd", required=True)
    i = csub.add_parser("imap", help="import an IMAP mailbox into an email channel")
    add_data_dir(i)
    i.add_argument("channel", help="cha_… or the channel's address")
    i.add_argument("--company", default=None, help="cmp_… or the company's name")
    i.add_argument("--host", help="the IMAP server")
    i.add_argument("--port", type=int, default=None, help="default 993 with tls, else 143")
    i.add_argument("--security", choices=imap.SECURITIES, default="tls")
    i.add_argument("--username")
    i.add_argument("--password-file", help="a file holding the password (- for stdin)")
    i.add_argument(
        "--mailbox",
        action="append",
        dest="mailboxes",
        help="a mailbox to import (repeatable; default INBOX)",
    )
    i.add_argument("--sent-mailbox", help="the sent folder, imported as the team's own copies")
    i.add_argument("--move-to", help="a folder to move imported messages to")
    i.add_argument(
        "--no-verify-tls",
        dest="verify_tls",
        action="store_false",
        help="accept any certificate (a self-signed one on a trusted network)",
    )
    i.add_argument("--remove", action="store_true", help="stop importing")
    i.add_argument("--json", action="store_true")
    i.set_defaults(func=imap_)


def _ref(value: str) -> str:
    """A bare address is taken as ``alt:address:``."""
    if "@" in value and not value.startswith("alt:"):
        return f"alt:address:{value}"
    return value


def _password(path: str | None) -> str | None:
    if path is None:
        return None
    text = sys.stdin.read() if path == "-" else Path(path).read_text()
    # Only the line end a file's last line carries is not part of the password.
    return text.removesuffix("\n").removesuffix("\r")


def imap_(args: argparse.Namespace) -> None:
    if not args.remove and (args.host is None or args.username is None):
        fail("--host and --username are required (or --remove)")
    password = None if args.remove else _password(args.password_file)

    async def action(db: Database, principal: Principal) -> imap.ImapConfig | None:
        channel = await access_channel(db, principal=principal, ref=_ref(args.channel))
        if args.remove:
            await imap.do_remove_imap(db, principal=principal, channel=channel)
            return None
        try:
            return await imap.do_set_imap(
                db,
                principal=principal,
                channel=channel,
                host=args.host,
                port=args.port,
                security=args.security,
                username=args.username,
                password=password,
                mailboxes=args.mailboxes,
                sent_mailbox=args.sent_mailbox,
                move_to=args.move_to,
                verify_tls=args.verify_tls,
            )
        except BadRequest as exc:
            raise BadRequest("; ".join([exc.message, *exc.details])) from exc

    config = run_as_admin(args, action)
    if config is None:
        print(f"{args.channel} no longer imports an IMAP mailbox.")
    elif args.json:
        print(json.dumps(config.shown()))
    else:
        where = f"{config.username} at {config.host}:{config.port} ({config.security})"
        print(f"{args.channel} imports {', '.join(config.sources())} of {where}.")
