"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "companies",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("ticketing_enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("rate_limit_per_minute", sa.Integer(), nullable=False),
        sa.Column("rate_limit_burst", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_companies")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "custom_fields",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("object_type", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("enum_values", sa.Text(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_custom_fields_company_id_companies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custom_fields")),
        sa.UniqueConstraint(
            "company_id",
            "object_type",
            "name",
            name=op.f("uq_custom_fields_company_id_object_type_name"),
        ),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("is_public", sa.Boolean(), nullable=False),
        sa.Column("emitted_at", sa.BigInteger(), nullable=False),
        sa.Column(
            "conversation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("source_type", sa.Text(), nullable=False),
        sa.Column("source_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("target_type", sa.Text(), nullable=True),
        sa.Column("target_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("data", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_events_company_id_companies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_events_company_id_is_public_id"),
            ["company_id", "is_public", "id"],
            unique=False,
        )

    op.create_table(
        "rate_limit_windows",
        sa.Column(
            "company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("bucket", sa.Text(), nullable=False),
        sa.Column("window_start", sa.BigInteger(), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_rate_limit_windows_company_id_companies"),
        ),
        sa.PrimaryKeyConstraint(
            "company_id", "bucket", "window_start", name=op.f("pk_rate_limit_windows")
        ),
    )
    op.create_table(
        "statuses",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_statuses_company_id_companies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statuses")),
        sa.UniqueConstraint("company_id", "name", name=op.f("uq_statuses_company_id_name")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "teammate_groups",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("is_managed_by_scim", sa.Boolean(), nullable=False),
        sa.Column("permissions", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_teammate_groups_company_id_companies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teammate_groups")),
        sa.UniqueConstraint("company_id", "name", name=op.f("uq_teammate_groups_company_id_name")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "teammates",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("username", sa.Text(), nullable=False),
        sa.Column("first_name", sa.Text(), nullable=False),
        sa.Column("last_name", sa.Text(), nullable=False),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("is_available", sa.Boolean(), nullable=False),
        sa.Column("is_blocked", sa.Boolean(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("license_type", sa.Text(), nullable=False),
        sa.Column("api_private_access", sa.Boolean(), nullable=False),
        sa.Column("custom_fields", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_teammates_company_id_companies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teammates")),
        sa.UniqueConstraint("company_id", "email", name=op.f("uq_teammates_company_id_email")),
        sa.UniqueConstraint(
            "company_id", "username", name=op.f("uq_teammates_company_id_username")
        ),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "teams",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_teams_company_id_companies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams")),
        sa.UniqueConstraint("company_id", "name", name=op.f("uq_teams_company_id_name")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "api_tokens",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("token_hash", sa.Text(), nullable=False),
        sa.Column("namespaces", sa.Text(), nullable=False),
        sa.Column("permissions", sa.Text(), nullable=False),
        sa.Column(
            "teammate_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("revoked_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_api_tokens_company_id_companies")
        ),
        sa.ForeignKeyConstraint(
            ["teammate_id"], ["teammates.id"], name=op.f("fk_api_tokens_teammate_id_teammates")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "inboxes",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("team_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "owner_teammate_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("is_public", sa.Boolean(), nullable=False),
        sa.Column("custom_fields", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_inboxes_company_id_companies")
        ),
        sa.ForeignKeyConstraint(
            ["owner_teammate_id"],
            ["teammates.id"],
            name=op.f("fk_inboxes_owner_teammate_id_teammates"),
        ),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_inboxes_team_id_teams")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inboxes")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("inboxes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inboxes_company_id_id"), ["company_id", "id"], unique=False
        )

    op.create_table(
        "signatures",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("team_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "owner_teammate_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("sender_info", sa.Text(), nullable=True),
        sa.Column("is_visible_for_all_teammate_channels", sa.Boolean(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("channel_ids", sa.Text(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_signatures_company_id_companies")
        ),
        sa.ForeignKeyConstraint(
            ["owner_teammate_id"],
            ["teammates.id"],
            name=op.f("fk_signatures_owner_teammate_id_teammates"),
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_signatures_team_id_teams")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signatures")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("signatures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_signatures_company_id_id"), ["company_id", "id"], unique=False
        )

    op.create_table(
        "tags",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("highlight", sa.Text(), nullable=True),
        sa.Column("is_visible_in_conversation_lists", sa.Boolean(), nullable=False),
        sa.Column("parent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("team_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "owner_teammate_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_tags_company_id_companies")
        ),
        sa.ForeignKeyConstraint(
            ["owner_teammate_id"],
            ["teammates.id"],
            name=op.f("fk_tags_owner_teammate_id_teammates"),
        ),
        sa.ForeignKeyConstraint(["parent_id"], ["tags.id"], name=op.f("fk_tags_parent_id_tags")),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_tags_team_id_teams")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tags")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("tags", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tags_company_id_id"), ["company_id", "id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_tags_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "team_members",
        sa.Column(
            "company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("team_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "teammate_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_team_members_company_id_companies")
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_team_members_team_id_teams")
        ),
        sa.ForeignKeyConstraint(
            ["teammate_id"], ["teammates.id"], name=op.f("fk_team_members_teammate_id_teammates")
        ),
        sa.PrimaryKeyConstraint("team_id", "teammate_id", name=op.f("pk_team_members")),
    )
    with op.batch_alter_table("team_members", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_team_members_teammate_id"), ["teammate_id"], unique=False
        )

    op.create_table(
        "teammate_group_members",
        sa.Column(
            "company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("group_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "teammate_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_teammate_group_members_company_id_companies"),
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["teammate_groups.id"],
            name=op.f("fk_teammate_group_members_group_id_teammate_groups"),
        ),
        sa.ForeignKeyConstraint(
            ["teammate_id"],
            ["teammates.id"],
            name=op.f("fk_teammate_group_members_teammate_id_teammates"),
        ),
        sa.PrimaryKeyConstraint("group_id", "teammate_id", name=op.f("pk_teammate_group_members")),
    )
    op.create_table(
        "teammate_group_teams",
        sa.Column(
            "company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("group_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("team_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_teammate_group_teams_company_id_companies"),
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["teammate_groups.id"],
            name=op.f("fk_teammate_group_teams_group_id_teammate_groups"),
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_teammate_group_teams_team_id_teams")
        ),
        sa.PrimaryKeyConstraint("group_id", "team_id", name=op.f("pk_teammate_group_teams")),
    )
    op.create_table(
        "channels",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("inbox_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("send_as", sa.Text(), nullable=True),
        sa.Column("settings", sa.Text(), nullable=False),
        sa.Column("is_valid", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_channels_company_id_companies")
        ),
        sa.ForeignKeyConstraint(
            ["inbox_id"], ["inboxes.id"], name=op.f("fk_channels_inbox_id_inboxes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channels")),
        sa.UniqueConstraint("company_id", "address", name=op.f("uq_channels_company_id_address")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_channels_inbox_id"), ["inbox_id"], unique=False)

    op.create_table(
        "inbox_access",
        sa.Column(
            "company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("inbox_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "teammate_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_inbox_access_company_id_companies")
        ),
        sa.ForeignKeyConstraint(
            ["inbox_id"], ["inboxes.id"], name=op.f("fk_inbox_access_inbox_id_inboxes")
        ),
        sa.ForeignKeyConstraint(
            ["teammate_id"], ["teammates.id"], name=op.f("fk_inbox_access_teammate_id_teammates")
        ),
        sa.PrimaryKeyConstraint("inbox_id", "teammate_id", name=op.f("pk_inbox_access")),
    )
    with op.batch_alter_table("inbox_access", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inbox_access_teammate_id"), ["teammate_id"], unique=False
        )

    op.create_table(
        "teammate_group_inboxes",
        sa.Column(
            "company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("group_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("inbox_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_teammate_group_inboxes_company_id_companies"),
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["teammate_groups.id"],
            name=op.f("fk_teammate_group_inboxes_group_id_teammate_groups"),
        ),
        sa.ForeignKeyConstraint(
            ["inbox_id"], ["inboxes.id"], name=op.f("fk_teammate_group_inboxes_inbox_id_inboxes")
        ),
        sa.PrimaryKeyConstraint("group_id", "inbox_id", name=op.f("pk_teammate_group_inboxes")),
    )


def downgrade() -> None:
    op.drop_table("teammate_group_inboxes")
    with op.batch_alter_table("inbox_access", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbox_access_teammate_id"))

    op.drop_table("inbox_access")
    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_channels_inbox_id"))

    op.drop_table("channels")
    op.drop_table("teammate_group_teams")
    op.drop_table("teammate_group_members")
    with op.batch_alter_table("team_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_team_members_teammate_id"))

    op.drop_table("team_members")
    with op.batch_alter_table("tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tags_parent_id"))
        batch_op.drop_index(batch_op.f("ix_tags_company_id_id"))

    op.drop_table("tags")
    with op.batch_alter_table("signatures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signatures_company_id_id"))

    op.drop_table("signatures")
    with op.batch_alter_table("inboxes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inboxes_company_id_id"))

    op.drop_table("inboxes")
    op.drop_table("api_tokens")
    op.drop_table("teams")
    op.drop_table("teammates")
    op.drop_table("teammate_groups")
    op.drop_table("statuses")
    op.drop_table("rate_limit_windows")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_events_company_id_is_public_id"))

    op.drop_table("events")
    op.drop_table("custom_fields")
    op.drop_table("companies")
