"""Layered experiments: one running experiment per (scene, layer); bucket parameter
overrides, whitelists and time windows.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)
RUNNING = sa.text("status = 'running'")


def _running_index(*columns: str) -> None:
    op.create_index(
        "uq_experiments_running",
        "experiments",
        list(columns),
        unique=True,
        sqlite_where=RUNNING,
        postgresql_where=RUNNING,
    )


def upgrade() -> None:
    op.add_column(
        "experiments", sa.Column("layer", sa.String(32), nullable=False, server_default="main")
    )
    op.add_column("experiments", sa.Column("whitelist", JSON, nullable=True))
    op.add_column("experiments", sa.Column("starts_at", TS, nullable=True))
    op.add_column("experiments", sa.Column("ends_at", TS, nullable=True))
    op.add_column("buckets", sa.Column("params", JSON, nullable=True))
    op.drop_index("uq_experiments_running", table_name="experiments")
    _running_index("scene", "layer")


def downgrade() -> None:
    op.execute(
        "UPDATE experiments SET status = 'stopped', stopped_at = CURRENT_TIMESTAMP "
        "WHERE layer <> 'main' AND status = 'running'"
    )
    op.drop_index("uq_experiments_running", table_name="experiments")
    with op.batch_alter_table("buckets") as batch:
        batch.drop_column("params")
    with op.batch_alter_table("experiments") as batch:
        for name in ("ends_at", "starts_at", "whitelist", "layer"):
            batch.drop_column(name)
    _running_index("scene")
