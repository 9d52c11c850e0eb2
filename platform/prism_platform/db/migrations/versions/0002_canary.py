"""Canary deployments: a deployment may serve a percentage of its bucket.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PRIMARY = "active AND canary_percent IS NULL"
CANARY = "active AND canary_percent IS NOT NULL"


def _unique(name: str, where: str) -> None:
    op.create_index(
        name,
        "deployments",
        ["scene", "bucket"],
        unique=True,
        sqlite_where=sa.text(where),
        postgresql_where=sa.text(where),
    )


def upgrade() -> None:
    op.add_column("deployments", sa.Column("canary_percent", sa.Float(), nullable=True))
    op.drop_index("uq_deployments_active", table_name="deployments")
    _unique("uq_deployments_active", PRIMARY)
    _unique("uq_deployments_canary", CANARY)


def downgrade() -> None:
    op.execute("UPDATE deployments SET active = false WHERE canary_percent IS NOT NULL")
    op.drop_index("uq_deployments_canary", table_name="deployments")
    op.drop_index("uq_deployments_active", table_name="deployments")
    _unique("uq_deployments_active", "active")
    with op.batch_alter_table("deployments") as batch:
        batch.drop_column("canary_percent")
