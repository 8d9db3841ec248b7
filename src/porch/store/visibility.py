"""The SQL form of token visibility, so that lists filter before they page.

Resources owned by nobody (company tags), by a team (shared inboxes, team tags) or by a
teammate (private inboxes, private tags) are visible as ``Principal.visibility`` says:
company-level ones to any token with a shared or team namespace; team-owned ones to shared
tokens and to the token of that team; teammate-owned ones only to private tokens, and only when
the teammate allowed API access to their private resources.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from porch.store.db import in_list
from porch.store.tables import teammates


def _flag(name: str) -> sa.BindParameter[bool]:
    return sa.bindparam(name, type_=sa.Boolean)


def consenting_teammates() -> sa.Select[Any]:
    """Keys of the teammates of ``:company_id`` who allow API access to private resources."""
    return sa.select(teammates.c.id).where(
        teammates.c.company_id == sa.bindparam("company_id"),
        teammates.c.api_private_access == sa.true(),
    )


def owned_by_visible(table: sa.Table) -> ColumnElement[bool]:
    """Rows of ``table`` (with ``team_id`` and ``owner_teammate_id``) the caller may see."""
    team = table.c.team_id
    owner = table.c.owner_teammate_id
    return sa.or_(
        sa.and_(team.is_(None), owner.is_(None), _flag("company")),
        sa.and_(team.is_not(None), sa.or_(_flag("shared"), in_list(team, "team_ids"))),
        sa.and_(owner.is_not(None), _flag("private"), owner.in_(consenting_teammates())),
    )
