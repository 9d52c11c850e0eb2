"""The Approvals page: changes to protected scenes that wait for a second operator, with
what each would change (a deployment's kinds: the bucket's current deployment against
the requested one and the config params that differ; traffic: the current against the
requested split) and the gate's result at request time; approve, reject (with a reason),
an admin's override of their own request (with a reason), the requester's cancel; the
decided requests below. And an admin's protect/unprotect of a scene (the Scene page)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from prism_platform.accounts.roles import ADMIN, grants
from prism_platform.control.facade import Control
from prism_platform.db.records import ChangeRequestRecord
from prism_platform.errors import ApprovalRequired, NotFound, PrismPlatformError
from prism_workbench.access import Denied, action_session, may_act, page_session
from prism_workbench.numbers import whole_number
from prism_workbench.render import Renderer
from prism_workbench.scene import scene_response
from prism_workbench.session import Session

PATH = "/workbench/approvals"
DECIDED_SHOWN = 50
KINDS = {
    "deploy": "Deploy",
    "rollback": "Rollback",
    "rollback_bucket": "Rollback",
    "traffic": "Traffic change",
    "promote": "Canary promotion",
}


@dataclass(frozen=True, slots=True)
class RequestView:
    request: ChangeRequestRecord
    title: str
    diff: dict[str, Any]
    mine: bool
    """The viewer requested it: they may cancel it, not approve it."""
    may_decide: bool
    """An operator other than the requester: approve or reject."""
    may_override: bool
    """An admin who requested it: approve it anyway, with a reason."""


def title(request: ChangeRequestRecord) -> str:
    args = request.args
    what = KINDS.get(request.kind, request.kind)
    if args.get("method") == "stop_layer":
        what = f"Stop layer {args.get('layer')}"
    elif args.get("method") == "start_experiment":
        what = f"Traffic split ({args.get('layer', 'main')} layer)"
    elif args.get("method") == "deploy" and args.get("canary_percent"):
        what = f"Canary deploy ({args['canary_percent']:g}%)"
    elif args.get("method") == "set_whitelist":
        what = f"Whitelist ({args.get('layer')} layer)"
    return f"#{request.id} {what} on {request.scene}"


def held_notice(exc: ApprovalRequired) -> str:
    """The notice a change held for approval shows (as done, not as an error)."""
    return (
        f"Waiting for approval: change request #{exc.request_id}. {exc.scene} is protected: "
        "a second operator approves the change on the Approvals page."
    )


def views(control: Control, session: Session) -> list[RequestView]:
    me, role = session.principal.name, session.principal.role
    out = []
    for r in control.change_requests("pending"):
        mine = r.requested_by == me
        out.append(
            RequestView(
                request=r,
                title=title(r),
                diff=control.change_diff(r),
                mine=mine,
                may_decide=may_act(session) and not mine,
                may_override=mine and grants(role, ADMIN),
            )
        )
    return out


def approvals_response(
    control: Control,
    render: Renderer,
    session: Session,
    *,
    status: int = 200,
    errors: dict[int, str] | None = None,
    **notice: str,
) -> Response:
    decided = [r for r in control.change_requests(limit=DECIDED_SHOWN * 2) if r.status != "pending"]
    return render.page(
        "approvals.html",
        session,
        path=PATH,
        status=status,
        pending=views(control, session),
        decided=decided[:DECIDED_SHOWN],
        errors=errors or {},
        title=title,
        **notice,
    )


def _request_id(text: str) -> int:
    found = whole_number(text)
    if found is None:
        raise Denied(404, f"no change request {text[:20]!r}")
    return found


def build_approvals_router(control: Control, render: Renderer) -> APIRouter:
    router = APIRouter(prefix="/workbench", include_in_schema=False)

    @router.get("/approvals")
    def approvals_page(request: Request) -> Response:
        return approvals_response(control, render, page_session(request, control))

    @router.post("/approvals/{request_id}/{decision}")
    async def decide(request: Request, request_id: str, decision: str) -> Response:
        """``approve`` (``override=1``: an admin's own request), ``reject`` or ``cancel``."""
        session, form = await action_session(request, control)
        rid = _request_id(request_id)
        if decision not in ("approve", "reject", "cancel"):
            raise Denied(404, f"no decision {decision[:20]!r}")
        me, reason = session.principal.name, form.get("reason", "").strip()
        try:
            if decision == "approve":
                done = control.approve(
                    rid,
                    actor=me,
                    role=session.principal.role,
                    reason=reason,
                    override=form.get("override") == "1",
                )
            elif decision == "reject":
                done = control.reject(rid, actor=me, reason=reason)
            else:
                done = control.cancel(rid, actor=me, reason=reason)
        except PrismPlatformError as exc:  # no such request, not pending, not yours, …
            if exc.field == "reason":
                return approvals_response(
                    control, render, session, status=exc.status, errors={rid: exc.message}
                )
            return approvals_response(
                control,
                render,
                session,
                status=exc.status,
                error=f"Change request #{rid}: {exc.message}",
            )
        return approvals_response(control, render, session, done=decided(done))

    @router.post("/scenes/{scene}/protect")
    async def protect(request: Request, scene: str) -> Response:
        """An admin marks the scene protected (``protected=1``) or not."""
        session, form = await action_session(request, control, role=ADMIN)
        on = form.get("protected") == "1"
        try:
            control.update_scene(scene, actor=session.principal.name, protected=on)
        except NotFound as exc:
            raise Denied(404, exc.message) from exc
        done = (
            f"{scene} is protected: its deploys, rollbacks and traffic changes now wait "
            "for a second operator's approval"
            if on
            else f"{scene} is no longer protected: changes to it go ahead at once"
        )
        return scene_response(control, render, session, scene, done=done)

    return router


def decided(request: ChangeRequestRecord) -> str:
    """The notice after a decision."""
    result = request.result or {}
    if request.status == "approved" and "deployment" in result:
        made = f"deployment {result['deployment']} serves {result.get('serves', '')}"
        return f"Change request #{request.id} approved: {made}"
    if request.status == "approved" and "experiment" in result:
        return (
            f"Change request #{request.id} approved: experiment {result.get('name')} "
            f"runs on the {result.get('layer')} layer of {request.scene}"
        )
    return f"Change request #{request.id} {request.status}"
