"""The table of change requests: changes to a protected scene held for a second
operator's approval, with the call to make, the gate's result and the decision."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from prism_platform.db.records import ChangeKind, ChangeRequestRecord, ChangeStatus
from prism_platform.db.schema import Base, JSONType, Timestamp, utc

KINDS: tuple[ChangeKind, ...] = ("deploy", "rollback", "rollback_bucket", "traffic", "promote")
STATUSES: tuple[ChangeStatus, ...] = ("pending", "approved", "rejected", "cancelled", "failed")
KIND_CHECK = f"kind IN ({', '.join(repr(k) for k in KINDS)})"
STATUS_CHECK = f"status IN ({', '.join(repr(s) for s in STATUSES)})"


class ChangeRequest(Base):
    __tablename__ = "change_requests"
    __table_args__ = (
        sa.CheckConstraint(KIND_CHECK, name="kind"),
        sa.CheckConstraint(STATUS_CHECK, name="status"),
        sa.Index("ix_change_requests_status_scene", "status", "scene"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scene: Mapped[str] = mapped_column(sa.ForeignKey("scenes.name"))
    kind: Mapped[str] = mapped_column(sa.String(16))
    args: Mapped[dict[str, Any]] = mapped_column(JSONType)
    requested_by: Mapped[str] = mapped_column(sa.String(128))
    requested_at: Mapped[datetime] = mapped_column(Timestamp)
    status: Mapped[str] = mapped_column(sa.String(16))
    decided_by: Mapped[str | None] = mapped_column(sa.String(128))
    decided_at: Mapped[datetime | None] = mapped_column(Timestamp)
    reason: Mapped[str] = mapped_column(sa.Text, server_default="")
    gate: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONType)

    def to_record(self) -> ChangeRequestRecord:
        return ChangeRequestRecord(
            id=self.id,
            scene=self.scene,
            kind=cast(ChangeKind, self.kind),
            args=dict(self.args),
            requested_by=self.requested_by,
            requested_at=utc(self.requested_at),
            status=cast(ChangeStatus, self.status),
            gate=None if self.gate is None else dict(self.gate),
            decided_by=self.decided_by,
            decided_at=None if self.decided_at is None else utc(self.decided_at),
            reason=self.reason,
            result=None if self.result is None else dict(self.result),
        )
