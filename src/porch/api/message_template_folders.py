"""Message template folders (Front tag "Message Template Folders"): team, private and child
folders.

Deleting a folder answers Front's 202 once the folder, the folders below it and their templates
are gone (the deletion is done in one transaction before the answer, not later).
"""

from __future__ import annotations

from typing import Any

from porch import ids
from porch.api.http import Request, Response, json_response
from porch.api.message_templates import folder_link, sorted_page
from porch.api.models import Body, Name, Ref
from porch.api.pagination import collection
from porch.api.routing import Routes
from porch.api.shapes import owner_link
from porch.domain.message_templates import access, folders
from porch.domain.teammates import access_teammate, private_owner
from porch.domain.teams import access_team
from porch.store.message_templates import Folder

routes = Routes()

READ = "message_templates:read"
WRITE = "message_templates:write"
SORTS = {"created_at": "created_at", "updated_at": "updated_at"}


class CreateFolder(Body):
    name: Name
    parent_folder_id: Ref | None = None


class CreateChildFolder(Body):
    name: Name


class UpdateFolder(Body):
    name: Name | None = None
    parent_folder_id: Ref | None = None


def folder_json(req: Request, folder: Folder) -> dict[str, Any]:
    self_link = folder_link(req, folder.id)
    assert self_link is not None
    return {
        "_links": {
            "self": self_link,
            "related": {
                "owner": owner_link(req, folder.team_id, folder.owner_teammate_id),
                "parent_folder": folder_link(req, folder.parent_id),
                # Front gives null links when there is nothing there.
                "child_folders": (
                    self_link + "/message_template_folders" if folder.has_folders else None
                ),
                "child_answers": (
                    self_link + "/message_templates" if folder.has_templates else None
                ),
            },
        },
        "id": ids.encode(ids.MESSAGE_TEMPLATE_FOLDER, folder.id),
        "name": folder.name,
        "created_at": folder.created_at / 1000,
        "updated_at": folder.updated_at / 1000,
    }


async def _page(req: Request, scope: str, owner: int | None) -> Response:
    sort, after, page = sorted_page(req, SORTS)
    rows, nxt = await access.list_folders(
        req.db,
        principal=req.principal,
        scope=scope,
        owner=owner,
        sort=sort,
        after=after,
        limit=page.limit,
        descending=page.descending,
    )
    return collection(req, [folder_json(req, f) for f in rows], nxt)


async def _create(req: Request, owner: access.Owner) -> Response:
    body = await req.parse(CreateFolder)
    folder = await folders.do_create_folder(
        req.db, principal=req.principal, owner=owner, name=body.name, parent=body.parent_folder_id
    )
    return json_response(folder_json(req, folder), 201)


async def _folder(req: Request) -> Folder:
    return await access.access_folder(
        req.db, principal=req.principal, ref=req.path_params["message_template_folder_id"]
    )


@routes.get("/message_template_folders", "list-folders", scope=READ)
async def list_folders(req: Request) -> Response:
    """List every message template folder the token can see, at every level."""
    return await _page(req, "all", None)


@routes.post(
    "/message_template_folders", "create-folder", scope=WRITE, status=201, body=CreateFolder
)
async def create_folder(req: Request) -> Response:
    """Create a folder in the oldest team the token reaches."""
    return await _create(
        req, await access.team_owner(req.db, principal=req.principal, team_ref=None)
    )


@routes.get("/teams/{team_id}/message_template_folders", "list-team-folders", scope=READ)
async def list_team_folders(req: Request) -> Response:
    """List a team's folders, at every level."""
    team = await access_team(req.db, principal=req.principal, ref=req.path_params["team_id"])
    return await _page(req, "team", team.id)


@routes.post(
    "/teams/{team_id}/message_template_folders",
    "create-team-folder",
    scope=WRITE,
    status=201,
    body=CreateFolder,
)
async def create_team_folder(req: Request) -> Response:
    """Create a folder owned by a team."""
    owner = await access.team_owner(
        req.db, principal=req.principal, team_ref=req.path_params["team_id"]
    )
    return await _create(req, owner)


@routes.get(
    "/teammates/{teammate_id}/message_template_folders", "list-teammate-folders", scope=READ
)
async def list_teammate_folders(req: Request) -> Response:
    """List a teammate's private folders, at every level."""
    teammate = await access_teammate(
        req.db, principal=req.principal, ref=req.path_params["teammate_id"]
    )
    private_owner(req.principal, teammate)
    return await _page(req, "teammate", teammate.id)


@routes.post(
    "/teammates/{teammate_id}/message_template_folders",
    "create-teammate-folder",
    scope=WRITE,
    status=201,
    body=CreateFolder,
)
async def create_teammate_folder(req: Request) -> Response:
    """Create a private folder for a teammate."""
    owner = await access.teammate_owner(
        req.db, principal=req.principal, teammate_ref=req.path_params["teammate_id"]
    )
    return await _create(req, owner)


@routes.get("/message_template_folders/{message_template_folder_id}", "get-folder", scope=READ)
async def get_folder(req: Request) -> Response:
    """Fetch a folder."""
    return json_response(folder_json(req, await _folder(req)))


@routes.patch(
    "/message_template_folders/{message_template_folder_id}",
    "update-folder",
    scope=WRITE,
    body=UpdateFolder,
)
async def update_folder(req: Request) -> Response:
    """Rename a folder or move it (``parent_folder_id`` null: to the top level)."""
    folder = await _folder(req)
    body = await req.parse(UpdateFolder)
    updated = await folders.do_update_folder(
        req.db, principal=req.principal, folder=folder, changes=body.sent()
    )
    return json_response(folder_json(req, updated))


@routes.delete(
    "/message_template_folders/{message_template_folder_id}",
    "delete-folder",
    scope="message_templates:delete",
    status=202,
)
async def delete_folder(req: Request) -> Response:
    """Delete a folder with its child folders and templates."""
    folder = await _folder(req)
    await folders.do_delete_folder(req.db, principal=req.principal, folder=folder)
    return json_response(
        {
            "status": "accepted",
            "message_template_folder_id": ids.encode(ids.MESSAGE_TEMPLATE_FOLDER, folder.id),
        },
        202,
    )


@routes.get(
    "/message_template_folders/{message_template_folder_id}/message_template_folders",
    "get-child-folders",
    scope=READ,
)
async def get_child_folders(req: Request) -> Response:
    """List the folders directly inside a folder."""
    folder = await _folder(req)
    return await _page(req, "children", folder.id)


@routes.post(
    "/message_template_folders/{message_template_folder_id}/message_template_folders",
    "create-child-folder",
    scope=WRITE,
    status=201,
    body=CreateChildFolder,
)
async def create_child_folder(req: Request) -> Response:
    """Create a folder inside a folder, with the parent's owner."""
    parent = await _folder(req)
    body = await req.parse(CreateChildFolder)
    folder = await folders.do_create_folder(
        req.db,
        principal=req.principal,
        owner=access.child_owner(parent),
        name=body.name,
        parent=parent,
    )
    return json_response(folder_json(req, folder), 201)
