"""Trusted experiment results: per-user hourly counts (the unit of the report's
statistics) and the events of verified tokens that did not count, per bucket and reason.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def _where() -> list[sa.Column[object]]:
    return [
        sa.Column("scene", sa.String(64), nullable=False),
        sa.Column("layer", sa.String(32), nullable=False),
        sa.Column("bucket", sa.String(32), nullable=False),
        sa.Column("hour", TS, nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "event_user_counts",
        *_where(),
        sa.Column("user_key", sa.BigInteger(), nullable=False, autoincrement=False),
        *(
            sa.Column(name, sa.BigInteger(), nullable=False)
            for name in ("exposures", "clicks", "carts", "orders")
        ),
        sa.Column("order_value", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint(
            "scene", "layer", "bucket", "hour", "user_key", name="pk_event_user_counts"
        ),
    )
    op.create_table(
        "event_rejections",
        *_where(),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("events", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "scene", "layer", "bucket", "hour", "reason", name="pk_event_rejections"
        ),
    )


def downgrade() -> None:
    op.drop_table("event_rejections")
    op.drop_table("event_user_counts")
