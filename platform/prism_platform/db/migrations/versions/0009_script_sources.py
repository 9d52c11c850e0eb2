"""Pinned working-tree code: ``script_sources`` holds every file of each ``wt-<hash>``
version that was deployed.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "script_sources",
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("path", sa.String(512), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("version", "path", name="pk_script_sources"),
    )


def downgrade() -> None:
    # Releases before pinning cannot read a wt-<hash> version (they would ask git for it):
    # their deployments follow the working tree again, as they did then.
    op.execute("UPDATE deployments SET version = 'worktree' WHERE version LIKE 'wt-%'")
    op.drop_table("script_sources")
