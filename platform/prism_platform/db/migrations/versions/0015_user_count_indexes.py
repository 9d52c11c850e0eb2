"""Indexes of the per-user hourly counts by user and by hour: ``prism user forget``
deletes one user's rows (``user_key``) and the age limit deletes old hours
(``PRISM_USER_COUNTS_MAX_AGE_S``), neither by a scan of the whole table.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-12
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_event_user_counts_user_key", "event_user_counts", ["user_key"])
    op.create_index("ix_event_user_counts_hour", "event_user_counts", ["hour"])


def downgrade() -> None:
    op.drop_index("ix_event_user_counts_hour", table_name="event_user_counts")
    op.drop_index("ix_event_user_counts_user_key", table_name="event_user_counts")
