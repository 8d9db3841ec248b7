"""The warehouse tables: names, primary keys and typed columns, shaped like Fivetran's Front
connector (``conversation``, ``message``, ``conversation_tag_history``…) so that queries written
for it run unchanged.

Every table also gets ``_deleted`` (the row's object was trashed or deleted in the source; rows
are never removed, as with Fivetran's ``_fivetran_deleted``) and ``_synced_at`` (when the row was
last written). A *child* table (``parent`` set) holds the current set of its parent's items: when
a parent is read again its child rows are replaced whole, so an untagged tag disappears.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Column types, named once and mapped to each destination's SQL (destinations.py).
STRING, TIMESTAMP, BOOL, INT, DOUBLE, JSON = "string", "timestamp", "bool", "int", "double", "json"
TYPES = (STRING, TIMESTAMP, BOOL, INT, DOUBLE, JSON)
META = {"_deleted": BOOL, "_synced_at": TIMESTAMP}


@dataclass(frozen=True)
class Table:
    name: str
    key: tuple[str, ...]
    columns: dict[str, str]
    # The column naming the parent whose child set this table holds (replaced on refetch).
    parent: str | None = None
    # History tables only ever gain rows.
    history: bool = False
    # Which object's custom fields become ``custom_<name>`` columns here.
    custom_fields: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def all_columns(self) -> dict[str, str]:
        return {**self.columns, **self.extra, **META}


def _t(name: str, key: str | tuple[str, ...], spec: str, **kw: object) -> Table:
    """A table from ``"col:type col:type"`` (type defaults to string)."""
    cols: dict[str, str] = {}
    for item in spec.split():
        col, _, kind = item.partition(":")
        cols[col] = kind or STRING
    keys = (key,) if isinstance(key, str) else key
    return Table(name, keys, cols, **kw)  # type: ignore[arg-type]


_SOURCE = "source_type source_teammate_id source_rule_id event_type"

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        _t(
            "conversation",
            "id",
            "id subject status status_category status_id teammate_id recipient_handle"
            " recipient_role recipient_contact_id last_message_id is_private:bool"
            " created_at:timestamp updated_at:timestamp ticket_ids:json",
            custom_fields="conversation",
        ),
        _t(
            "message",
            "id",
            "id conversation_id message_uid type is_inbound:bool is_draft:bool subject blurb body"
            " text author_id created_at:timestamp",
        ),
        _t(
            "message_recipient",
            ("message_id", "handle", "role"),
            "message_id handle role name contact_id",
            parent="message_id",
        ),
        _t(
            "message_attachment",
            "id",
            "id message_id filename content_type size:int url",
            parent="message_id",
        ),
        _t("comment", "id", "id conversation_id author_id body posted_at:timestamp"),
        _t(
            "contact",
            "id",
            "id name description avatar_url is_private:bool is_spammer:bool"
            " updated_at:timestamp lists:json",
            custom_fields="contact",
        ),
        _t(
            "contact_handle",
            ("contact_id", "source", "handle"),
            "contact_id source handle",
            parent="contact_id",
        ),
        _t(
            "account",
            "id",
            "id name description domains:json external_id created_at:timestamp"
            " updated_at:timestamp",
            custom_fields="account",
        ),
        _t("inbox", "id", "id name address send_as type is_private:bool"),
        _t("inbox_channel", ("inbox_id", "channel_id"), "inbox_id channel_id", parent="inbox_id"),
        _t("channel", "id", "id name address send_as type is_private:bool is_valid:bool"),
        _t(
            "tag",
            "id",
            "id name description highlight is_private:bool parent_tag_id"
            " created_at:timestamp updated_at:timestamp",
        ),
        _t(
            "conversation_tag",
            ("conversation_id", "tag_id"),
            "conversation_id tag_id",
            parent="conversation_id",
        ),
        _t(
            "conversation_inbox",
            ("conversation_id", "inbox_id"),
            "conversation_id inbox_id",
            parent="conversation_id",
        ),
        _t(
            "conversation_follower",
            ("conversation_id", "teammate_id"),
            "conversation_id teammate_id",
            parent="conversation_id",
        ),
        _t(
            "teammate",
            "id",
            "id email username first_name last_name type is_admin:bool is_available:bool"
            " is_blocked:bool",
        ),
        _t("team", "id", "id name"),
        _t("team_teammate", ("team_id", "teammate_id"), "team_id teammate_id", parent="team_id"),
        _t(
            "event",
            "id",
            "id type emitted_at:timestamp conversation_id source_type source_id target_type"
            " target_id",
        ),
        _t("rule", "id", "id name is_private:bool actions:json"),
        _t(
            "conversation_status_history",
            ("conversation_id", "updated_at"),
            f"conversation_id updated_at:timestamp status assignee_id {_SOURCE}",
            history=True,
        ),
        _t(
            "conversation_tag_history",
            ("conversation_id", "tag_id", "updated_at"),
            f"conversation_id tag_id updated_at:timestamp {_SOURCE}",
            history=True,
        ),
        _t(
            "conversation_link_history",
            ("conversation_id", "link_id", "updated_at"),
            f"conversation_id link_id updated_at:timestamp {_SOURCE}",
            history=True,
        ),
    )
}

# The tables read with (and replaced under) each conversation, contact, inbox, team, message.
CONVERSATION_CHILDREN = ("conversation_tag", "conversation_inbox", "conversation_follower")
MESSAGE_CHILDREN = ("message_recipient", "message_attachment")

# Custom field types (Front's ``CustomFieldResponse.type``) → column types.
FIELD_TYPES = {
    "string": STRING,
    "enum": STRING,
    "teammate": STRING,
    "inbox": STRING,
    "number": DOUBLE,
    "boolean": BOOL,
    "datetime": TIMESTAMP,
}


def custom_column(name: str) -> str:
    """``custom_<name>``, lowercased, anything but letters, digits and ``_`` made ``_``."""
    safe = "".join(c if c.isalnum() else "_" for c in name.strip().lower())
    return "custom_" + (safe or "field")


def with_custom_fields(table: Table, fields: dict[str, str]) -> Table:
    """``table`` with one typed column per custom field (name → Front field type)."""
    extra = {custom_column(n): FIELD_TYPES.get(kind, STRING) for n, kind in fields.items()}
    return Table(
        table.name,
        table.key,
        table.columns,
        table.parent,
        table.history,
        table.custom_fields,
        extra,
    )
