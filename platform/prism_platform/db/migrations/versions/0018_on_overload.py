"""Overload answers: what a scene's request that cannot start in time gets
(``scenes.on_overload``: ``refuse``, a ``503``, or ``standby``, the scene's standby page).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHECK = "on_overload"  # ck_scenes_on_overload by the naming convention


def upgrade() -> None:
    with op.batch_alter_table("scenes") as batch:
        batch.add_column(
            sa.Column("on_overload", sa.String(16), nullable=False, server_default="refuse")
        )
        batch.create_check_constraint(CHECK, "on_overload IN ('refuse', 'standby')")


def downgrade() -> None:
    with op.batch_alter_table("scenes") as batch:
        batch.drop_constraint(CHECK, type_="check")
        batch.drop_column("on_overload")
