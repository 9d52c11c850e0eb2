"""The entries of an event log counted past its offset: consumers of one group count
entries out of order (they share them; a crashed one's are claimed by another), so the
aggregator records each entry it counts past ``event_offsets.offset`` and counts an
entry only if it is past the offset and not recorded (``events/aggregate.py``).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-14
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event_counted",
        sa.Column("sink", sa.String(512), nullable=False),
        sa.Column("major", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("minor", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.PrimaryKeyConstraint("sink", "major", "minor", name="pk_event_counted"),
    )


def downgrade() -> None:
    op.drop_table("event_counted")
