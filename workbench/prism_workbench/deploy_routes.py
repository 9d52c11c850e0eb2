"""The Deploy page's routes: the page, the deploy gate's check, the deploy itself (then
its rollout, node by node), and promoting or aborting a bucket's canary (from the Deploy
or the Scene page). Changes are CSRF-checked, need an operator and go through
``Control`` with the logged-in user as the actor."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from prism_platform.control.facade import Control
from prism_platform.errors import NotFound, PrismPlatformError
from prism_workbench.access import Denied, action_session, page_session
from prism_workbench.deploy import (
    FORM_ERRORS,
    PATH,
    Notice,
    Selection,
    Submission,
    control_notice,
    deploy_response,
    read_submission,
)
from prism_workbench.numbers import whole_number
from prism_workbench.render import Renderer
from prism_workbench.scene import scene_response
from prism_workbench.session import Session


def _generation(text: str) -> int:
    found = whole_number(text)
    if found is None:
        raise Denied(404, f"no generation {text[:20]!r}")
    return found


def build_deploy_router(control: Control, render: Renderer) -> APIRouter:
    router = APIRouter(prefix="/workbench", include_in_schema=False)

    def submitted(session: Session, form: dict[str, str]) -> Submission | Response:
        """The form read and checked field by field, or the page showing its errors."""
        sel = Selection.of(form)
        try:
            sub = read_submission(control, form)
        except PrismPlatformError as exc:  # an unknown script, one that fails to load, …
            return deploy_response(
                control, render, session, sel, status=exc.status, **control_notice(exc)
            )
        if sub.invalid:
            return deploy_response(
                control, render, session, sel, sub=sub, status=422, error=FORM_ERRORS
            )
        return sub

    def refused(session: Session, sub: Submission, exc: PrismPlatformError) -> Response:
        """The page with Control's refusal: next to the field when it is the analysis'."""
        if sub.refused_inline(exc):
            notice = Notice(error=FORM_ERRORS)
        else:
            notice = control_notice(exc)
        return deploy_response(
            control, render, session, sub.sel, sub=sub, status=exc.status, **notice
        )

    @router.get("/deploy")
    def deploy_page(request: Request) -> Response:
        session = page_session(request, control)
        return deploy_response(control, render, session, Selection.of(request.query_params))

    @router.post("/deploy/check")
    async def check(request: Request) -> Response:
        """Validate the form and run the deploy gate on it, deploying nothing."""
        session, form = await action_session(request, control)
        sub = submitted(session, form)
        if not isinstance(sub, Submission):
            return sub
        sel = sub.sel
        try:
            verdict = control.check_deploy(
                sel.scene,
                sel.bucket,
                sel.script,
                config=sel.config,
                params=sub.params if sel.editing else None,
                version=sel.version,
                canary_percent=sub.canary_percent,
                analysis=sub.analysis,
            )
        except PrismPlatformError as exc:
            return refused(session, sub, exc)
        rejected = verdict.gate is not None and not verdict.gate.ok
        return deploy_response(
            control, render, session, sel, sub=sub, check=verdict, status=422 if rejected else 200
        )

    @router.post("/deploy")
    async def deploy(request: Request) -> Response:
        """Deploy (saving edited parameters as a named config first), then watch it roll out."""
        session, form = await action_session(request, control)
        sub = submitted(session, form)
        if not isinstance(sub, Submission):
            return sub
        sel, actor = sub.sel, session.principal.name
        config = sel.config
        try:
            if sel.editing and sub.params is not None:
                try:
                    saved = control.put_config(
                        sel.script, sub.save_as, sub.params, actor=actor, version=sel.version
                    )
                except PrismPlatformError as exc:
                    if exc.field != "name":
                        raise
                    sub.errors["save_as"] = exc.message
                    return deploy_response(
                        control, render, session, sel, sub=sub, status=exc.status, error=FORM_ERRORS
                    )
                config = saved.name
            change = control.deploy(
                sel.scene,
                sel.bucket,
                sel.script,
                config,
                actor=actor,
                version=sel.version,
                note=sub.note,
                canary_percent=sub.canary_percent,
                analysis=sub.analysis,
            )
        except PrismPlatformError as exc:
            return refused(session, sub, exc)
        where = f"{PATH}/rollout/{change.snapshot.generation}?deployment={change.deployment.id}"
        return RedirectResponse(where, status_code=303)

    @router.get("/deploy/rollout/{generation}")
    def rollout_page(request: Request, generation: str, deployment: str = "") -> Response:
        session = page_session(request, control)
        gen = _generation(generation)
        dep, deployment_id = None, whole_number(deployment)
        if deployment_id is not None:
            try:
                dep = control.deployment(deployment_id)
            except NotFound:
                dep = None
        return render.page(
            "rollout.html", session, path=PATH, r=control.rollout(gen), dep=dep, fragment=False
        )

    @router.get("/fragments/rollout/{generation}")
    def rollout_fragment(request: Request, generation: str) -> Response:
        """The rollout's table; it polls itself every second until every node serves it."""
        session = page_session(request, control)
        gen = _generation(generation)
        return render.page("_rollout.html", session, r=control.rollout(gen), fragment=True)

    async def end_canary(request: Request, scene: str, bucket: str, *, promote: bool) -> Response:
        session, form = await action_session(request, control)
        actor = session.principal.name
        canary_id = whole_number(str(form.get("canary_id", "")))  # the canary the page showed
        try:
            end = control.promote_canary if promote else control.abort_canary
            change = end(scene, bucket, actor=actor, canary_id=canary_id)
        except PrismPlatformError as exc:
            notice, status = control_notice(exc), exc.status
        else:
            d, gen = change.deployment, change.snapshot.generation
            served = f"{d.script_path}@{d.version}:{d.config_name}"
            if promote:
                done = (
                    f"{scene}/{bucket}: canary promoted, {served} serves the whole bucket "
                    f"(deployment {d.id}, generation {gen})"
                )
            else:
                done = (
                    f"{scene}/{bucket}: canary {served} ({d.canary_percent:g}%) aborted, "
                    f"its users are back on the primary deployment (generation {gen})"
                )
            notice, status = Notice(done=done), 200
        if form.get("back") == "scene":
            return scene_response(control, render, session, scene, status=status, **notice)
        sel = Selection(scene=scene, bucket=bucket)
        return deploy_response(control, render, session, sel, status=status, **notice)

    @router.post("/scenes/{scene}/buckets/{bucket}/canary/promote")
    async def promote_canary(request: Request, scene: str, bucket: str) -> Response:
        """Serve the bucket's canary to all its users."""
        return await end_canary(request, scene, bucket, promote=True)

    @router.post("/scenes/{scene}/buckets/{bucket}/canary/abort")
    async def abort_canary(request: Request, scene: str, bucket: str) -> Response:
        """End the bucket's canary: its users go back to the primary deployment."""
        return await end_canary(request, scene, bucket, promote=False)

    return router
