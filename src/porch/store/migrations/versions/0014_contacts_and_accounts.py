"""contacts and accounts

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29

Accounts (with their domains), contact lists (Front's contact groups are the same rows) and
their members, contact notes; contacts gain an owner (team or teammate), links, whether the name
was set by hand, an account, and indexes for pages sorted by update or creation.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts",
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
        sa.Column("logo_url", sa.Text(), nullable=True),
        sa.Column("external_id", sa.Text(), nullable=True),
        sa.Column("custom_fields", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_accounts_company_id_companies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint(
            "company_id", "external_id", name=op.f("uq_accounts_company_id_external_id")
        ),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_accounts_company_id_created_at_id"),
            ["company_id", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_accounts_company_id_updated_at_id"),
            ["company_id", "updated_at", "id"],
            unique=False,
        )

    op.create_table(
        "account_domains",
        sa.Column(
            "company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("domain", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_account_domains_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_account_domains_company_id_companies")
        ),
        sa.UniqueConstraint(
            "company_id", "domain", name=op.f("uq_account_domains_company_id_domain")
        ),
    )
    with op.batch_alter_table("account_domains", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_account_domains_account_id"), ["account_id"], unique=False
        )

    op.create_table(
        "contact_lists",
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
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_contact_lists_company_id_companies")
        ),
        sa.ForeignKeyConstraint(
            ["owner_teammate_id"],
            ["teammates.id"],
            name=op.f("fk_contact_lists_owner_teammate_id_teammates"),
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_contact_lists_team_id_teams")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_lists")),
        sqlite_autoincrement=True,
    )
    # An expression index (Alembic's autogenerate does not render these): list names are unique
    # per owner, NULL owners comparing equal.
    op.create_index(
        "uq_contact_lists_owner_name",
        "contact_lists",
        [
            "company_id",
            sa.text("coalesce(team_id, 0)"),
            sa.text("coalesce(owner_teammate_id, 0)"),
            "name",
        ],
        unique=True,
    )
    op.create_table(
        "contact_list_members",
        sa.Column(
            "company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("list_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "contact_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_contact_list_members_company_id_companies"),
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_contact_list_members_contact_id_contacts"),
        ),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["contact_lists.id"],
            name=op.f("fk_contact_list_members_list_id_contact_lists"),
        ),
        sa.PrimaryKeyConstraint("list_id", "contact_id", name=op.f("pk_contact_list_members")),
    )
    with op.batch_alter_table("contact_list_members", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contact_list_members_contact_id"), ["contact_id"], unique=False
        )

    op.create_table(
        "contact_notes",
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
            "contact_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "author_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["teammates.id"], name=op.f("fk_contact_notes_author_id_teammates")
        ),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_contact_notes_company_id_companies")
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_contact_notes_contact_id_contacts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_notes")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("contact_notes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contact_notes_contact_id_created_at"),
            ["contact_id", "created_at"],
            unique=False,
        )

    # New foreign keys make SQLite rebuild the table: keep its AUTOINCREMENT and the highest key
    # it ever gave (a deleted contact's key must not name a new contact).
    bind = op.get_bind()
    sequence = None
    if bind.dialect.name == "sqlite":
        sequence = bind.execute(
            sa.text("SELECT seq FROM sqlite_sequence WHERE name = 'contacts'")
        ).scalar()
    with op.batch_alter_table(
        "contacts", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.add_column(
            sa.Column(
                "team_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column(
                "owner_teammate_id",
                sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("links", sa.Text(), server_default="[]", nullable=False))
        batch_op.add_column(
            sa.Column("name_is_manual", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
            )
        )
        batch_op.create_index(batch_op.f("ix_contacts_account_id"), ["account_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_contacts_company_id_created_at_id"),
            ["company_id", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_contacts_company_id_updated_at_id"),
            ["company_id", "updated_at", "id"],
            unique=False,
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_contacts_team_id_teams"), "teams", ["team_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_contacts_owner_teammate_id_teammates"),
            "teammates",
            ["owner_teammate_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_contacts_account_id_accounts"), "accounts", ["account_id"], ["id"]
        )
    if sequence is not None:
        bind.execute(sa.text("DELETE FROM sqlite_sequence WHERE name = 'contacts'"))
        bind.execute(
            sa.text(
                "INSERT INTO sqlite_sequence (name, seq)"
                " SELECT 'contacts', max(:seq, coalesce(max(id), 0)) FROM contacts"
            ),
            {"seq": sequence},
        )


def downgrade() -> None:
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_contacts_account_id_accounts"), type_="foreignkey")
        batch_op.drop_constraint(
            batch_op.f("fk_contacts_owner_teammate_id_teammates"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("fk_contacts_team_id_teams"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_contacts_company_id_updated_at_id"))
        batch_op.drop_index(batch_op.f("ix_contacts_company_id_created_at_id"))
        batch_op.drop_index(batch_op.f("ix_contacts_account_id"))
        batch_op.drop_column("account_id")
        batch_op.drop_column("name_is_manual")
        batch_op.drop_column("links")
        batch_op.drop_column("owner_teammate_id")
        batch_op.drop_column("team_id")

    with op.batch_alter_table("contact_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contact_notes_contact_id_created_at"))

    op.drop_table("contact_notes")
    op.drop_index("uq_contact_lists_owner_name", table_name="contact_lists")
    with op.batch_alter_table("contact_list_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contact_list_members_contact_id"))

    op.drop_table("contact_list_members")
    op.drop_table("contact_lists")
    with op.batch_alter_table("account_domains", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_domains_account_id"))

    op.drop_table("account_domains")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_accounts_company_id_updated_at_id"))
        batch_op.drop_index(batch_op.f("ix_accounts_company_id_created_at_id"))

    op.drop_table("accounts")
