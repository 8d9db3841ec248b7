"""channel_api

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-29

The Channel API: partner channels (a custom channel linked to its application), the JWT ids
seen (replay), the partner calls about a channel (authorization, delete), calls and
application message templates.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

Key = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "channel_jwt_ids",
        sa.Column("application_id", Key, nullable=False),
        sa.Column("jti", sa.Text(), nullable=False),
        sa.Column("company_id", Key, nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_channel_jwt_ids_application_id_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_channel_jwt_ids_company_id_companies")
        ),
        sa.PrimaryKeyConstraint("application_id", "jti", name=op.f("pk_channel_jwt_ids")),
    )
    op.create_index(
        op.f("ix_channel_jwt_ids_expires_at"), "channel_jwt_ids", ["expires_at"], unique=False
    )
    op.create_table(
        "application_message_templates",
        sa.Column("id", Key, autoincrement=True, nullable=False),
        sa.Column("company_id", Key, nullable=False),
        sa.Column("channel_id", Key, nullable=False),
        sa.Column("external_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("blurb", sa.Text(), nullable=False),
        sa.Column("is_disabled", sa.Boolean(), nullable=False),
        sa.Column("status_name", sa.Text(), nullable=False),
        sa.Column("variable_mappings", sa.Text(), nullable=False),
        sa.Column("template_preview", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name=op.f("fk_application_message_templates_channel_id_channels"),
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_application_message_templates_company_id_companies"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application_message_templates")),
        sa.UniqueConstraint(
            "channel_id",
            "external_id",
            name=op.f("uq_application_message_templates_channel_id_external_id"),
        ),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_application_message_templates_company_id_id"),
        "application_message_templates",
        ["company_id", "id"],
        unique=False,
    )
    op.create_table(
        "channel_calls",
        sa.Column("id", Key, autoincrement=True, nullable=False),
        sa.Column("company_id", Key, nullable=False),
        sa.Column("channel_id", Key, nullable=False),
        sa.Column("external_call_id", sa.Text(), nullable=False),
        sa.Column("direction", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("message_uid", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channels.id"], name=op.f("fk_channel_calls_channel_id_channels")
        ),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_channel_calls_company_id_companies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_calls")),
        sa.UniqueConstraint(
            "channel_id",
            "external_call_id",
            name=op.f("uq_channel_calls_channel_id_external_call_id"),
        ),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_channel_calls_company_id_id"), "channel_calls", ["company_id", "id"], unique=False
    )
    op.create_table(
        "partner_channels",
        sa.Column("channel_id", Key, nullable=False),
        sa.Column("company_id", Key, nullable=False),
        sa.Column("application_id", Key, nullable=False),
        sa.Column("base_url", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_partner_channels_application_id_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channels.id"], name=op.f("fk_partner_channels_channel_id_channels")
        ),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_partner_channels_company_id_companies")
        ),
        sa.PrimaryKeyConstraint("channel_id", name=op.f("pk_partner_channels")),
    )
    op.create_index(
        op.f("ix_partner_channels_application_id"),
        "partner_channels",
        ["application_id"],
        unique=False,
    )
    op.create_table(
        "partner_deliveries",
        sa.Column("id", Key, autoincrement=True, nullable=False),
        sa.Column("company_id", Key, nullable=False),
        sa.Column("channel_id", Key, nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.BigInteger(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channels.id"], name=op.f("fk_partner_deliveries_channel_id_channels")
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_partner_deliveries_company_id_companies"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_deliveries")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_partner_deliveries_company_id_channel_id"),
        "partner_deliveries",
        ["company_id", "channel_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_partner_deliveries_state_next_attempt_at"),
        "partner_deliveries",
        ["state", "next_attempt_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_partner_deliveries_state_next_attempt_at"), table_name="partner_deliveries"
    )
    op.drop_index(
        op.f("ix_partner_deliveries_company_id_channel_id"), table_name="partner_deliveries"
    )
    op.drop_table("partner_deliveries")
    op.drop_index(op.f("ix_partner_channels_application_id"), table_name="partner_channels")
    op.drop_table("partner_channels")
    op.drop_index(op.f("ix_channel_calls_company_id_id"), table_name="channel_calls")
    op.drop_table("channel_calls")
    op.drop_index(
        op.f("ix_application_message_templates_company_id_id"),
        table_name="application_message_templates",
    )
    op.drop_table("application_message_templates")
    op.drop_index(op.f("ix_channel_jwt_ids_expires_at"), table_name="channel_jwt_ids")
    op.drop_table("channel_jwt_ids")
