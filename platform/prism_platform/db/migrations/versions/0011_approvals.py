"""Protected scenes and change requests (approvals): ``scenes.protected`` and the
``change_requests`` held for a second operator's approval.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(JSONB(), "postgresql")
KIND_CHECK = "kind IN ('deploy', 'rollback', 'rollback_bucket', 'traffic', 'promote')"
STATUS_CHECK = "status IN ('pending', 'approved', 'rejected', 'cancelled', 'failed')"


def upgrade() -> None:
    with op.batch_alter_table("scenes") as batch:
        batch.add_column(
            sa.Column("protected", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_table(
        "change_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scene", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("args", JSON, nullable=False),
        sa.Column("requested_by", sa.String(128), nullable=False),
        sa.Column("requested_at", TS, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("decided_by", sa.String(128), nullable=True),
        sa.Column("decided_at", TS, nullable=True),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.Column("gate", JSON, nullable=True),
        sa.Column("result", JSON, nullable=True),
        sa.CheckConstraint(KIND_CHECK, name="ck_change_requests_kind"),
        sa.CheckConstraint(STATUS_CHECK, name="ck_change_requests_status"),
        sa.ForeignKeyConstraint(["scene"], ["scenes.name"], name="fk_change_requests_scene_scenes"),
        sa.PrimaryKeyConstraint("id", name="pk_change_requests"),
    )
    op.create_index("ix_change_requests_status_scene", "change_requests", ["status", "scene"])


def downgrade() -> None:
    op.drop_index("ix_change_requests_status_scene", table_name="change_requests")
    op.drop_table("change_requests")
    with op.batch_alter_table("scenes") as batch:
        batch.drop_column("protected")
