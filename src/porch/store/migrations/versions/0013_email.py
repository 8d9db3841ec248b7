"""email

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29

The email channel's tables: ``email_messages`` (an email message's Message-ID, looked up when a
reply names it, and its raw form in the blob store), ``company_secrets`` (what reply addresses
are signed with) and ``imap_states`` (how far an IMAP mailbox is imported).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "company_secrets",
        sa.Column(
            "company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_company_secrets_company_id_companies")
        ),
        sa.PrimaryKeyConstraint("company_id", "purpose", name=op.f("pk_company_secrets")),
    )
    op.create_table(
        "imap_states",
        sa.Column(
            "channel_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("mailbox", sa.Text(), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=False),
        sa.Column("last_uid", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channels.id"], name=op.f("fk_imap_states_channel_id_channels")
        ),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_imap_states_company_id_companies")
        ),
        sa.PrimaryKeyConstraint("channel_id", "mailbox", name=op.f("pk_imap_states")),
    )
    op.create_table(
        "email_messages",
        sa.Column(
            "message_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("rfc_id", sa.Text(), nullable=True),
        sa.Column("raw_sha256", sa.Text(), nullable=True),
        sa.Column("raw_size", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_email_messages_company_id_companies")
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_email_messages_message_id_messages")
        ),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_email_messages")),
    )
    with op.batch_alter_table("email_messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_email_messages_company_id_rfc_id"),
            ["company_id", "rfc_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("email_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_email_messages_company_id_rfc_id"))

    op.drop_table("email_messages")
    op.drop_table("imap_states")
    op.drop_table("company_secrets")
