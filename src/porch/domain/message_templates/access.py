"""Owners, folders and templates as a token finds them: access by id, views, pages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from porch import ids
from porch.domain import teammates as teammates_domain
from porch.domain.errors import BadRequest, not_found
from porch.domain.principal import Principal
from porch.domain.teams import access_team, oldest_team
from porch.store import attachments as attachments_store
from porch.store import message_templates as store
from porch.store.attachments import Attachment
from porch.store.db import Database, Reader

TEMPLATE = attachments_store.TEMPLATE


@dataclass(frozen=True, slots=True)
class Owner:
    """Where a template or folder lives: a team, or a teammate (private)."""

    team_id: int | None = None
    teammate_id: int | None = None


@dataclass(frozen=True, slots=True)
class TemplateView:
    """A template with its files (in upload order) and the inboxes it is restricted to (None:
    every inbox)."""

    template: store.Template
    attachments: list[Attachment]
    inbox_ids: list[int] | None


def owner_of(row: store.Folder | store.Template) -> Owner:
    """Whom a folder or template belongs to."""
    return Owner(row.team_id, row.owner_teammate_id)


async def team_owner(conn: Reader, *, principal: Principal, team_ref: str | None) -> Owner:
    """The team ``team_ref`` names, or the oldest team the token reaches (Front's endpoints
    without an owner in the path)."""
    if team_ref is None:
        team = await oldest_team(conn, principal=principal)
    else:
        team = await access_team(conn, principal=principal, ref=team_ref)
    return Owner(team_id=team.id)


async def teammate_owner(conn: Reader, *, principal: Principal, teammate_ref: str) -> Owner:
    """A teammate whose private templates the token may reach (private scope and consent)."""
    teammate = await teammates_domain.access_teammate(conn, principal=principal, ref=teammate_ref)
    teammates_domain.private_owner(principal, teammate)
    return Owner(teammate_id=teammate.id)


async def access_folder(conn: Reader, *, principal: Principal, ref: str) -> store.Folder:
    """The folder ``ref`` (``rsf_...``) names, if the token sees it; NotFound otherwise."""
    key = ids.decode(ids.MESSAGE_TEMPLATE_FOLDER, ref)
    found = None
    if key is not None:
        found = await store.get_folder(
            conn, company_id=principal.company_id, key=key, vis=principal.visibility()
        )
    if found is None:
        raise not_found("message template folder", ref)
    return found


async def access_template(conn: Reader, *, principal: Principal, ref: str) -> store.Template:
    """The template ``ref`` (``rsp_...``) names, if the token sees it; NotFound otherwise."""
    key = ids.decode(ids.MESSAGE_TEMPLATE, ref)
    found = None
    if key is not None:
        found = await store.get_template(
            conn, company_id=principal.company_id, key=key, vis=principal.visibility()
        )
    if found is None:
        raise not_found("message template", ref)
    return found


async def template_views(
    conn: Reader, *, principal: Principal, templates: Sequence[store.Template]
) -> list[TemplateView]:
    """Each template with its attachments and inbox restriction (two queries for the lot)."""
    keys = [tpl.id for tpl in templates]
    files = await attachments_store.of_owners(
        conn, company_id=principal.company_id, owner_type=TEMPLATE, keys=keys
    )
    inboxes = await store.inboxes_of(conn, company_id=principal.company_id, keys=keys)
    return [
        TemplateView(
            tpl,
            files.get(tpl.id, []),
            None if tpl.is_available_for_all_inboxes else inboxes.get(tpl.id, []),
        )
        for tpl in templates
    ]


Row = TypeVar("Row", store.Folder, store.Template)


class _PageOf(Protocol[Row]):
    async def __call__(
        self,
        conn: Reader,
        /,
        *,
        company_id: int,
        vis: dict[str, object],
        scope: str,
        owner: int | None,
        sort: str,
        after: tuple[int, int] | None,
        limit: int,
        descending: bool,
    ) -> list[Row]: ...


async def _page(
    fetch: _PageOf[Row],
    db: Database,
    principal: Principal,
    *,
    scope: str,
    owner: int | None,
    sort: str,
    after: tuple[int, int] | None,
    limit: int,
    descending: bool,
) -> tuple[list[Row], list[int] | None]:
    """A page of what ``fetch`` reads (one row more than ``limit``, to know if there is a
    next page) and the key to continue after."""
    rows = await fetch(
        db,
        company_id=principal.company_id,
        vis=principal.visibility(),
        scope=scope,
        owner=owner,
        sort=sort,
        after=after,
        limit=limit + 1,
        descending=descending,
    )
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], [int(getattr(last, sort)), last.id]


async def list_folders(
    db: Database,
    *,
    principal: Principal,
    scope: str,
    owner: int | None,
    sort: str,
    after: tuple[int, int] | None,
    limit: int,
    descending: bool,
) -> tuple[list[store.Folder], list[int] | None]:
    """A page of visible folders and the key to continue after, if there may be more."""
    return await _page(
        store.folder_page,
        db,
        principal,
        scope=scope,
        owner=owner,
        sort=sort,
        after=after,
        limit=limit,
        descending=descending,
    )


async def list_templates(
    db: Database,
    *,
    principal: Principal,
    scope: str,
    owner: int | None,
    sort: str,
    after: tuple[int, int] | None,
    limit: int,
    descending: bool,
) -> tuple[list[store.Template], list[int] | None]:
    """A page of visible templates and the key to continue after, if there may be more."""
    return await _page(
        store.template_page,
        db,
        principal,
        scope=scope,
        owner=owner,
        sort=sort,
        after=after,
        limit=limit,
        descending=descending,
    )


def check_name(name: object, kind: str) -> None:
    """BadRequest unless ``name`` is a string with something besides whitespace."""
    if not isinstance(name, str) or not name.strip():
        raise BadRequest(f"A {kind} name cannot be blank")


def same_owner(owner: Owner, folder: store.Folder, what: str) -> None:
    """BadRequest unless ``folder`` belongs to ``owner`` (what goes in a folder has its owner)."""
    if owner_of(folder) != owner:
        raise BadRequest(f"A {what} must have the same owner as its folder")


def child_owner(folder: store.Folder) -> Owner:
    """The owner of whatever is created inside ``folder``."""
    return owner_of(folder)
