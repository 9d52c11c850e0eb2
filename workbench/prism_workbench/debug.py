"""The Request debugger (``/workbench/debug``): one request run with its full trace, and
optionally the same request against a second target, side by side with what differs.

Running the live routing changes nothing, so every role may (a CSRF-checked POST: it runs
a strategy). The second target, another deployment of the scene or a script at a version
with a config, is a dry run of what may never have been deployed: operators only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from prism_platform.accounts.roles import VIEWER
from prism_platform.control.facade import Control
from prism_platform.errors import PrismPlatformError
from prism_workbench.access import Denied, action_session, may_act, page_session
from prism_workbench.numbers import whole_number
from prism_workbench.render import Renderer
from prism_workbench.session import Session

PATH = "/workbench/debug"
MAX_SIZE = 200
IMAGE_FIELDS = ("image", "image_url", "thumbnail", "picture")
"""Item fields shown as a picture (when they hold an http(s) or site-relative URL)."""
FORM_ERRORS = "The request has errors: see the marked fields."
COMPARE_NEEDS_OPERATOR = (
    "comparing with a deployment or a script is a dry run of what may not be deployed: "
    "it needs an operator"
)
_FORM_FIELD = {
    "scene": "scene",
    "user_id": "user",
    "size": "size",
    "deployment_id": "deployment",
    "script": "script",
    "version": "version",
    "config": "config",
}


@dataclass
class DebugForm:
    """The form as typed (to show it again) and each field's problem."""

    scene: str = ""
    user: str = ""
    context: str = "{}"
    size: str = "20"
    compare: str = ""
    """``""`` (nothing), ``deployment`` or ``script``."""
    deployment: str = ""
    script: str = ""
    version: str = ""
    config: str = ""
    params: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, form: Mapping[str, str]) -> DebugForm:
        def get(name: str, default: str = "") -> str:
            return str(form.get(name, default)).strip()

        out = cls(
            scene=get("scene"),
            user=get("user"),
            context=get("context", "{}"),
            size=get("size", "20"),
            compare=get("compare"),
            deployment=get("deployment"),
            script=get("script"),
            version=get("version"),
            config=get("config"),
            params=get("params"),
        )
        if out.compare not in ("", "deployment", "script"):
            out.compare = ""
        return out

    def request(self) -> dict[str, Any]:
        """The request's arguments for ``Control.debug_request``, noting bad fields."""
        if not self.user:
            self.errors["user"] = "the user id of the request is required"
        size = whole_number(self.size, 3) or 0
        if not 1 <= size <= MAX_SIZE:
            self.errors["size"] = f"a whole number from 1 to {MAX_SIZE}"
        context = self._json_object("context", self.context or "{}")
        return {"scene": self.scene, "user_id": self.user, "context": context, "size": size}

    def target(self) -> dict[str, Any] | None:
        """The second target's arguments, or ``None`` when not comparing."""
        if self.compare == "deployment":
            deployment_id = whole_number(self.deployment)
            if deployment_id is None:
                self.errors["deployment"] = "choose a deployment of the scene"
                return None
            return {"deployment_id": deployment_id}
        if self.compare != "script":
            return None
        if not self.script:
            self.errors["script"] = "name a script, e.g. popular_only.py"
        target: dict[str, Any] = {"script": self.script, "version": self.version or None}
        target["config"] = self.config or None
        if self.params:
            target["params"] = self._json_object("params", self.params)
        return target

    def _json_object(self, name: str, text: str) -> dict[str, Any]:
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            self.errors[name] = f"not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
            return {}
        except ValueError as exc:  # an integer of more digits than Python converts
            self.errors[name] = f"not JSON that can be read: {exc}"
            return {}
        if not isinstance(value, dict):
            self.errors[name] = 'a JSON object, e.g. {"page": "home"}'
            return {}
        return value

    def refused(self, exc: PrismPlatformError) -> bool:
        """Put Control's refusal next to the field it names; whether it named one."""
        name = exc.field or ""
        where = _FORM_FIELD.get(name)
        if name.startswith("context"):
            where = "context"
        elif name.startswith("params"):
            where = "params"
        if where is None:
            return False
        said = exc.message
        self.errors[where] = said if said.startswith(name) else f"{name}: {said}"
        return True


