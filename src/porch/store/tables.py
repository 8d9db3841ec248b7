"""Table definitions: the single description of Porch's schema.

Every table carries ``company_id``: tenancy is a column, not a convention, and every query the
domain layer runs filters on it. Keys are integers (public ids are derived in ``porch.ids``).
Times are integer milliseconds. JSON is stored as text so that both databases read it the same.
Alembic migrations in ``migrations/versions`` create exactly these tables.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Key = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# Tables with an integer key are declared with sqlite_autoincrement=True: SQLite would otherwise
# hand a deleted row's key to the next row, and an old public id would name a new object.


def _pk() -> sa.Column[int]:
    return sa.Column("id", Key, primary_key=True, autoincrement=True)


def _company() -> sa.Column[int]:
    return sa.Column("company_id", Key, sa.ForeignKey("companies.id"), nullable=False)


def _ms(name: str, nullable: bool = False) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger, nullable=nullable)


companies = sa.Table(
    "companies",
    metadata,
    _pk(),
    sa.Column("name", sa.Text, nullable=False),
    # Ticketing (statuses) is on by default; Front answers 404 on /company/statuses when off.
    sa.Column("ticketing_enabled", sa.Boolean, nullable=False, server_default=sa.true()),
    # Requests per minute for API tokens, and whether Front's per-resource burst tiers apply.
    sa.Column("rate_limit_per_minute", sa.Integer, nullable=False),
    sa.Column("rate_limit_burst", sa.Boolean, nullable=False, server_default=sa.false()),
    # The number the company's next ticket gets (TICKET-n): taken and bumped in the transaction
    # that creates the conversation, so numbers are dense and never reused.
    sa.Column("next_ticket_number", sa.Integer, nullable=False, server_default="1"),
    _ms("created_at"),
    # Whether webhooks may target private, loopback or link-local addresses (issue 6).
    sa.Column(
        "allow_private_webhook_targets", sa.Boolean, nullable=False, server_default=sa.false()
    ),
    sqlite_autoincrement=True,
)

teams = sa.Table(
    "teams",
    metadata,
    _pk(),
    _company(),
    sa.Column("name", sa.Text, nullable=False),
    _ms("created_at"),
    sa.UniqueConstraint("company_id", "name"),
    sqlite_autoincrement=True,
)

teammates = sa.Table(
    "teammates",
    metadata,
    _pk(),
    _company(),
    sa.Column("email", sa.Text, nullable=False),
    sa.Column("username", sa.Text, nullable=False),
    sa.Column("first_name", sa.Text, nullable=False),
    sa.Column("last_name", sa.Text, nullable=False),
    sa.Column("is_admin", sa.Boolean, nullable=False),
    sa.Column("is_available", sa.Boolean, nullable=False),
    sa.Column("is_blocked", sa.Boolean, nullable=False),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("license_type", sa.Text, nullable=False),
    # The teammate's "allow API access to my private resources" preference.
    sa.Column("api_private_access", sa.Boolean, nullable=False),
    sa.Column("custom_fields", sa.Text, nullable=False),
    _ms("created_at"),
    _ms("updated_at"),
    # Emails compare case-insensitively: the column holds the lower-cased address.
    sa.UniqueConstraint("company_id", "email"),
    sa.UniqueConstraint("company_id", "username"),
    sqlite_autoincrement=True,
)

team_members = sa.Table(
    "team_members",
    metadata,
    _company(),
    sa.Column("team_id", Key, sa.ForeignKey("teams.id"), primary_key=True),
    sa.Column("teammate_id", Key, sa.ForeignKey("teammates.id"), primary_key=True),
    sa.Index(None, "teammate_id"),
)

inboxes = sa.Table(
    "inboxes",
    metadata,
    _pk(),
    _company(),
    sa.Column("name", sa.Text, nullable=False),
    # Exactly one owner: a team (shared inbox) or a teammate (private inbox).
    sa.Column("team_id", Key, sa.ForeignKey("teams.id"), nullable=True),
    sa.Column("owner_teammate_id", Key, sa.ForeignKey("teammates.id"), nullable=True),
    sa.Column("is_public", sa.Boolean, nullable=False),
    sa.Column("custom_fields", sa.Text, nullable=False),
    _ms("created_at"),
    sa.Index(None, "company_id", "id"),
    sqlite_autoincrement=True,
)

inbox_access = sa.Table(
    "inbox_access",
    metadata,
    _company(),
    sa.Column("inbox_id", Key, sa.ForeignKey("inboxes.id"), primary_key=True),
    sa.Column("teammate_id", Key, sa.ForeignKey("teammates.id"), primary_key=True),
    sa.Index(None, "teammate_id"),
)

channels = sa.Table(
    "channels",
    metadata,
    _pk(),
    _company(),
    sa.Column("inbox_id", Key, sa.ForeignKey("inboxes.id"), nullable=False),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=True),
    # Lower-cased receiving address (email address, phone number, custom handle); unique.
    sa.Column("address", sa.Text, nullable=True),
    sa.Column("send_as", sa.Text, nullable=True),
    sa.Column("settings", sa.Text, nullable=False),
    sa.Column("is_valid", sa.Boolean, nullable=False),
    _ms("created_at"),
    sa.UniqueConstraint("company_id", "address"),
    sa.Index(None, "inbox_id"),
    sqlite_autoincrement=True,
)

tags = sa.Table(
    "tags",
    metadata,
    _pk(),
    _company(),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("highlight", sa.Text, nullable=True),
    sa.Column("is_visible_in_conversation_lists", sa.Boolean, nullable=False),
    sa.Column("parent_id", Key, sa.ForeignKey("tags.id"), nullable=True),
    # At most one owner: none (company tag), a team, or a teammate (private tag).
    sa.Column("team_id", Key, sa.ForeignKey("teams.id"), nullable=True),
    sa.Column("owner_teammate_id", Key, sa.ForeignKey("teammates.id"), nullable=True),
    _ms("created_at"),
    _ms("updated_at"),
    sa.Index(None, "company_id", "id"),
    sa.Index(None, "parent_id"),
    sqlite_autoincrement=True,
)
# Sibling tag names are unique per owner. NULL owners and parents compare equal here (as 0), so
# two concurrent creates of the same company tag cannot both commit.
sa.Index(
    "uq_tags_sibling_name",
    tags.c.company_id,
    sa.func.coalesce(tags.c.team_id, 0),
    sa.func.coalesce(tags.c.owner_teammate_id, 0),
    sa.func.coalesce(tags.c.parent_id, 0),
    tags.c.name,
    unique=True,
)

custom_fields = sa.Table(
    "custom_fields",
    metadata,
    _pk(),
    _company(),
    # contact | conversation | account | inbox | teammate | link
    sa.Column("object_type", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("enum_values", sa.Text, nullable=True),
    _ms("created_at"),
    sa.UniqueConstraint("company_id", "object_type", "name"),
    sqlite_autoincrement=True,
)

statuses = sa.Table(
    "statuses",
    metadata,
    _pk(),
    _company(),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("category", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=True),
    # The status a conversation takes by default in its category (one per category).
    sa.Column("is_default", sa.Boolean, nullable=False),
    _ms("created_at"),
    _ms("updated_at"),
    sa.UniqueConstraint("company_id", "name"),
    sqlite_autoincrement=True,
)

signatures = sa.Table(
    "signatures",
    metadata,
    _pk(),
    _company(),
    sa.Column("team_id", Key, sa.ForeignKey("teams.id"), nullable=True),
    sa.Column("owner_teammate_id", Key, sa.ForeignKey("teammates.id"), nullable=True),
    sa.Column("name", sa.Text, nullable=True),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("sender_info", sa.Text, nullable=True),
    sa.Column("is_visible_for_all_teammate_channels", sa.Boolean, nullable=False),
    sa.Column("is_default", sa.Boolean, nullable=False),
    # JSON list of channel keys, or null for "every channel of the owner".
    sa.Column("channel_ids", sa.Text, nullable=True),
    _ms("created_at"),
    sa.Index(None, "company_id", "id"),
    sqlite_autoincrement=True,
)

teammate_groups = sa.Table(
    "teammate_groups",
    metadata,
    _pk(),
    _company(),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("is_managed_by_scim", sa.Boolean, nullable=False),
    sa.Column("permissions", sa.Text, nullable=False),
    _ms("created_at"),
    sa.UniqueConstraint("company_id", "name"),
    sqlite_autoincrement=True,
)

teammate_group_members = sa.Table(
    "teammate_group_members",
    metadata,
    _company(),
    sa.Column("group_id", Key, sa.ForeignKey("teammate_groups.id"), primary_key=True),
    sa.Column("teammate_id", Key, sa.ForeignKey("teammates.id"), primary_key=True),
)

teammate_group_teams = sa.Table(
    "teammate_group_teams",
    metadata,
    _company(),
    sa.Column("group_id", Key, sa.ForeignKey("teammate_groups.id"), primary_key=True),
    sa.Column("team_id", Key, sa.ForeignKey("teams.id"), primary_key=True),
)

teammate_group_inboxes = sa.Table(
    "teammate_group_inboxes",
    metadata,
    _company(),
    sa.Column("group_id", Key, sa.ForeignKey("teammate_groups.id"), primary_key=True),
    sa.Column("inbox_id", Key, sa.ForeignKey("inboxes.id"), primary_key=True),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    _pk(),
    _company(),
    sa.Column("name", sa.Text, nullable=False),
    # SHA-256 of the secret; the secret itself is shown once and never stored.
    sa.Column("token_hash", sa.Text, nullable=False, unique=True),
    # JSON lists: namespaces ("shared", "private", "provisioning", "team:<key>") and
    # permissions ("read", "write", "delete", "send").
    sa.Column("namespaces", sa.Text, nullable=False),
    sa.Column("permissions", sa.Text, nullable=False),
    sa.Column("teammate_id", Key, sa.ForeignKey("teammates.id"), nullable=True),
    _ms("created_at"),
    _ms("revoked_at", nullable=True),
    sqlite_autoincrement=True,
)

events = sa.Table(
    "events",
    metadata,
    _pk(),
    _company(),
    sa.Column("type", sa.Text, nullable=False),
    # Front's event types are public (GET /events); Porch's own kinds (tag_created...) are not.
    sa.Column("is_public", sa.Boolean, nullable=False),
    _ms("emitted_at"),
    sa.Column("conversation_id", Key, nullable=True),
    # Who did it: api (a token), teammate, rule, ... and that actor's key.
    sa.Column("source_type", sa.Text, nullable=False),
    sa.Column("source_id", Key, nullable=True),
    # What it was done to: tag, teammate, inbox, ... and that object's key.
    sa.Column("target_type", sa.Text, nullable=True),
    sa.Column("target_id", Key, nullable=True),
    # A JSON snapshot of what changed, so consumers need not re-read rows that may be gone.
    sa.Column("data", sa.Text, nullable=False),
    sa.Index(None, "company_id", "is_public", "id"),
    sqlite_autoincrement=True,
)

rate_limit_windows = sa.Table(
    "rate_limit_windows",
    metadata,
    sa.Column("company_id", Key, sa.ForeignKey("companies.id"), primary_key=True),
    sa.Column("bucket", sa.Text, primary_key=True),
    sa.Column("window_start", sa.BigInteger, primary_key=True),
    sa.Column("used", sa.Integer, nullable=False),
)

# --- Conversations ------------------------------------------------------------------------

conversations = sa.Table(
    "conversations",
    metadata,
    _pk(),
    _company(),
    # conversation | discussion | task
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    # Where the conversation is: open | archived | trashed | spam. Front's response status
    # splits open into assigned/unassigned and calls trashed "deleted".
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("assignee_id", Key, sa.ForeignKey("teammates.id"), nullable=True),
    # Ticketing: the status (sts_) and since when the conversation waits on a reply.
    sa.Column("status_id", Key, sa.ForeignKey("statuses.id"), nullable=True),
    _ms("waiting_since", nullable=True),
    sa.Column("ticket_number", sa.Integer, nullable=True),
    sa.Column("is_private", sa.Boolean, nullable=False),
    # Tasks only.
    sa.Column("description", sa.Text, nullable=True),
    _ms("due_at", nullable=True),
    sa.Column("custom_fields", sa.Text, nullable=False),
    # Set when the conversation was merged into another: every route of it answers 301 there.
    sa.Column("merged_into_id", Key, sa.ForeignKey("conversations.id"), nullable=True),
    _ms("created_at"),
    _ms("updated_at"),
    # Last activity (a message, a comment, a reopen): the default order of conversation lists.
    _ms("activity_at"),
    sa.Index(None, "company_id", "activity_at", "id"),
    sa.Index(None, "company_id", "assignee_id", "activity_at"),
    sa.UniqueConstraint("company_id", "ticket_number"),
    sqlite_autoincrement=True,
)

conversation_inboxes = sa.Table(
    "conversation_inboxes",
    metadata,
    _company(),
    sa.Column("conversation_id", Key, sa.ForeignKey("conversations.id"), primary_key=True),
    sa.Column("inbox_id", Key, sa.ForeignKey("inboxes.id"), primary_key=True),
    sa.Index(None, "inbox_id", "conversation_id"),
)

conversation_tags = sa.Table(
    "conversation_tags",
    metadata,
    _company(),
    sa.Column("conversation_id", Key, sa.ForeignKey("conversations.id"), primary_key=True),
    sa.Column("tag_id", Key, sa.ForeignKey("tags.id"), primary_key=True),
    sa.Index(None, "tag_id", "conversation_id"),
)

conversation_followers = sa.Table(
    "conversation_followers",
    metadata,
    _company(),
    sa.Column("conversation_id", Key, sa.ForeignKey("conversations.id"), primary_key=True),
    sa.Column("teammate_id", Key, sa.ForeignKey("teammates.id"), primary_key=True),
    sa.Index(None, "teammate_id"),
)

links = sa.Table(
    "links",
    metadata,
    _pk(),
    _company(),
    sa.Column("name", sa.Text, nullable=False),
    # "web" for links made through the API; app_<uid> and integrations later.
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("external_url", sa.Text, nullable=False),
    sa.Column("custom_fields", sa.Text, nullable=False),
    _ms("created_at"),
    _ms("updated_at"),
    sa.UniqueConstraint("company_id", "external_url"),
    sqlite_autoincrement=True,
)

conversation_links = sa.Table(
    "conversation_links",
    metadata,
    _company(),
    sa.Column("conversation_id", Key, sa.ForeignKey("conversations.id"), primary_key=True),
    sa.Column("link_id", Key, sa.ForeignKey("links.id"), primary_key=True),
    sa.Index(None, "link_id", "conversation_id"),
)

reminders = sa.Table(
    "reminders",
    metadata,
    _pk(),
    _company(),
    sa.Column("conversation_id", Key, sa.ForeignKey("conversations.id"), nullable=False),
    sa.Column("teammate_id", Key, sa.ForeignKey("teammates.id"), nullable=False),
    _ms("scheduled_at"),
    # The waiting status the conversation takes while snoozed (ticketing).
    sa.Column("status_id", Key, sa.ForeignKey("statuses.id"), nullable=True),
    _ms("created_at"),
    _ms("updated_at"),
    # Set by the worker that reopened the conversation; a reminder fires once.
    _ms("fired_at", nullable=True),
    sa.UniqueConstraint("conversation_id", "teammate_id"),
    sa.Index(None, "fired_at", "scheduled_at"),
    sqlite_autoincrement=True,
)

comments = sa.Table(
    "comments",
    metadata,
    _pk(),
    _company(),
    sa.Column("conversation_id", Key, sa.ForeignKey("conversations.id"), nullable=False),
    # A teammate (a bot teammate stands for a token or an app).
    sa.Column("author_id", Key, sa.ForeignKey("teammates.id"), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("is_pinned", sa.Boolean, nullable=False),
    # The comment this one replies to (Front's comment replies).
    sa.Column("reply_to_id", Key, sa.ForeignKey("comments.id"), nullable=True),
    # The token that wrote it: Front lets only that token edit the body.
    sa.Column("token_id", Key, sa.ForeignKey("api_tokens.id"), nullable=True),
    _ms("posted_at"),
    _ms("updated_at"),
    sa.Index(None, "conversation_id", "posted_at"),
    # Search's commenter: filter.
    sa.Index(None, "author_id"),
    sqlite_autoincrement=True,
)

comment_mentions = sa.Table(
    "comment_mentions",
    metadata,
    _company(),
    sa.Column("comment_id", Key, sa.ForeignKey("comments.id"), primary_key=True),
    sa.Column("teammate_id", Key, sa.ForeignKey("teammates.id"), primary_key=True),
)

attachments = sa.Table(
    "attachments",
    metadata,
    _pk(),
    _company(),
    # The content's sha256 (hex): the blob store keeps each content once, however many
    # attachments share it.
    sa.Column("sha256", sa.Text, nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("content_type", sa.Text, nullable=False),
    sa.Column("filename", sa.Text, nullable=False),
    sa.Column("is_inline", sa.Boolean, nullable=False),
    # The Content-ID an inline attachment is referenced by in an HTML body.
    sa.Column("cid", sa.Text, nullable=True),
    # comment | message | draft | template; owner_id is that row's key (no foreign key, as it
    # names one of several tables).
    sa.Column("owner_type", sa.Text, nullable=False),
    sa.Column("owner_id", Key, nullable=False),
    _ms("created_at"),
    sa.Index(None, "owner_type", "owner_id"),
    sqlite_autoincrement=True,
)

# --- Messages and contacts ----------------------------------------------------------------

accounts = sa.Table(
    "accounts",
    metadata,
    _pk(),
    _company(),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("logo_url", sa.Text, nullable=True),
    # The account's id in another system (alias alt:ext_id:...), unique per company.
    sa.Column("external_id", sa.Text, nullable=True),
    sa.Column("custom_fields", sa.Text, nullable=False),
    _ms("created_at"),
    _ms("updated_at"),
    sa.UniqueConstraint("company_id", "external_id"),
    sa.Index(None, "company_id", "updated_at", "id"),
    sa.Index(None, "company_id", "created_at", "id"),
    sqlite_autoincrement=True,
)

account_domains = sa.Table(
    "account_domains",
    metadata,
    _company(),
    sa.Column("account_id", Key, sa.ForeignKey("accounts.id"), nullable=False),
    # Lower-cased; one domain names one account of the company (alias alt:domain:...).
    sa.Column("domain", sa.Text, nullable=False),
    sa.UniqueConstraint("company_id", "domain"),
    sa.Index(None, "account_id"),
)

contacts = sa.Table(
    "contacts",
    metadata,
    _pk(),
    _company(),
    sa.Column("name", sa.Text, nullable=True),
    sa.Column("description", sa.Text, nullable=True),
    # True exactly when a teammate owns the contact (owner_teammate_id).
    sa.Column("is_private", sa.Boolean, nullable=False),
    sa.Column("custom_fields", sa.Text, nullable=False),
    _ms("created_at"),
    _ms("updated_at"),
    # At most one owner: none (a company contact, as messages create), a team, or a teammate.
    sa.Column("team_id", Key, sa.ForeignKey("teams.id"), nullable=True),
    sa.Column("owner_teammate_id", Key, sa.ForeignKey("teammates.id"), nullable=True),
    # A JSON list of URLs.
    sa.Column("links", sa.Text, nullable=False, server_default="[]"),
    # Whether the name was given through the API (merging prefers such a name) rather than
    # taken from a message.
    sa.Column("name_is_manual", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("account_id", Key, sa.ForeignKey("accounts.id"), nullable=True),
    sa.Index(None, "company_id", "id"),
    # Keyset pages sorted by update (what incremental syncs read) or creation.
    sa.Index(None, "company_id", "updated_at", "id"),
    sa.Index(None, "company_id", "created_at", "id"),
    sa.Index(None, "account_id"),
    sqlite_autoincrement=True,
)

# Contact lists (Front's contact groups are the same rows): owned by a team or a teammate.
contact_lists = sa.Table(
    "contact_lists",
    metadata,
    _pk(),
    _company(),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("team_id", Key, sa.ForeignKey("teams.id"), nullable=True),
    sa.Column("owner_teammate_id", Key, sa.ForeignKey("teammates.id"), nullable=True),
    _ms("created_at"),
    _ms("updated_at"),
    sqlite_autoincrement=True,
)
# List names are unique per owner (NULL owners compare equal, as for tags).
sa.Index(
    "uq_contact_lists_owner_name",
    contact_lists.c.company_id,
    sa.func.coalesce(contact_lists.c.team_id, 0),
    sa.func.coalesce(contact_lists.c.owner_teammate_id, 0),
    contact_lists.c.name,
    unique=True,
)

contact_list_members = sa.Table(
    "contact_list_members",
    metadata,
    _company(),
    sa.Column("list_id", Key, sa.ForeignKey("contact_lists.id"), primary_key=True),
    sa.Column("contact_id", Key, sa.ForeignKey("contacts.id"), primary_key=True),
    sa.Index(None, "contact_id"),
)

contact_notes = sa.Table(
    "contact_notes",
    metadata,
    _pk(),
    _company(),
    sa.Column("contact_id", Key, sa.ForeignKey("contacts.id"), nullable=False),
    sa.Column("author_id", Key, sa.ForeignKey("teammates.id"), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    _ms("created_at"),
    sa.Index(None, "contact_id", "created_at"),
    sqlite_autoincrement=True,
)

contact_handles = sa.Table(
    "contact_handles",
    metadata,
    _company(),
    sa.Column("contact_id", Key, sa.ForeignKey("contacts.id"), nullable=False),
    # email | phone | twitter | facebook | intercom | front_chat | custom
    sa.Column("source", sa.Text, nullable=False),
    # In canonical form (domain/contacts.py): email addresses lower-cased, phone numbers E.164,
    # Twitter names "@" + lower case; others as given. One handle is one contact per company.
    sa.Column("handle", sa.Text, nullable=False),
    sa.UniqueConstraint("company_id", "source", "handle"),
    sa.Index(None, "contact_id"),
)

message_seen = sa.Table(
    "message_seen",
    metadata,
    _company(),
    sa.Column("message_id", Key, sa.ForeignKey("messages.id"), primary_key=True),
    # The recipient handle that saw it ("" when the viewer is not known: a first-seen entry).
    sa.Column("handle", sa.Text, primary_key=True),
    sa.Column("source", sa.Text, nullable=False),
    _ms("first_seen_at"),
)

messages = sa.Table(
    "messages",
    metadata,
    _pk(),
    _company(),
    sa.Column("conversation_id", Key, sa.ForeignKey("conversations.id"), nullable=False),
    # Front's message_uid: generated on receipt, answered at once, an alias of the message.
    sa.Column("uid", sa.Text, nullable=False),
    # email | custom | sms | intercom | ... (Front's message types)
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("is_inbound", sa.Boolean, nullable=False),
    sa.Column("is_draft", sa.Boolean, nullable=False),
    # The teammate who wrote an outbound message.
    sa.Column("author_id", Key, sa.ForeignKey("teammates.id"), nullable=True),
    sa.Column("subject", sa.Text, nullable=False),
    # The body as received (HTML or text), its plain text, and a short excerpt.
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("blurb", sa.Text, nullable=False),
    # The importer's id: a message is imported once per inbox.
    sa.Column("external_id", sa.Text, nullable=True),
    # The sender's threading reference (custom channels, imports).
    sa.Column("thread_ref", sa.Text, nullable=True),
    _ms("created_at"),
    sa.Column("channel_id", Key, sa.ForeignKey("channels.id"), nullable=True),
    sa.Column("inbox_id", Key, sa.ForeignKey("inboxes.id"), nullable=True),
    sa.Column("metadata", sa.Text, nullable=False),
    # Drafts: private | shared, and the version a PATCH or DELETE must name (409 when stale).
    sa.Column("draft_mode", sa.Text, nullable=True),
    sa.Column("version", sa.Text, nullable=True),
    # Outbound delivery: pending | sent | failed, and Front's error_type when it failed.
    sa.Column("delivery_status", sa.Text, nullable=True),
    sa.Column("error_type", sa.Text, nullable=True),
    sa.UniqueConstraint("uid"),
    sa.UniqueConstraint("company_id", "inbox_id", "external_id"),
    sa.Index(None, "conversation_id", "created_at"),
    sa.Index(None, "company_id", "external_id"),
    sa.Index(None, "company_id", "thread_ref"),
    # Search's author: filter.
    sa.Index(None, "author_id"),
    sqlite_autoincrement=True,
)

message_recipients = sa.Table(
    "message_recipients",
    metadata,
    _company(),
    sa.Column("message_id", Key, sa.ForeignKey("messages.id"), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("contact_id", Key, sa.ForeignKey("contacts.id"), nullable=True),
    sa.Column("handle", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=True),
    # from | to | cc | bcc | reply-to
    sa.Column("role", sa.Text, nullable=False),
    sa.Index(None, "contact_id"),
    # Search's handle filters (from:, to:, recipient: ...) start from the handle.
    sa.Index(None, "company_id", "handle"),
)

# --- Outbound delivery ----------------------------------------------------------------------

outbox = sa.Table(
    "outbox",
    metadata,
    _pk(),
    _company(),
    sa.Column("message_id", Key, sa.ForeignKey("messages.id"), nullable=False),
    sa.Column("channel_id", Key, sa.ForeignKey("channels.id"), nullable=False),
    # How it leaves: "custom_webhook" (POSTed to the channel's webhook_url) or "email" (the
    # outbound mail queue of the email channel).
    sa.Column("kind", sa.Text, nullable=False),
    # pending | delivered | failed
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    _ms("next_attempt_at"),
    sa.Column("last_error", sa.Text, nullable=True),
    _ms("created_at"),
    _ms("updated_at"),
    sa.Index(None, "state", "next_attempt_at"),
    sqlite_autoincrement=True,
)

# --- Email --------------------------------------------------------------------------------

# What an email message carries beyond the message row: its Message-ID (what replies name in
# In-Reply-To and References, so it is looked up by company) and the raw message as received or
# as sent, kept in the blob store and served as message/rfc822.
email_messages = sa.Table(
    "email_messages",
    metadata,
    sa.Column("message_id", Key, sa.ForeignKey("messages.id"), primary_key=True),
    _company(),
    # The Message-ID without its angle brackets, as written.
    sa.Column("rfc_id", sa.Text, nullable=True),
    sa.Column("raw_sha256", sa.Text, nullable=True),
    sa.Column("raw_size", sa.Integer, nullable=True),
    sa.Index(None, "company_id", "rfc_id"),
)

# Secrets a company's features sign with (e.g. "reply_token" for the reply addresses of email
# conversations), made on first use.
company_secrets = sa.Table(
    "company_secrets",
    metadata,
    sa.Column("company_id", Key, sa.ForeignKey("companies.id"), primary_key=True),
    sa.Column("purpose", sa.Text, primary_key=True),
    sa.Column("secret", sa.Text, nullable=False),
    _ms("created_at"),
)

# Where the import of an IMAP mailbox (a channel may read several, e.g. INBOX and Sent) stands:
# its UIDVALIDITY and the highest UID imported, written in the transaction that queues the
# message (a restart neither misses nor repeats one).
imap_states = sa.Table(
    "imap_states",
    metadata,
    sa.Column("channel_id", Key, sa.ForeignKey("channels.id"), primary_key=True),
    sa.Column("mailbox", sa.Text, primary_key=True),
    _company(),
    sa.Column("uidvalidity", sa.BigInteger, nullable=False),
    sa.Column("last_uid", sa.BigInteger, nullable=False),
    _ms("updated_at"),
)

# --- Intake --------------------------------------------------------------------------------

# Messages accepted from the outside world (202 / 250 already answered) and not yet threaded into
# a conversation. The row is durable before the answer; the worker that writes the message
# deletes the row in the same transaction, so each accepted message is written exactly once,
# also after a crash. A row that cannot be processed keeps its payload, with the error.
intake = sa.Table(
    "intake",
    metadata,
    _pk(),
    _company(),
    sa.Column("channel_id", Key, sa.ForeignKey("channels.id"), nullable=False),
    # How to read the payload: "custom" (a Channel API / incoming_messages body, as JSON).
    sa.Column("kind", sa.Text, nullable=False),
    # The message_uid already answered: the message is written with it.
    sa.Column("uid", sa.Text, nullable=False, unique=True),
    # The event source of the write that accepted it (e.g. "api" and the token's key).
    sa.Column("source_type", sa.Text, nullable=False),
    sa.Column("source_id", Key, nullable=True),
    sa.Column("payload", sa.Text, nullable=False),
    _ms("received_at"),
    _ms("failed_at", nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Index(None, "failed_at", "id"),
    sqlite_autoincrement=True,
)

# --- Event-log consumers --------------------------------------------------------------------

consumer_offsets = sa.Table(
    "consumer_offsets",
    metadata,
    # A consumer of the event log (search_index, webhooks, ...) and the last event id it has
    # finished; it is written in the transaction that applies the consumer's effects.
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("position", Key, nullable=False),
    _ms("updated_at"),
)

# --- Message templates ----------------------------------------------------------------------

message_template_folders = sa.Table(
    "message_template_folders",
    metadata,
    _pk(),
    _company(),
    sa.Column("name", sa.Text, nullable=False),
    # A child folder has its parent's owner; deleting a folder deletes what it contains.
    sa.Column("parent_id", Key, sa.ForeignKey("message_template_folders.id"), nullable=True),
    # At most one owner: a team, or a teammate (private folder); none is company-wide.
    sa.Column("team_id", Key, sa.ForeignKey("teams.id"), nullable=True),
    sa.Column("owner_teammate_id", Key, sa.ForeignKey("teammates.id"), nullable=True),
    _ms("created_at"),
    _ms("updated_at"),
    sa.Index(None, "company_id", "id"),
    sa.Index(None, "parent_id"),
    sqlite_autoincrement=True,
)

message_templates = sa.Table(
    "message_templates",
    metadata,
    _pk(),
    _company(),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("subject", sa.Text, nullable=True),
    # HTML, as Front stores it.
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("folder_id", Key, sa.ForeignKey("message_template_folders.id"), nullable=True),
    sa.Column("team_id", Key, sa.ForeignKey("teams.id"), nullable=True),
    sa.Column("owner_teammate_id", Key, sa.ForeignKey("teammates.id"), nullable=True),
    # False when message_template_inboxes restricts the template to some inboxes.
    sa.Column("is_available_for_all_inboxes", sa.Boolean, nullable=False),
    _ms("created_at"),
    _ms("updated_at"),
    sa.Index(None, "company_id", "id"),
    sa.Index(None, "folder_id"),
    sqlite_autoincrement=True,
)

message_template_inboxes = sa.Table(
    "message_template_inboxes",
    metadata,
    _company(),
    sa.Column("template_id", Key, sa.ForeignKey("message_templates.id"), primary_key=True),
    sa.Column("inbox_id", Key, sa.ForeignKey("inboxes.id"), primary_key=True),
)

# --- Applications (issue 6) -----------------------------------------------------------------

# An app a company admin registered: what its webhooks subscribe to, where they go, and what
# OAuth lets it do. ``uid`` is the public id (OAuth client_id, a Channel API JWT's ``iss``);
# ``secret`` signs webhooks and JWTs and authenticates OAuth token requests. It is kept as
# written (HMAC needs it), unlike API tokens, which are stored hashed.
applications = sa.Table(
    "applications",
    metadata,
    _pk(),
    _company(),
    sa.Column("uid", sa.Text, nullable=False, unique=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("secret", sa.Text, nullable=False),
    sa.Column("webhook_url", sa.Text, nullable=True),
    # JSON list of application-webhook event names (NOTES §7), e.g. ["inbound_received"].
    sa.Column("subscriptions", sa.Text, nullable=False, server_default="[]"),
    # JSON list of the OAuth redirect URIs an authorization request may name.
    sa.Column("redirect_uris", sa.Text, nullable=False, server_default="[]"),
    # enabled | disabled (by an admin, or after a run of failed webhook deliveries).
    sa.Column("state", sa.Text, nullable=False, server_default="enabled"),
    sa.Column("disabled_reason", sa.Text, nullable=True),
    _ms("created_at"),
    _ms("updated_at"),
    sa.Index(None, "company_id", "id"),
    sqlite_autoincrement=True,
)

# --- Webhooks and applications (issue 6) ---

# Where webhooks go: an application's webhook (kind "application", one per app, its events named
# in applications.subscriptions) or a rule's webhook action (kind "rule", one per rule and URL).
# Delivery state lives here: a run of ``failures`` in a row disables the subscription (with the
# reason) until an admin enables it again. ``rule_id`` has no foreign key: rules live in a
# later migration.
webhook_subscriptions = sa.Table(
    "webhook_subscriptions",
    metadata,
    _pk(),
    _company(),
    # application | rule
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("application_id", Key, sa.ForeignKey("applications.id"), nullable=True),
    sa.Column("rule_id", Key, nullable=True),
    sa.Column("url", sa.Text, nullable=False),
    # enabled | disabled
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("disabled_reason", sa.Text, nullable=True),
    # Failed attempts since the last delivered one.
    sa.Column("failures", sa.Integer, nullable=False),
    _ms("created_at"),
    _ms("updated_at"),
    sa.UniqueConstraint("application_id"),
    sa.UniqueConstraint("company_id", "rule_id", "url"),
    sa.Index(None, "company_id", "id"),
    sqlite_autoincrement=True,
)

# One event to deliver to one subscription: the exact body (so a retry or replay sends the same
# bytes and event id), its state and when to try next. Unique per (subscription, event), so a
# re-read batch of the event log queues nothing twice. Rows of one subscription and
# conversation are attempted in id order: one waits while an earlier one is pending.
webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    _pk(),
    _company(),
    sa.Column("subscription_id", Key, sa.ForeignKey("webhook_subscriptions.id"), nullable=False),
    sa.Column("event_id", Key, sa.ForeignKey("events.id"), nullable=False),
    sa.Column("conversation_id", Key, nullable=True),
    # The envelope's type (application webhooks) or the event's type (rule webhooks).
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    # pending | delivered | failed (gave up; replayable)
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    _ms("next_attempt_at"),
    sa.Column("last_status", sa.Integer, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    # When the event was emitted: the backoff gives up this long after it.
    _ms("emitted_at"),
    _ms("created_at"),
    _ms("updated_at"),
    _ms("delivered_at", nullable=True),
    sa.UniqueConstraint("subscription_id", "event_id"),
    sa.Index(None, "state", "next_attempt_at"),
    sa.Index(None, "subscription_id", "conversation_id", "state", "id"),
    sa.Index(None, "company_id", "subscription_id", "id"),
    sqlite_autoincrement=True,
)

# Every delivery attempt: what the endpoint answered (or why there was no answer) and how long
# it took.
webhook_attempts = sa.Table(
    "webhook_attempts",
    metadata,
    _pk(),
    _company(),
    sa.Column("delivery_id", Key, sa.ForeignKey("webhook_deliveries.id"), nullable=False),
    sa.Column("status_code", sa.Integer, nullable=True),
    sa.Column("duration_ms", sa.Integer, nullable=False),
    sa.Column("error", sa.Text, nullable=True),
    _ms("attempted_at"),
    sa.Index(None, "delivery_id", "id"),
    sqlite_autoincrement=True,
)

# --- Rules (issue 6) ---

# A rule of the company, of a team (it acts on the team's inboxes) or of a teammate (their
# private inboxes): triggers, conditions and actions as validated JSON (docs/rules.md). ``state``
# is what actions remember between runs (the round-robin position). A deleted rule keeps its row
# (``deleted_at``) so that its audit stays readable.
rules = sa.Table(
    "rules",
    metadata,
    _pk(),
    _company(),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("team_id", Key, sa.ForeignKey("teams.id"), nullable=True),
    sa.Column("owner_teammate_id", Key, sa.ForeignKey("teammates.id"), nullable=True),
    sa.Column("is_enabled", sa.Boolean, nullable=False),
    sa.Column("definition", sa.Text, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    _ms("created_at"),
    _ms("updated_at"),
    _ms("deleted_at", nullable=True),
    sa.Index(None, "company_id", "id"),
    sqlite_autoincrement=True,
)

# The audit: one row per (rule, event, kind) the engine looked at, written in the transaction
# of the rule's actions, so a re-read event never runs a rule twice. ``kind`` is "event" (the
# event triggered it) or "timer" (a time-based trigger armed by that event fell due). The events
# the actions appended have ids in caused_from..caused_to: how loop protection learns how deep
# in a chain of rule-caused events an event is.
rule_runs = sa.Table(
    "rule_runs",
    metadata,
    _pk(),
    _company(),
    sa.Column("rule_id", Key, sa.ForeignKey("rules.id"), nullable=False),
    sa.Column("event_id", Key, sa.ForeignKey("events.id"), nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("conversation_id", Key, nullable=True),
    # matched | not_matched | chain_limit
    sa.Column("outcome", sa.Text, nullable=False),
    sa.Column("depth", sa.Integer, nullable=False),
    # JSON list of {"type", "description", "ok", "error"?}, one per action.
    sa.Column("actions", sa.Text, nullable=False),
    sa.Column("caused_from", Key, nullable=True),
    sa.Column("caused_to", Key, nullable=True),
    _ms("created_at"),
    sa.UniqueConstraint("rule_id", "event_id", "kind"),
    sa.Index(None, "company_id", "rule_id", "id"),
    sa.Index(None, "rule_id", "caused_to"),
    sqlite_autoincrement=True,
)

# Time-based triggers armed on a conversation ("unreplied for N minutes"): due at ``due_at``,
# deleted when the condition stops holding (a reply), claimed once by the timer worker
# (``fired_at``). No foreign key to conversations: deleting one for good must not stop here.
rule_timers = sa.Table(
    "rule_timers",
    metadata,
    _pk(),
    _company(),
    sa.Column("rule_id", Key, sa.ForeignKey("rules.id"), nullable=False),
    sa.Column("conversation_id", Key, nullable=False),
    # The event that armed it (the inbound message).
    sa.Column("event_id", Key, nullable=False),
    _ms("due_at"),
    _ms("fired_at", nullable=True),
    sa.UniqueConstraint("rule_id", "conversation_id"),
    sa.Index(None, "fired_at", "due_at"),
    sqlite_autoincrement=True,
)

# --- OAuth (issue 6) ---

# A teammate's web sign-in password (for the OAuth consent page): scrypt with a random salt,
# as "scrypt$n$r$p$salt$hash" (base64). A teammate without a row cannot sign in.
teammate_passwords = sa.Table(
    "teammate_passwords",
    metadata,
    _company(),
    sa.Column("teammate_id", Key, sa.ForeignKey("teammates.id"), primary_key=True),
    sa.Column("password_hash", sa.Text, nullable=False),
    _ms("updated_at"),
)

# One admin's consent for one application: the codes and tokens issued under it. Revoking the
# grant (an admin, or a rotated refresh token used again) ends every token issued under it.
oauth_grants = sa.Table(
    "oauth_grants",
    metadata,
    _pk(),
    _company(),
    sa.Column("application_id", Key, sa.ForeignKey("applications.id"), nullable=False),
    sa.Column("teammate_id", Key, sa.ForeignKey("teammates.id"), nullable=False),
    _ms("created_at"),
    _ms("revoked_at", nullable=True),
    sa.Index(None, "company_id", "application_id", "id"),
    sqlite_autoincrement=True,
)

# Authorization codes (SHA-256 only), bound to the grant's client and the redirect URI named at
# the authorization; single use (``used_at``), short-lived.
oauth_codes = sa.Table(
    "oauth_codes",
    metadata,
    _pk(),
    _company(),
    sa.Column("grant_id", Key, sa.ForeignKey("oauth_grants.id"), nullable=False),
    sa.Column("code_hash", sa.Text, nullable=False, unique=True),
    sa.Column("redirect_uri", sa.Text, nullable=False),
    _ms("expires_at"),
    _ms("used_at", nullable=True),
    sqlite_autoincrement=True,
)

# Access and refresh tokens (SHA-256 only). A refresh token is used once: ``rotated_at`` marks
# it spent, and presenting it again revokes its grant.
oauth_tokens = sa.Table(
    "oauth_tokens",
    metadata,
    _pk(),
    _company(),
    sa.Column("grant_id", Key, sa.ForeignKey("oauth_grants.id"), nullable=False),
    # access | refresh
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("token_hash", sa.Text, nullable=False, unique=True),
    _ms("created_at"),
    _ms("expires_at"),
    _ms("rotated_at", nullable=True),
    _ms("revoked_at", nullable=True),
    sa.Index(None, "grant_id"),
    sqlite_autoincrement=True,
)

# --- Channel API (issue 6) ---

# A custom channel bound to a developer application (a partner channel): the app whose secret
# signs its JWTs and webhooks, the app's channel base URL (where ``authorization`` goes when the
# channel is created) and where the link stands: pending (authorization not yet answered),
# authorized (the reply's webhook_url is the channel's) or deleted (``delete`` sent; JWTs refused).
partner_channels = sa.Table(
    "partner_channels",
    metadata,
    sa.Column("channel_id", Key, sa.ForeignKey("channels.id"), primary_key=True),
    _company(),
    sa.Column("application_id", Key, sa.ForeignKey("applications.id"), nullable=False),
    sa.Column("base_url", sa.Text, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    # What the partner last reported through the Channel API's update-channel: ok | offline.
    sa.Column("status", sa.Text, nullable=False),
    _ms("created_at"),
    _ms("updated_at"),
    sa.Index(None, "application_id"),
)

# The ``jti`` of every channel JWT accepted, until its ``exp``: the same token twice is a replay.
channel_jwt_ids = sa.Table(
    "channel_jwt_ids",
    metadata,
    sa.Column("application_id", Key, sa.ForeignKey("applications.id"), primary_key=True),
    sa.Column("jti", sa.Text, primary_key=True),
    _company(),
    _ms("expires_at"),
    sa.Index(None, "expires_at"),
)

# Calls Porch makes to a partner about a channel rather than a message (``authorization`` when
# it is created, ``delete`` when it is deleted): the exact body, retried like the outbox.
partner_deliveries = sa.Table(
    "partner_deliveries",
    metadata,
    _pk(),
    _company(),
    sa.Column("channel_id", Key, sa.ForeignKey("channels.id"), nullable=False),
    # authorization | delete | message_imported
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    # pending | delivered | failed
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    _ms("next_attempt_at"),
    sa.Column("last_error", sa.Text, nullable=True),
    _ms("created_at"),
    _ms("updated_at"),
    sa.Index(None, "state", "next_attempt_at"),
    sa.Index(None, "company_id", "channel_id"),
    sqlite_autoincrement=True,
)

# Calls a partner reports on its channel: the call's conversation is found through the message
# accepted for it (``message_uid``, written by the intake worker).
channel_calls = sa.Table(
    "channel_calls",
    metadata,
    _pk(),
    _company(),
    sa.Column("channel_id", Key, sa.ForeignKey("channels.id"), nullable=False),
    sa.Column("external_call_id", sa.Text, nullable=False),
    # inbound | outbound
    sa.Column("direction", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("message_uid", sa.Text, nullable=False),
    _ms("created_at"),
    _ms("updated_at"),
    sa.UniqueConstraint("channel_id", "external_call_id"),
    sa.Index(None, "company_id", "id"),
    sqlite_autoincrement=True,
)

# Message templates a partner syncs for its channel (e.g. approved WhatsApp templates).
application_message_templates = sa.Table(
    "application_message_templates",
    metadata,
    _pk(),
    _company(),
    sa.Column("channel_id", Key, sa.ForeignKey("channels.id"), nullable=False),
    sa.Column("external_id", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("blurb", sa.Text, nullable=False),
    sa.Column("is_disabled", sa.Boolean, nullable=False),
    sa.Column("status_name", sa.Text, nullable=False),
    # JSON list of {uid, name, type}.
    sa.Column("variable_mappings", sa.Text, nullable=False),
    sa.Column("template_preview", sa.Text, nullable=False),
    _ms("created_at"),
    _ms("updated_at"),
    sa.UniqueConstraint("channel_id", "external_id"),
    sa.Index(None, "company_id", "id"),
    sqlite_autoincrement=True,
)
