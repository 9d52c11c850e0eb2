"""The workbench's changes (POST, CSRF-checked, operators and admins): roll back to a
deployment from History, activate a model version, preview and start a scene's traffic
split. Each goes through ``Control`` with
the logged-in user as the actor, so it is validated, gated and audited like the CLI's."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from prism_platform.control.facade import Control
from prism_platform.errors import ApprovalRequired, PrismPlatformError
from prism_workbench.access import action_session
from prism_workbench.approvals import held_notice
from prism_workbench.numbers import whole_number
from prism_workbench.pages import history_response, models_response
from prism_workbench.render import Renderer
from prism_workbench.scene import scene_response
from prism_workbench.split import Proposal, Row, check, read_form

SPLIT_ERRORS = "The split has errors: see the marked fields."


def build_actions_router(control: Control, render: Renderer) -> APIRouter:
    router = APIRouter(prefix="/workbench", include_in_schema=False)

    @router.post("/history/rollback")
    async def rollback(request: Request) -> Response:
        session, form = await action_session(request, control)
        scene, actor = form.get("scene", ""), form.get("actor", "")
        raw = form.get("deployment_id", "")
        deployment_id = whole_number(raw)
        if deployment_id is None:
            return history_response(
                control,
                render,
                session,
                status=422,
                error="no deployment named",
                scene=scene,
                actor=actor,
            )
        emergency = form.get("emergency") == "1"  # a protected scene's, without approval
        try:
            change = control.rollback(
                deployment_id, actor=session.principal.name, emergency=emergency
            )
        except ApprovalRequired as exc:
            notice = held_notice(exc)
            return history_response(
                control, render, session, status=202, done=notice, scene=scene, actor=actor
            )
        except PrismPlatformError as exc:  # the gate's rejection, an unknown deployment, …
            return history_response(
                control,
                render,
                session,
                status=exc.status,
                error=exc.message,
                scene=scene,
                actor=actor,
            )
        dep = change.deployment
        done = (
            f"{dep.scene}/{dep.bucket} serves {dep.script_path}@{dep.version}:"
            f"{dep.config_name} again (deployment {dep.id}, rolled back to {raw})"
        ) + (" as an emergency, without approval" if emergency else "")
        return history_response(control, render, session, done=done, scene=scene, actor=actor)

    @router.post("/models/activate")
    async def activate(request: Request) -> Response:
        session, form = await action_session(request, control)
        name, version = form.get("name", ""), form.get("version", "")
        try:
            out = control.activate_model(name, version, actor=session.principal.name)
        except (PrismPlatformError, RuntimeError) as exc:
            status = exc.status if isinstance(exc, PrismPlatformError) else 409
            return models_response(control, render, session, status=status, error=str(exc))
        done = f"{out['name']} serves version {out['serving']}"
        return models_response(control, render, session, done=done)

    @router.post("/scenes/{scene}/preview")
    async def preview_split(request: Request, scene: str) -> Response:
        """Check a split and show what it would change; ``add`` shows one more row."""
        session, form = await action_session(request, control)
        name, rows = read_form(form)
        if form.get("add"):
            grown = Proposal(name, [*rows, Row("", "")])
            return scene_response(control, render, session, scene, proposal=grown, focus=True)
        proposal = check(name, rows)
        if proposal.errors:
            return scene_response(
                control, render, session, scene, proposal=proposal, status=422, error=SPLIT_ERRORS
            )
        return scene_response(control, render, session, scene, proposal=proposal, preview=True)

    @router.post("/scenes/{scene}/split")
    async def start_split(request: Request, scene: str) -> Response:
        """Start the split as a new main-layer experiment (checked again first)."""
        session, form = await action_session(request, control)
        proposal = check(*read_form(form))
        if proposal.errors:
            return scene_response(
                control, render, session, scene, proposal=proposal, status=422, error=SPLIT_ERRORS
            )
        try:
            exp = control.start_experiment(
                scene, proposal.name, proposal.buckets, actor=session.principal.name
            )
        except ApprovalRequired as exc:
            notice = held_notice(exc)
            return scene_response(control, render, session, scene, status=202, done=notice)
        except PrismPlatformError as exc:
            where = f" (field {exc.field})" if exc.field else ""
            return scene_response(
                control,
                render,
                session,
                scene,
                proposal=proposal,
                status=exc.status,
                error=f"{exc.message}{where}",
            )
        split = ", ".join(f"{b.name} {b.percent:g}%" for b in exp.buckets)
        done = f"Experiment {exp.name} (id {exp.id}) now splits {scene}: {split}"
        return scene_response(control, render, session, scene, done=done)

    return router
