"""unique sibling tag names

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # An expression index (Alembic's autogenerate does not render these): NULL owner and parent
    # compare equal, so concurrent creates of the same company tag cannot both commit.
    op.create_index(
        "uq_tags_sibling_name",
        "tags",
        [
            "company_id",
            sa.text("coalesce(team_id, 0)"),
            sa.text("coalesce(owner_teammate_id, 0)"),
            sa.text("coalesce(parent_id, 0)"),
            "name",
        ],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("uq_tags_sibling_name", table_name="tags")
