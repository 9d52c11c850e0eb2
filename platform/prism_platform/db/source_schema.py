"""The pinned source of working-tree deployments: every file of a ``wt-<hash>`` version
(the script and the helpers it imports), stored when it passed the deploy gate, so every
node, reload and rollback serves exactly that code."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from prism_platform.db.schema import Base, Timestamp


class ScriptSource(Base):
    __tablename__ = "script_sources"

    version: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    path: Mapped[str] = mapped_column(sa.String(512), primary_key=True)
    content: Mapped[bytes] = mapped_column(sa.LargeBinary)
    created_at: Mapped[datetime] = mapped_column(Timestamp)
