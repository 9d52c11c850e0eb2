"""Change requests over HTTP: ``/admin/change-requests`` (list, show with what each would
change, approve, reject, cancel), and the ``202`` every route answers a change to a
protected scene with (the change waits as a change request; its id in the body and in
``Location``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from prism_platform.accounts.service import Principal
from prism_platform.api.admin import as_json
from prism_platform.api.auth import OPERATOR, VIEWER, Auth
from prism_platform.api.contract import BODY, GUARDED, Body, errors, text
from prism_platform.control.facade import Control
from prism_platform.control.field_types import SceneName
from prism_platform.db.records import ChangeRequestRecord
from prism_platform.errors import ApprovalRequired

Status = Literal["pending", "approved", "rejected", "cancelled", "failed"]


Reason = Annotated[str, text(2000)]
RequestId = Annotated[int, Path()]


class ApproveIn(Body):
    reason: Reason = ""
    override: bool = Field(
        default=False, description="an admin approving their own request (needs a reason)"
    )
    wait_s: float = Field(default=0.0, ge=0, le=60, description="wait until every node serves it")


class RejectIn(Body):
    reason: Annotated[str, text(2000, blank=False)]


class CancelIn(Body):
    reason: Reason = ""


DECISION = BODY | errors(404, 409)


def request_url(request_id: int) -> str:
    return f"/admin/change-requests/{request_id}"


def add_approval_routes(api: FastAPI, control: Control, auth: Auth) -> None:
    """The routes, and the answer to :class:`ApprovalRequired` from any route."""

    @api.exception_handler(ApprovalRequired)
    async def _held(request: Request, exc: ApprovalRequired) -> JSONResponse:
        url = request_url(exc.request_id)
        return JSONResponse(
            {**exc.as_json(), "url": url}, status_code=202, headers={"Location": url}
        )

    api.include_router(build_approvals_router(control, auth))


def build_approvals_router(control: Control, auth: Auth) -> APIRouter:
    r = APIRouter(prefix="/admin/change-requests", tags=["approvals"], responses=GUARDED)
    viewer, operator = auth.requires(VIEWER), auth.requires(OPERATOR)

    def shown(record: ChangeRequestRecord) -> dict[str, Any]:
        body: dict[str, Any] = as_json(record)
        body["url"] = request_url(record.id)
        if record.status == "pending":
            body["diff"] = control.change_diff(record)
        return body

    @r.get("")
    def list_requests(
        status: Status | None = None,
        scene: Annotated[SceneName | None, Query()] = None,
        limit: int = Query(200, ge=1, le=10_000),
        _: Principal = Depends(viewer),
    ) -> Any:
        """Newest first."""
        return as_json(control.change_requests(status, scene, limit))

    @r.get("/{request_id}", responses=errors(404))
    def show(request_id: RequestId, _: Principal = Depends(viewer)) -> Any:
        """A request; a pending one with what approving it would change now (``diff``)."""
        return shown(control.change_request(request_id))

    @r.post("/{request_id}/approve", responses=DECISION)
    def approve(
        request_id: RequestId, who: Principal = Depends(operator), body: ApproveIn | None = None
    ) -> Any:
        """Approve and make the change (as its requester asked, gated again). Its
        requester may not, except an admin with ``override`` and a reason."""
        body = body or ApproveIn()
        done = control.approve(
            request_id,
            actor=who.name,
            role=who.role,
            reason=body.reason,
            override=body.override,
            wait_s=body.wait_s,
        )
        return shown(done)

    @r.post("/{request_id}/reject", responses=DECISION)
    def reject(request_id: RequestId, body: RejectIn, who: Principal = Depends(operator)) -> Any:
        return shown(control.reject(request_id, actor=who.name, reason=body.reason))

    @r.post("/{request_id}/cancel", responses=DECISION)
    def cancel(
        request_id: RequestId, who: Principal = Depends(operator), body: CancelIn | None = None
    ) -> Any:
        """Withdraw one's own request."""
        reason = (body or CancelIn()).reason
        return shown(control.cancel(request_id, actor=who.name, reason=reason))

    return r
