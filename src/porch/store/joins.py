"""The join tables, named for ``crud.link`` and ``crud.unlink``."""

from __future__ import annotations

from porch.store import tables
from porch.store.crud import Join

TEAM_MEMBERS = Join(tables.team_members, "team_id", "teammate_id")
INBOX_ACCESS = Join(tables.inbox_access, "inbox_id", "teammate_id")
GROUP_MEMBERS = Join(tables.teammate_group_members, "group_id", "teammate_id")
GROUP_TEAMS = Join(tables.teammate_group_teams, "group_id", "team_id")
GROUP_INBOXES = Join(tables.teammate_group_inboxes, "group_id", "inbox_id")
CONVERSATION_INBOXES = Join(tables.conversation_inboxes, "conversation_id", "inbox_id")
CONVERSATION_TAGS = Join(tables.conversation_tags, "conversation_id", "tag_id")
CONVERSATION_FOLLOWERS = Join(tables.conversation_followers, "conversation_id", "teammate_id")
CONVERSATION_LINKS = Join(tables.conversation_links, "conversation_id", "link_id")
COMMENT_MENTIONS = Join(tables.comment_mentions, "comment_id", "teammate_id")
