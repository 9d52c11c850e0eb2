"""Event counts per experiment layer: ``layer`` joins the key of ``event_counts``
(existing rows belong to the main layer).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_KEY = ["scene", "bucket", "strategy", "version", "channel", "hour"]
PK = "pk_event_counts"


def upgrade() -> None:
    with op.batch_alter_table("event_counts") as batch:
        batch.add_column(sa.Column("layer", sa.String(32), nullable=False, server_default="main"))
        batch.drop_constraint(PK, type_="primary")
        batch.create_primary_key(PK, [OLD_KEY[0], "layer", *OLD_KEY[1:]])


def downgrade() -> None:
    op.execute("DELETE FROM event_counts WHERE layer <> 'main'")
    with op.batch_alter_table("event_counts") as batch:
        batch.drop_constraint(PK, type_="primary")
        batch.drop_column("layer")
        batch.create_primary_key(PK, OLD_KEY)
