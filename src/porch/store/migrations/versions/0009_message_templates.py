"""message templates

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23

Message templates (``rsp_``), their folders (``rsf_``) and the inboxes a template is restricted
to. A template's files are rows of ``attachments`` with owner_type "template".
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

Key = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "message_template_folders",
        sa.Column("id", Key, autoincrement=True, nullable=False),
        sa.Column("company_id", Key, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("parent_id", Key, nullable=True),
        sa.Column("team_id", Key, nullable=True),
        sa.Column("owner_teammate_id", Key, nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_message_template_folders_company_id_companies"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_teammate_id"],
            ["teammates.id"],
            name=op.f("fk_message_template_folders_owner_teammate_id_teammates"),
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["message_template_folders.id"],
            name=op.f("fk_message_template_folders_parent_id_message_template_folders"),
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_message_template_folders_team_id_teams")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_template_folders")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_message_template_folders_company_id_id"),
        "message_template_folders",
        ["company_id", "id"],
    )
    op.create_index(
        op.f("ix_message_template_folders_parent_id"), "message_template_folders", ["parent_id"]
    )
    op.create_table(
        "message_templates",
        sa.Column("id", Key, autoincrement=True, nullable=False),
        sa.Column("company_id", Key, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("folder_id", Key, nullable=True),
        sa.Column("team_id", Key, nullable=True),
        sa.Column("owner_teammate_id", Key, nullable=True),
        sa.Column("is_available_for_all_inboxes", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_message_templates_company_id_companies")
        ),
        sa.ForeignKeyConstraint(
            ["folder_id"],
            ["message_template_folders.id"],
            name=op.f("fk_message_templates_folder_id_message_template_folders"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_teammate_id"],
            ["teammates.id"],
            name=op.f("fk_message_templates_owner_teammate_id_teammates"),
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_message_templates_team_id_teams")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_templates")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_message_templates_company_id_id"), "message_templates", ["company_id", "id"]
    )
    op.create_index(op.f("ix_message_templates_folder_id"), "message_templates", ["folder_id"])
    op.create_table(
        "message_template_inboxes",
        sa.Column("company_id", Key, nullable=False),
        sa.Column("template_id", Key, nullable=False),
        sa.Column("inbox_id", Key, nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_message_template_inboxes_company_id_companies"),
        ),
        sa.ForeignKeyConstraint(
            ["inbox_id"], ["inboxes.id"], name=op.f("fk_message_template_inboxes_inbox_id_inboxes")
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["message_templates.id"],
            name=op.f("fk_message_template_inboxes_template_id_message_templates"),
        ),
        sa.PrimaryKeyConstraint(
            "template_id", "inbox_id", name=op.f("pk_message_template_inboxes")
        ),
    )


def downgrade() -> None:
    op.drop_table("message_template_inboxes")
    op.drop_index(op.f("ix_message_templates_folder_id"), table_name="message_templates")
    op.drop_index(op.f("ix_message_templates_company_id_id"), table_name="message_templates")
    op.drop_table("message_templates")
    op.drop_index(
        op.f("ix_message_template_folders_parent_id"), table_name="message_template_folders"
    )
    op.drop_index(
        op.f("ix_message_template_folders_company_id_id"), table_name="message_template_folders"
    )
    op.drop_table("message_template_folders")
