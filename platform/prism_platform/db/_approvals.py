"""Change requests: changes to a protected scene, held until a second operator approves
(or rejects) them, or their requester cancels them. Every step is audited with the
request's id, under the entity ``change_request`` and the scene as the key."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from prism_platform.db import _validate as v
from prism_platform.db._base import StoreBase, utcnow
from prism_platform.db._experiments import checked_experiment
from prism_platform.db.approval_schema import KINDS, STATUSES, ChangeRequest
from prism_platform.db.records import MAIN_LAYER, ChangeKind, ChangeRequestRecord, ChangeStatus
from prism_platform.db.schema import Scene
from prism_platform.errors import Conflict, Invalid, NotFound

DECISIONS: dict[ChangeStatus, str] = {
    "approved": "change_approved",
    "rejected": "change_rejected",
    "cancelled": "change_cancelled",
}
"""The decisions on a pending request and the audit action of each."""


def _request_id(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise Invalid("change request id must be an integer", field="id")
    return value


class ApprovalOps(StoreBase):
    def is_protected(self, scene: str) -> bool:
        """Whether changes to ``scene`` wait for approval (``False`` for an unknown scene:
        the change itself then says it is unknown)."""
        with self._tx(write=False) as s:
            return bool(s.scalar(select(Scene.protected).where(Scene.name == scene)))

    def add_change_request(
        self,
        scene: str,
        kind: ChangeKind,
        args: dict[str, Any],
        *,
        actor: str,
        gate: dict[str, Any] | None = None,
    ) -> ChangeRequestRecord:
        scene = v.scene_name(scene, field="scene")
        if kind not in KINDS:
            raise Invalid(f"kind must be one of {', '.join(KINDS)}, got {kind!r}", field="kind")
        args = v.params(args, field="args")
        actor = v.actor(actor)
        with self._tx(write=True) as s:
            self._scene(s, scene, field="scene")
            row = ChangeRequest(
                scene=scene,
                kind=kind,
                args=args,
                requested_by=actor,
                requested_at=utcnow(),
                status="pending",
                reason="",
                gate=gate,
            )
            s.add(row)
            s.flush()
            detail = {"request": row.id, "kind": kind, "args": args, "gate": gate}
            self._audit(s, actor, "change_requested", "change_request", scene, detail)
            return row.to_record()

    def change_request(self, request_id: int) -> ChangeRequestRecord:
        request_id = _request_id(request_id)
        with self._tx(write=False) as s:
            return self._request(s, request_id).to_record()

    def change_requests(
        self, *, status: ChangeStatus | None = None, scene: str | None = None, limit: int = 200
    ) -> list[ChangeRequestRecord]:
        """Newest first."""
        stmt = select(ChangeRequest).order_by(ChangeRequest.id.desc())
        if status is not None:
            if status not in STATUSES:
                msg = f"status must be one of {', '.join(STATUSES)}, got {status!r}"
                raise Invalid(msg, field="status")
            stmt = stmt.where(ChangeRequest.status == status)
        if scene is not None:
            stmt = stmt.where(ChangeRequest.scene == v.scene_name(scene, field="scene"))
        stmt = stmt.limit(v.integer(limit, field="limit", low=1, high=10_000))
        with self._tx(write=False) as s:
            return [r.to_record() for r in s.scalars(stmt)]

    def decide_change_request(
        self,
        request_id: int,
        status: ChangeStatus,
        *,
        actor: str,
        reason: str = "",
        detail: dict[str, Any] | None = None,
    ) -> ChangeRequestRecord:
        """Decide on a pending request (one decision only: a second one is a Conflict),
        audited as ``change_approved``, ``change_rejected`` or ``change_cancelled``."""
        request_id = _request_id(request_id)
        action = DECISIONS.get(status)
        if action is None:
            raise Invalid(f"a decision is one of {', '.join(DECISIONS)}", field="status")
        actor = v.actor(actor)
        reason = v.text(reason, field="reason", max_len=2000).strip()
        with self._tx(write=True) as s:
            row = self._request(s, request_id, lock=True)
            if row.status != "pending":
                by = f" by {row.decided_by}" if row.decided_by else ""
                raise Conflict(
                    f"change request #{request_id} is {row.status}{by}, no longer pending",
                    field="id",
                )
            row.status, row.decided_by, row.decided_at = status, actor, utcnow()
            row.reason = reason
            audit = {"request": request_id, "kind": row.kind, "requested_by": row.requested_by}
            audit |= {"reason": reason, **(detail or {})}
            self._audit(s, actor, action, "change_request", row.scene, audit)
            s.flush()
            return row.to_record()

    def finish_change_request(
        self, request_id: int, result: dict[str, Any], *, failed: bool, actor: str
    ) -> ChangeRequestRecord:
        """Record what applying an approved request made, or (``failed``) its error: the
        request is then ``failed`` (audited as ``change_failed``)."""
        request_id = _request_id(request_id)
        result = v.params(result, field="result")
        actor = v.actor(actor)
        with self._tx(write=True) as s:
            row = self._request(s, request_id, lock=True)
            if row.status != "approved" or row.result is not None:
                done = " and made" if row.result is not None else ""
                raise Conflict(f"change request #{request_id} is {row.status}{done}", field="id")
            row.result = result
            if failed:
                row.status = "failed"
                detail = {"request": request_id, "kind": row.kind, **result}
                self._audit(s, actor, "change_failed", "change_request", row.scene, detail)
            s.flush()
            return row.to_record()

    def check_experiment(
        self,
        scene: str,
        name: str,
        buckets: Sequence[Any],
        *,
        salt: str | None = None,
        layer: str = MAIN_LAYER,
        params: Mapping[str, Mapping[str, Any]] | None = None,
        whitelist: Mapping[str, str] | None = None,
        holdout_percent: float | None = None,
        starts_at: datetime | None = None,
        ends_at: datetime | None = None,
    ) -> None:
        """What :meth:`start_experiment` would refuse of these arguments, refused now,
        with nothing written (a traffic change held for approval)."""
        checked = checked_experiment(
            scene,
            name,
            buckets,
            salt=salt,
            layer=layer,
            params=params,
            whitelist=whitelist,
            holdout_percent=holdout_percent,
            starts_at=starts_at,
            ends_at=ends_at,
            now=utcnow(),
        )
        with self._tx(write=False) as s:
            self._scene(s, checked.scene, field="scene")

    @staticmethod
    def check_whitelist(entries: Mapping[str, str], names: Sequence[str]) -> None:
        """What :meth:`set_whitelist` would refuse of ``entries``, refused now."""
        v.whitelist(entries, names)

    @staticmethod
    def _request(s: Session, request_id: int, *, lock: bool = False) -> ChangeRequest:
        if not 0 < request_id <= v.MAX_ROW_ID:  # a larger one cannot even be bound
            raise NotFound(f"no change request #{request_id}", field="id")
        stmt = select(ChangeRequest).where(ChangeRequest.id == request_id)
        row = s.scalar(stmt.with_for_update() if lock else stmt)
        if row is None:
            raise NotFound(f"no change request #{request_id}", field="id")
        return row
