"""conversations, their inboxes, tags, followers, links, reminders and comments

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "links",
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
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("external_url", sa.Text(), nullable=False),
        sa.Column("custom_fields", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_links_company_id_companies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_links")),
        sa.UniqueConstraint(
            "company_id", "external_url", name=op.f("uq_links_company_id_external_url")
        ),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "conversations",
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
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column(
            "assignee_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("status_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("waiting_since", sa.BigInteger(), nullable=True),
        sa.Column("ticket_number", sa.Integer(), nullable=True),
        sa.Column("is_private", sa.Boolean(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("due_at", sa.BigInteger(), nullable=True),
        sa.Column("custom_fields", sa.Text(), nullable=False),
        sa.Column(
            "merged_into_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("activity_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["teammates.id"], name=op.f("fk_conversations_assignee_id_teammates")
        ),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_conversations_company_id_companies")
        ),
        sa.ForeignKeyConstraint(
            ["merged_into_id"],
            ["conversations.id"],
            name=op.f("fk_conversations_merged_into_id_conversations"),
        ),
        sa.ForeignKeyConstraint(
            ["status_id"], ["statuses.id"], name=op.f("fk_conversations_status_id_statuses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversations")),
        sa.UniqueConstraint(
            "company_id", "ticket_number", name=op.f("uq_conversations_company_id_ticket_number")
        ),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_conversations_company_id_activity_at_id"),
            ["company_id", "activity_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_conversations_company_id_assignee_id_activity_at"),
            ["company_id", "assignee_id", "activity_at"],
            unique=False,
        )

    op.create_table(
        "comments",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "conversation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "author_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("is_pinned", sa.Boolean(), nullable=False),
        sa.Column(
            "reply_to_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("token_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("posted_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["teammates.id"], name=op.f("fk_comments_author_id_teammates")
        ),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_comments_company_id_companies")
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_comments_conversation_id_conversations"),
        ),
        sa.ForeignKeyConstraint(
            ["reply_to_id"], ["comments.id"], name=op.f("fk_comments_reply_to_id_comments")
        ),
        sa.ForeignKeyConstraint(
            ["token_id"], ["api_tokens.id"], name=op.f("fk_comments_token_id_api_tokens")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comments")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_comments_conversation_id_posted_at"),
            ["conversation_id", "posted_at"],
            unique=False,
        )

    op.create_table(
        "conversation_followers",
        sa.Column(
            "company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "conversation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "teammate_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_conversation_followers_company_id_companies"),
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_conversation_followers_conversation_id_conversations"),
        ),
        sa.ForeignKeyConstraint(
            ["teammate_id"],
            ["teammates.id"],
            name=op.f("fk_conversation_followers_teammate_id_teammates"),
        ),
        sa.PrimaryKeyConstraint(
            "conversation_id", "teammate_id", name=op.f("pk_conversation_followers")
        ),
    )
    with op.batch_alter_table("conversation_followers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_conversation_followers_teammate_id"), ["teammate_id"], unique=False
        )

    op.create_table(
        "conversation_inboxes",
        sa.Column(
            "company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "conversation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("inbox_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_conversation_inboxes_company_id_companies"),
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_conversation_inboxes_conversation_id_conversations"),
        ),
        sa.ForeignKeyConstraint(
            ["inbox_id"], ["inboxes.id"], name=op.f("fk_conversation_inboxes_inbox_id_inboxes")
        ),
        sa.PrimaryKeyConstraint(
            "conversation_id", "inbox_id", name=op.f("pk_conversation_inboxes")
        ),
    )
    with op.batch_alter_table("conversation_inboxes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_conversation_inboxes_inbox_id_conversation_id"),
            ["inbox_id", "conversation_id"],
            unique=False,
        )

    op.create_table(
        "conversation_links",
        sa.Column(
            "company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "conversation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("link_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_conversation_links_company_id_companies"),
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_conversation_links_conversation_id_conversations"),
        ),
        sa.ForeignKeyConstraint(
            ["link_id"], ["links.id"], name=op.f("fk_conversation_links_link_id_links")
        ),
        sa.PrimaryKeyConstraint("conversation_id", "link_id", name=op.f("pk_conversation_links")),
    )
    with op.batch_alter_table("conversation_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_conversation_links_link_id_conversation_id"),
            ["link_id", "conversation_id"],
            unique=False,
        )

    op.create_table(
        "conversation_tags",
        sa.Column(
            "company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "conversation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("tag_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_conversation_tags_company_id_companies")
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_conversation_tags_conversation_id_conversations"),
        ),
        sa.ForeignKeyConstraint(
            ["tag_id"], ["tags.id"], name=op.f("fk_conversation_tags_tag_id_tags")
        ),
        sa.PrimaryKeyConstraint("conversation_id", "tag_id", name=op.f("pk_conversation_tags")),
    )
    with op.batch_alter_table("conversation_tags", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_conversation_tags_tag_id_conversation_id"),
            ["tag_id", "conversation_id"],
            unique=False,
        )

    op.create_table(
        "reminders",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "conversation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "teammate_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("scheduled_at", sa.BigInteger(), nullable=False),
        sa.Column("status_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("fired_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_reminders_company_id_companies")
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_reminders_conversation_id_conversations"),
        ),
        sa.ForeignKeyConstraint(
            ["status_id"], ["statuses.id"], name=op.f("fk_reminders_status_id_statuses")
        ),
        sa.ForeignKeyConstraint(
            ["teammate_id"], ["teammates.id"], name=op.f("fk_reminders_teammate_id_teammates")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminders")),
        sa.UniqueConstraint(
            "conversation_id", "teammate_id", name=op.f("uq_reminders_conversation_id_teammate_id")
        ),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reminders_fired_at_scheduled_at"),
            ["fired_at", "scheduled_at"],
            unique=False,
        )

    op.create_table(
        "comment_mentions",
        sa.Column(
            "company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "comment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "teammate_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["comment_id"], ["comments.id"], name=op.f("fk_comment_mentions_comment_id_comments")
        ),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_comment_mentions_company_id_companies")
        ),
        sa.ForeignKeyConstraint(
            ["teammate_id"],
            ["teammates.id"],
            name=op.f("fk_comment_mentions_teammate_id_teammates"),
        ),
        sa.PrimaryKeyConstraint("comment_id", "teammate_id", name=op.f("pk_comment_mentions")),
    )


def downgrade() -> None:
    op.drop_table("comment_mentions")
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reminders_fired_at_scheduled_at"))

    op.drop_table("reminders")
    with op.batch_alter_table("conversation_tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conversation_tags_tag_id_conversation_id"))

    op.drop_table("conversation_tags")
    with op.batch_alter_table("conversation_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conversation_links_link_id_conversation_id"))

    op.drop_table("conversation_links")
    with op.batch_alter_table("conversation_inboxes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conversation_inboxes_inbox_id_conversation_id"))

    op.drop_table("conversation_inboxes")
    with op.batch_alter_table("conversation_followers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conversation_followers_teammate_id"))

    op.drop_table("conversation_followers")
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_comments_conversation_id_posted_at"))

    op.drop_table("comments")
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conversations_company_id_assignee_id_activity_at"))
        batch_op.drop_index(batch_op.f("ix_conversations_company_id_activity_at_id"))

    op.drop_table("conversations")
    op.drop_table("links")
