"""Message templates (Front tag "Message Templates"): company, team, private and folder
templates, with attachments.

Creating or updating with files is ``multipart/form-data``: one form field per JSON property
(``inbox_ids[]`` repeated) and the files as ``attachments[]``, 25 MB each. Files sent on an
update replace the template's attachments; JSON ``"attachments": []`` removes them all.
Lists are keyset pages sorted by ``sort_by`` (``created_at``, ``updated_at``, or
``sort_order``: Porch has no manual order, so creation order) and ``sort_order``.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from porch import ids
from porch.api import multipart
from porch.api.http import Request, Response, json_response, no_content
from porch.api.models import Body, Name, Ref, Refs, ShortText, Text
from porch.api.pagination import collection, read_page
from porch.api.routing import Routes
from porch.api.shapes import attachment_json, owner_link
from porch.domain.errors import BadRequest
from porch.domain.message_templates import access, templates
from porch.domain.teammates import access_teammate, private_owner
from porch.domain.teams import access_team
from porch.store.message_templates import Folder, Template

routes = Routes()

READ = "message_templates:read"
WRITE = "message_templates:write"
SORTS = {"created_at": "created_at", "updated_at": "updated_at", "sort_order": "id"}


class CreateSharedTemplate(Body):
    name: Name
    subject: ShortText | None = None
    body: Text
    folder_id: Ref | None = None
    inbox_ids: Refs | None = None


class CreatePrivateTemplate(Body):
    name: Name
    subject: ShortText | None = None
    body: Text
    folder_id: Ref | None = None


class CreateChildTemplate(Body):
    name: Name
    subject: ShortText | None = None
    body: Text
    inbox_ids: Refs | None = None


class UpdateTemplate(Body):
    name: Name | None = None
    subject: ShortText | None = None
    body: Text | None = None
    folder_id: Ref | None = None
    inbox_ids: Refs | None = None
    # Files come as multipart parts; in JSON only the empty list (remove them all) makes sense.
    attachments: Annotated[list[Ref], Field(max_length=0)] | None = None


def folder_link(req: Request, folder_id: int | None) -> str | None:
    if folder_id is None:
        return None
    fid = ids.encode(ids.MESSAGE_TEMPLATE_FOLDER, folder_id)
    return f"{req.base_url}/message_template_folders/{fid}"


def _links(req: Request, tpl: Template) -> dict[str, Any]:
    tid = ids.encode(ids.MESSAGE_TEMPLATE, tpl.id)
    return {
        "self": f"{req.base_url}/message_templates/{tid}",
        "related": {
            "owner": owner_link(req, tpl.team_id, tpl.owner_teammate_id),
            "parent_folder": folder_link(req, tpl.folder_id),
        },
    }


def template_json(req: Request, view: access.TemplateView) -> dict[str, Any]:
    tpl = view.template
    return {
        "_links": _links(req, tpl),
        "id": ids.encode(ids.MESSAGE_TEMPLATE, tpl.id),
        "name": tpl.name,
        "subject": tpl.subject,
        "body": tpl.body,
        "attachments": [attachment_json(req, a) for a in view.attachments],
        # SQLite hands booleans back as 0/1.
        "is_available_for_all_inboxes": bool(tpl.is_available_for_all_inboxes),
        "inbox_ids": (
            None
            if view.inbox_ids is None
            else [ids.encode(ids.INBOX, key) for key in view.inbox_ids]
        ),
    }


def template_summary_json(req: Request, tpl: Template) -> dict[str, Any]:
    """A template as Front's spec documents the items of a folder's template list: with the
    properties of a folder only (fetch the template for its subject, body and files)."""
    return {
        "_links": _links(req, tpl),
        "id": ids.encode(ids.MESSAGE_TEMPLATE, tpl.id),
        "name": tpl.name,
        "created_at": tpl.created_at / 1000,
        "updated_at": tpl.updated_at / 1000,
    }


def sorted_page(req: Request, sorts: dict[str, str]) -> tuple[str, tuple[int, int] | None, Any]:
    """The column a list is sorted by, the (value, id) key to continue after, and the page."""
    page = read_page(req, key_width=2, sort_fields=tuple(sorts))
    after = None
    if page.after is not None:
        value, key = page.after
        if not isinstance(value, int) or not isinstance(key, int):
            raise BadRequest("Invalid page_token")
        after = (value, key)
    return sorts[page.sort_by] if page.sort_by else "id", after, page


async def _views(req: Request, rows: list[Template]) -> list[dict[str, Any]]:
    views = await access.template_views(req.db, principal=req.principal, templates=rows)
    return [template_json(req, v) for v in views]


async def _page(req: Request, scope: str, owner: int | None, *, summary: bool = False) -> Response:
    sort, after, page = sorted_page(req, SORTS)
    rows, nxt = await access.list_templates(
        req.db,
        principal=req.principal,
        scope=scope,
        owner=owner,
        sort=sort,
        after=after,
        limit=page.limit,
        descending=page.descending,
    )
    if summary:
        return collection(req, [template_summary_json(req, t) for t in rows], nxt)
    return collection(req, await _views(req, rows), nxt)


async def _render(req: Request, tpl: Template, status: int = 200) -> Response:
    [view] = await access.template_views(req.db, principal=req.principal, templates=[tpl])
    return json_response(template_json(req, view), status)


async def _create_shared(req: Request, owner: access.Owner) -> Response:
    body, files = await multipart.parse_with_files(req, CreateSharedTemplate)
    tpl = await templates.do_create_template(
        req.db,
        principal=req.principal,
        owner=owner,
        name=body.name,
        subject=body.subject,
        body=body.body,
        folder=body.folder_id,
        inbox_refs=body.inbox_ids,
        files=files,
    )
    return await _render(req, tpl, 201)


@routes.get("/message_templates", "list-message-templates", scope=READ)
async def list_message_templates(req: Request) -> Response:
    """List every message template the token can see."""
    return await _page(req, "all", None)


@routes.post(
    "/message_templates",
    "create-message-template",
    scope=WRITE,
    status=201,
    body=CreateSharedTemplate,
)
async def create_message_template(req: Request) -> Response:
    """Create a message template in the oldest team the token reaches."""
    owner = await access.team_owner(req.db, principal=req.principal, team_ref=None)
    return await _create_shared(req, owner)


@routes.get("/teams/{team_id}/message_templates", "list-team-message-templates", scope=READ)
async def list_team_message_templates(req: Request) -> Response:
    """List a team's message templates."""
    team = await access_team(req.db, principal=req.principal, ref=req.path_params["team_id"])
    return await _page(req, "team", team.id)