def image_of(fields: Mapping[str, Any] | None) -> str | None:
    """The URL of an item's picture, if one of its fields holds one."""
    for name in IMAGE_FIELDS:
        value = (fields or {}).get(name)
        if isinstance(value, str) and value.startswith(("https://", "http://", "/")):
            if not value.startswith("//"):
                return value
    return None


_STAGE_KEYS = frozenset(
    ("stage", "ms", "in", "out", "candidates", "candidates_total", "removed", "removed_total")
)


def stage_notes(stage: Mapping[str, Any]) -> dict[str, Any]:
    """What a stage noted besides its counts, candidates and removed items."""
    return {k: v for k, v in stage.items() if k not in _STAGE_KEYS}


def build_debug_router(control: Control, render: Renderer) -> APIRouter:
    router = APIRouter(prefix="/workbench", include_in_schema=False)

    @router.get("/debug")
    def debug_page(request: Request) -> Response:
        session = page_session(request, control)
        form = DebugForm.of(request.query_params)
        return debug_response(control, render, session, form)

    @router.get("/fragments/debug/deployments")
    def deployments_fragment(request: Request, scene: str = "") -> Response:
        """The deployment choices of a scene (the form swaps them in when the scene
        changes)."""
        session = page_session(request, control)
        return render.page(
            "_debug_deployments.html", session, deployments=_deployments(control, scene)
        )

    @router.post("/debug")
    async def run(request: Request) -> Response:
        session, raw = await action_session(request, control, VIEWER)
        form = DebugForm.of(raw)
        if form.compare and not may_act(session):
            raise Denied(
                403,
                f"{session.principal.name} ({session.principal.role}): " + COMPARE_NEEDS_OPERATOR,
            )
        args, target = form.request(), form.target()
        if form.errors:
            return debug_response(control, render, session, form, status=422, error=FORM_ERRORS)
        try:
            a = await control.debug_request(**args)
            b = await control.debug_request(**args, **target) if target is not None else None
        except PrismPlatformError as exc:
            status = exc.status
            if form.refused(exc):
                return debug_response(
                    control, render, session, form, status=status, error=FORM_ERRORS
                )
            where = f" (field {exc.field})" if exc.field else ""
            error = f"{exc.status}: {exc.message}{where}"
            return debug_response(control, render, session, form, status=status, error=error)
        cmp = control.compare_requests(a, b) if b is not None else None
        return debug_response(control, render, session, form, a=a, b=b, cmp=cmp)

    return router


def debug_response(
    control: Control,
    render: Renderer,
    session: Session,
    form: DebugForm,
    *,
    status: int = 200,
    **context: Any,
) -> Response:
    scenes = control.scenes()
    names = [s.name for s in scenes]
    if form.scene not in names:
        form.scene = names[0] if names else ""
    scene = next((s for s in scenes if s.name == form.scene), None)
    return render.page(
        "debug.html",
        session,
        path=PATH,
        status=status,
        form=form,
        scenes=names,
        schema=scene.context_schema if scene is not None else None,
        deployments=_deployments(control, form.scene),
        scripts=_scripts(control),
        image_of=image_of,
        notes_of=stage_notes,
        **context,
    )


def _deployments(control: Control, scene: str) -> list[dict[str, Any]]:
    """The scene's deployments, newest first, labelled for a select."""
    if not scene:
        return []
    try:
        history = control.deployments(scene, limit=50)
    except PrismPlatformError:  # an unknown scene: nothing to choose
        return []
    out = []
    for d in history:
        state = "canary" if d.canary_percent is not None else "live" if d.active else "past"
        label = f"#{d.id} {d.bucket}: {d.script_path}@{d.version[:12]}:{d.config_name} ({state})"
        out.append({"id": d.id, "label": label})
    return out


def _scripts(control: Control) -> list[str]:
    """Script paths to suggest: registered ones and the working tree's."""
    paths = {s.path for s in control.scripts()}
    try:
        files = control.script_files("worktree").files
    except PrismPlatformError:
        files = []
    paths.update(f for f in files if f.endswith(".py") and not f.startswith("_"))
    return sorted(paths)
