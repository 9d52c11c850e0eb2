"""Event aggregates: hourly counts per serving dimension and the aggregator's offsets.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)
KEY = ("scene", "bucket", "strategy", "version", "channel", "hour")


def upgrade() -> None:
    op.create_table(
        "event_counts",
        sa.Column("scene", sa.String(64), nullable=False),
        sa.Column("bucket", sa.String(32), nullable=False),
        sa.Column("strategy", sa.String(512), nullable=False),
        sa.Column("version", sa.String(128), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("hour", TS, nullable=False),
        *(
            sa.Column(name, sa.BigInteger(), nullable=False)
            for name in ("exposures", "requests", "clicks", "carts", "orders")
        ),
        sa.Column("order_value", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint(*KEY, name="pk_event_counts"),
    )
    op.create_index("ix_event_counts_scene_hour", "event_counts", ["scene", "hour"])
    op.create_table(
        "event_offsets",
        sa.Column("sink", sa.String(512), nullable=False),
        sa.Column("offset", sa.String(64), nullable=False),
        sa.Column("events", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("sink", name="pk_event_offsets"),
    )


def downgrade() -> None:
    op.drop_table("event_offsets")
    op.drop_index("ix_event_counts_scene_hour", table_name="event_counts")
    op.drop_table("event_counts")
