"""The join tables, named for ``crud.link`` and ``crud.unlink``."""

from __future__ import annotations

from porch.store import tables
from porch.store.crud import Join

TEAM_MEMBERS = Join(tables.team_members, "team_id", "teammate_id")
INBOX_ACCESS = Join(tables.inbox_access, "inbox_id", "teammate_id")
GROUP_MEMBERS = Join(tables.teammate_group_members, "group_id", "teammate_id")
GROUP_TEAMS = Join(tables.teammate_group_teams, "group_id", "team_id")
GROUP_INBOXES = Join(tables.teammate_group_inboxes, "group_id", "inbox_id")
