"""Attachments (Front tag "Attachments"): download an attached file's bytes.

The generic ``/download/{id}`` serves any attachment the token may see (of a comment, a message,
a draft or a message template); the per-comment, per-message and per-template routes also
insist the file belongs to that comment, message (a draft is a message here) or template.
"""

from __future__ import annotations

from urllib.parse import quote

from porch.api.http import Request, Response
from porch.api.routing import Routes
from porch.domain import attachments as domain
from porch.domain.comments import access_comment
from porch.domain.message_templates.access import TEMPLATE, access_template
from porch.domain.messages import access_message, owner_type
from porch.store.attachments import COMMENT, Attachment

routes = Routes()


def content_disposition(filename: str) -> str:
    """``attachment`` with the name both as an ASCII fallback and as RFC 8187 UTF-8."""
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\' else "_" for ch in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


async def _file(req: Request, attachment: Attachment) -> Response:
    data = await domain.read(req.app.blobs, attachment=attachment)
    return Response(
        200,
        data,
        attachment.content_type,
        # Uploaded content is served as a download, never rendered as this origin's page.
        headers=[
            ("content-disposition", content_disposition(attachment.filename)),
            ("x-content-type-options", "nosniff"),
        ],
    )


@routes.get("/download/{attachment_link_id}", "download-attachment", scope="attachments:read")
async def download_attachment(req: Request) -> Response:
    """Download an attachment."""
    attachment = await domain.access_attachment(
        req.db, principal=req.principal, ref=req.path_params["attachment_link_id"]
    )
    return await _file(req, attachment)


@routes.get(
    "/comments/{comment_id}/download/{attachment_link_id}",
    "download-attachment-for-a-comment",
    scope="attachments:read",
)
async def download_attachment_for_a_comment(req: Request) -> Response:
    """Download an attachment of a comment."""
    comment = await access_comment(
        req.db, principal=req.principal, ref=req.path_params["comment_id"]
    )
    attachment = await domain.access_attachment(
        req.db,
        principal=req.principal,
        ref=req.path_params["attachment_link_id"],
        owner_type=COMMENT,
        owner_id=comment.id,
    )
    return await _file(req, attachment)


@routes.get(
    "/messages/{message_id}/download/{attachment_link_id}",
    "download-attachment-for-a-message",
    scope="attachments:read",
)
async def download_attachment_for_a_message(req: Request) -> Response:
    """Download an attachment of a message (or of a draft)."""
    message = await access_message(
        req.db, principal=req.principal, ref=req.path_params["message_id"]
    )
    attachment = await domain.access_attachment(
        req.db,
        principal=req.principal,
        ref=req.path_params["attachment_link_id"],
        owner_type=owner_type(message),
        owner_id=message.id,
    )
    return await _file(req, attachment)


@routes.get(
    "/message_templates/{message_template_id}/download/{attachment_link_id}",
    "download-attachment-for-a-message-template",
    scope="attachments:read",
)
async def download_attachment_for_a_message_template(req: Request) -> Response:
    """Download an attachment of a message template."""
    template = await access_template(
        req.db, principal=req.principal, ref=req.path_params["message_template_id"]
    )
    attachment = await domain.access_attachment(
        req.db,
        principal=req.principal,
        ref=req.path_params["attachment_link_id"],
        owner_type=TEMPLATE,
        owner_id=template.id,
    )
    return await _file(req, attachment)
