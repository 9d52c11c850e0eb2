"""Traffic sampling: each scene's sample rate for the replay log (``scenes.sample_rate``,
a fraction of the users, default 1 %).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHECK = "sample_rate"  # ck_scenes_sample_rate by the naming convention


def upgrade() -> None:
    with op.batch_alter_table("scenes") as batch:
        batch.add_column(
            sa.Column("sample_rate", sa.Float(), nullable=False, server_default=sa.text("0.01"))
        )
        batch.create_check_constraint(CHECK, "sample_rate BETWEEN 0 AND 1")


def downgrade() -> None:
    with op.batch_alter_table("scenes") as batch:
        batch.drop_constraint(CHECK, type_="check")
        batch.drop_column("sample_rate")