@routes.post(
    "/teams/{team_id}/message_templates",
    "create-team-message-template",
    scope=WRITE,
    status=201,
    body=CreateSharedTemplate,
)
async def create_team_message_template(req: Request) -> Response:
    """Create a message template owned by a team."""
    owner = await access.team_owner(
        req.db, principal=req.principal, team_ref=req.path_params["team_id"]
    )
    return await _create_shared(req, owner)


@routes.get(
    "/teammates/{teammate_id}/message_templates", "list-teammate-message-templates", scope=READ
)
async def list_teammate_message_templates(req: Request) -> Response:
    """List a teammate's private message templates."""
    teammate = await access_teammate(
        req.db, principal=req.principal, ref=req.path_params["teammate_id"]
    )
    private_owner(req.principal, teammate)
    return await _page(req, "teammate", teammate.id)


@routes.post(
    "/teammates/{teammate_id}/message_templates",
    "create-teammate-message-template",
    scope=WRITE,
    status=201,
    body=CreatePrivateTemplate,
)
async def create_teammate_message_template(req: Request) -> Response:
    """Create a private message template for a teammate."""
    owner = await access.teammate_owner(
        req.db, principal=req.principal, teammate_ref=req.path_params["teammate_id"]
    )
    body = await req.parse(CreatePrivateTemplate)
    tpl = await templates.do_create_template(
        req.db,
        principal=req.principal,
        owner=owner,
        name=body.name,
        subject=body.subject,
        body=body.body,
        folder=body.folder_id,
    )
    return await _render(req, tpl, 201)


@routes.get(
    "/message_template_folders/{message_template_folder_id}/message_templates",
    "get-child-templates",
    scope=READ,
)
async def get_child_templates(req: Request) -> Response:
    """List the templates directly in a folder (as Front's spec documents them: id, name,
    links and times)."""
    folder = await _folder(req)
    return await _page(req, "folder", folder.id, summary=True)


@routes.post(
    "/message_template_folders/{message_template_folder_id}/message_templates",
    "create-child-template",
    scope=WRITE,
    status=201,
    body=CreateChildTemplate,
)
async def create_child_template(req: Request) -> Response:
    """Create a message template in a folder, with the folder's owner."""
    folder = await _folder(req)
    body = await req.parse(CreateChildTemplate)
    tpl = await templates.do_create_template(
        req.db,
        principal=req.principal,
        owner=access.child_owner(folder),
        name=body.name,
        subject=body.subject,
        body=body.body,
        folder=folder,
        inbox_refs=body.inbox_ids,
    )
    return await _render(req, tpl, 201)


async def _folder(req: Request) -> Folder:
    return await access.access_folder(
        req.db, principal=req.principal, ref=req.path_params["message_template_folder_id"]
    )


async def _template(req: Request) -> Template:
    return await access.access_template(
        req.db, principal=req.principal, ref=req.path_params["message_template_id"]
    )


@routes.get("/message_templates/{message_template_id}", "get-message-template", scope=READ)
async def get_message_template(req: Request) -> Response:
    """Fetch a message template with its attachments."""
    return await _render(req, await _template(req))


@routes.patch(
    "/message_templates/{message_template_id}",
    "update-message-template",
    scope=WRITE,
    body=UpdateTemplate,
)
async def update_message_template(req: Request) -> Response:
    """Update a message template; only the fields sent change, files sent replace its files."""
    tpl = await _template(req)
    body, stored = await multipart.parse_with_files(req, UpdateTemplate)
    changes = body.sent()
    files = stored if stored else ([] if body.attachments == [] else None)
    updated = await templates.do_update_template(
        req.db, principal=req.principal, template=tpl, changes=changes, files=files
    )
    return await _render(req, updated)


@routes.delete(
    "/message_templates/{message_template_id}",
    "delete-message-template",
    scope="message_templates:delete",
    status=204,
)
async def delete_message_template(req: Request) -> Response:
    """Delete a message template and its attachments."""
    tpl = await _template(req)
    await templates.do_delete_template(req.db, principal=req.principal, template=tpl)
    return no_content()
