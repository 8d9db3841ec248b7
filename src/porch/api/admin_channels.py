"""Porch's admin API for channels: importing an IMAP mailbox into an email channel.

``PUT /porch/channels/{channel_id}/imap`` sets what the channel imports (the body is the
configuration of ``domain/imap.py``; ``password`` may be left out to keep the stored one),
``GET`` shows it with the password masked and how far each mailbox is imported, ``DELETE``
stops the import. Needs a token with the ``provisioning`` namespace.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StrictInt

from porch import ids
from porch.api.http import Request, Response, json_response, no_content
from porch.api.models import Body, ShortText
from porch.api.routing import Routes
from porch.domain import imap
from porch.domain.channels import access_channel
from porch.domain.errors import NotFound
from porch.store.channels import Channel
from porch.store.db import Reader
from porch.timeutil import to_api

routes = Routes()

Mailbox = Annotated[ShortText, Field(min_length=1, max_length=255)]


class SetImap(Body):
    host: Annotated[ShortText, Field(min_length=1, max_length=255)]
    port: StrictInt | None = None
    security: Literal["tls", "starttls", "none"] = "tls"
    username: Annotated[ShortText, Field(min_length=1, max_length=320)]
    password: Annotated[ShortText, Field(min_length=1)] | None = None
    mailboxes: Annotated[list[Mailbox], Field(min_length=1, max_length=imap.MAX_MAILBOXES)] = [
        "INBOX"
    ]
    sent_mailbox: Mailbox | None = None
    move_to: Mailbox | None = None
    verify_tls: bool = True


async def _imap_json(conn: Reader, channel: Channel, config: imap.ImapConfig) -> dict[str, object]:
    states = await imap.positions(conn, channel=channel)
    return {
        "channel_id": ids.encode(ids.CHANNEL, channel.id),
        **config.shown(),
        "mailbox_states": [
            {
                "mailbox": s.mailbox,
                "uidvalidity": s.uidvalidity,
                "last_uid": s.last_uid,
                "updated_at": to_api(s.updated_at),
            }
            for s in states
        ],
    }


@routes.put(
    "/porch/channels/{channel_id}/imap",
    "porch-set-channel-imap",
    scope=None,
    body=SetImap,
    front=False,
)
async def porch_set_channel_imap(req: Request) -> Response:
    """Import an IMAP mailbox into this email channel (or change what it imports)."""
    req.principal.require_provisioning()
    channel = await access_channel(
        req.db, principal=req.principal, ref=req.path_params["channel_id"]
    )
    body = await req.parse(SetImap)
    config = await imap.do_set_imap(
        req.db,
        principal=req.principal,
        channel=channel,
        host=body.host,
        port=body.port,
        security=body.security,
        username=body.username,
        password=body.password,
        mailboxes=list(body.mailboxes),
        sent_mailbox=body.sent_mailbox,
        move_to=body.move_to,
        verify_tls=body.verify_tls,
    )
    return json_response(await _imap_json(req.db, channel, config))


@routes.get("/porch/channels/{channel_id}/imap", "porch-get-channel-imap", scope=None, front=False)
async def porch_get_channel_imap(req: Request) -> Response:
    """What this channel imports from IMAP (password masked), and how far."""
    req.principal.require_provisioning()
    channel = await access_channel(
        req.db, principal=req.principal, ref=req.path_params["channel_id"]
    )
    config = imap.config_of(channel)
    if config is None:
        raise NotFound("This channel imports no IMAP mailbox")
    return json_response(await _imap_json(req.db, channel, config))


@routes.delete(
    "/porch/channels/{channel_id}/imap",
    "porch-delete-channel-imap",
    scope=None,
    status=204,
    front=False,
)
async def porch_delete_channel_imap(req: Request) -> Response:
    """Stop importing this channel's IMAP mailbox."""
    req.principal.require_provisioning()
    channel = await access_channel(
        req.db, principal=req.principal, ref=req.path_params["channel_id"]
    )
    await imap.do_remove_imap(req.db, principal=req.principal, channel=channel)
    return no_content()
