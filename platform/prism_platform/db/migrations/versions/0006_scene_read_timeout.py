"""A read budget per scene: ``scenes.read_timeout_ms`` (NULL: the node's
``PRISM_REDIS_TIMEOUT_MS``).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHECK = "read_timeout_ms"  # ck_scenes_read_timeout_ms by the naming convention


def upgrade() -> None:
    with op.batch_alter_table("scenes") as batch:
        batch.add_column(sa.Column("read_timeout_ms", sa.Integer(), nullable=True))
        batch.create_check_constraint(CHECK, "read_timeout_ms BETWEEN 1 AND 10000")


def downgrade() -> None:
    with op.batch_alter_table("scenes") as batch:
        batch.drop_constraint(CHECK, type_="check")
        batch.drop_column("read_timeout_ms")
