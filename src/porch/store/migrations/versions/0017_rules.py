"""rules

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-29

rules, their runs and timers.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

Key = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "rules",
        sa.Column("id", Key, autoincrement=True, nullable=False),
        sa.Column("company_id", Key, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("team_id", Key, nullable=True),
        sa.Column("owner_teammate_id", Key, nullable=True),
        sa.Column("is_enabled", sa.Boolean(), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("deleted_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_rules_company_id_companies")
        ),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_rules_team_id_teams")),
        sa.ForeignKeyConstraint(
            ["owner_teammate_id"],
            ["teammates.id"],
            name=op.f("fk_rules_owner_teammate_id_teammates"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rules")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("rules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rules_company_id_id"), ["company_id", "id"])
    op.create_table(
        "rule_runs",
        sa.Column("id", Key, autoincrement=True, nullable=False),
        sa.Column("company_id", Key, nullable=False),
        sa.Column("rule_id", Key, nullable=False),
        sa.Column("event_id", Key, nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("conversation_id", Key, nullable=True),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("actions", sa.Text(), nullable=False),
        sa.Column("caused_from", Key, nullable=True),
        sa.Column("caused_to", Key, nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_rule_runs_company_id_companies")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_rule_runs_event_id_events")
        ),
        sa.ForeignKeyConstraint(["rule_id"], ["rules.id"], name=op.f("fk_rule_runs_rule_id_rules")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rule_runs")),
        sa.UniqueConstraint(
            "rule_id", "event_id", "kind", name=op.f("uq_rule_runs_rule_id_event_id_kind")
        ),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("rule_runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rule_runs_company_id_rule_id_id"), ["company_id", "rule_id", "id"]
        )
        batch_op.create_index(
            batch_op.f("ix_rule_runs_rule_id_caused_to"), ["rule_id", "caused_to"]
        )
    op.create_table(
        "rule_timers",
        sa.Column("id", Key, autoincrement=True, nullable=False),
        sa.Column("company_id", Key, nullable=False),
        sa.Column("rule_id", Key, nullable=False),
        sa.Column("conversation_id", Key, nullable=False),
        sa.Column("event_id", Key, nullable=False),
        sa.Column("due_at", sa.BigInteger(), nullable=False),
        sa.Column("fired_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_rule_timers_company_id_companies")
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"], ["rules.id"], name=op.f("fk_rule_timers_rule_id_rules")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rule_timers")),
        sa.UniqueConstraint(
            "rule_id", "conversation_id", name=op.f("uq_rule_timers_rule_id_conversation_id")
        ),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("rule_timers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rule_timers_fired_at_due_at"), ["fired_at", "due_at"])


def downgrade() -> None:
    op.drop_table("rule_timers")
    op.drop_table("rule_runs")
    op.drop_table("rules")
