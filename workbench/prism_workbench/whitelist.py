"""Whitelists on the Scene page: operators force a user into a bucket of a running
experiment (or release them). The experiment goes on as it is (same salt, window and
counts): ``Control.set_whitelist`` replaces only its forced users, audited and published."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from prism_platform.control.facade import Control
from prism_platform.errors import ApprovalRequired, NotFound, PrismPlatformError
from prism_workbench.access import Denied, action_session
from prism_workbench.render import Renderer
from prism_workbench.scene import scene_response

MAX_USER = 256


def build_whitelist_router(control: Control, render: Renderer) -> APIRouter:
    router = APIRouter(prefix="/workbench", include_in_schema=False)

    @router.post("/scenes/{scene}/whitelist")
    async def edit_whitelist(request: Request, scene: str) -> Response:
        """``op=add`` forces ``user`` into ``bucket``; ``op=remove`` releases ``user``;
        on the layer's running experiment ``experiment_id`` (the one the page showed)."""
        session, form = await action_session(request, control)
        layer, op = form.get("layer", ""), form.get("op", "")
        user, bucket = form.get("user", "").strip(), form.get("bucket", "")

        def answer(status: int, field: str = "", *, done: str = "", error: str = "") -> Response:
            # a field's error shows next to it, in the layer's whitelist form
            wl_error = {"layer": layer, "field": field, "message": error}
            return scene_response(
                control,
                render,
                session,
                scene,
                status=status,
                wl_error=wl_error,
                done=done,
                error=error,
            )

        try:
            running = next(
                (e for e in control.experiments(scene, layer) if e.status == "running"), None
            )
        except NotFound as exc:
            raise Denied(404, exc.message) from exc
        except PrismPlatformError as exc:  # a malformed layer name
            return answer(exc.status, error=exc.message)
        if running is None or str(running.id) != form.get("experiment_id"):
            return answer(409, error=f"layer {layer!r} now runs another experiment: look again")
        entries = dict(running.whitelist)
        if op == "add":
            if not user:
                return answer(422, "user", error="user: give the user id to force")
            if len(user) > MAX_USER or any(ord(c) < 32 for c in user):
                return answer(422, "user", error=f"user: at most {MAX_USER} characters, one line")
            names = [b.name for b in running.buckets]
            if bucket not in names:
                return answer(422, "bucket", error=f"bucket: one of {', '.join(names)}")
            entries[user] = bucket
        elif op == "remove":
            if entries.pop(user, None) is None:
                return answer(422, "user", error=f"user: {user!r} is not whitelisted")
        else:
            return answer(422, error="op: add or remove")
        try:
            exp = control.set_whitelist(
                scene, layer, entries, actor=session.principal.name, expected=running.whitelist
            )
        except ApprovalRequired as exc:
            return answer(202, done=exc.message)
        except PrismPlatformError as exc:
            if exc.field == "whitelist":  # another edit came first
                return answer(exc.status, error=exc.message)
            return answer(exc.status, "user", error=f"user: {exc.message}")
        what = f"{user} now gets bucket {bucket}" if op == "add" else f"{user} is drawn again"
        done = f"Whitelist of {exp.name} (layer {layer}): {what}; {len(exp.whitelist)} forced"
        return answer(200, done=done)

    return router
