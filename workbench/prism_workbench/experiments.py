"""The Experiments pages: every scene's running experiments, and one scene's layers with
their reports and charts (:mod:`.experiment_view`); operators start an experiment on a
layer and stop a layer other than main. Changes go through ``Control`` with the logged-in
user as the actor."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from prism_platform.control.facade import Control
from prism_platform.db.records import HOLDOUT, MAIN_LAYER
from prism_platform.errors import ApprovalRequired, NotFound, PrismPlatformError
from prism_workbench.access import Denied, action_session, page_session
from prism_workbench.experiment_view import (
    MDES,
    METRICS,
    RANGES,
    Choices,
    by_layer,
    layer_panel,
)
from prism_workbench.numbers import whole_number
from prism_workbench.render import Renderer
from prism_workbench.session import Session
from prism_workbench.split import Proposal, Row, check, read_form

PATH = "/workbench/experiments"
FORM_ERRORS = "The experiment has errors: see the marked fields."


@dataclass(frozen=True, slots=True)
class LayerForm:
    """The start form as typed, and what is wrong with it (form field -> message)."""

    layer: str = ""
    params: str = ""
    proposal: Proposal = field(
        default_factory=lambda: Proposal("", [Row("control", "50"), Row("treatment", "50")])
    )
    errors: dict[str, str] = field(default_factory=dict)


def read_choices(metric: str, hours: str, mde: str) -> tuple[Choices, dict[str, str]]:
    """The page's GET choices; an unknown value falls back to the default, named in the
    errors."""
    errors: dict[str, str] = {}
    default = Choices()
    if metric not in METRICS:
        errors["metric"] = f"metric must be one of {', '.join(METRICS)}"
        metric = default.metric
    hours_n = whole_number(hours, 3) or -1
    if hours_n not in RANGES:
        errors["hours"] = f"hours must be one of {', '.join(map(str, RANGES))}"
        hours_n = default.hours
    mde_n = whole_number(mde, 3) or -1
    if mde_n not in MDES:
        errors["mde"] = f"mde must be one of {', '.join(map(str, MDES))}"
        mde_n = default.mde
    return Choices(metric, hours_n, mde_n), errors


def experiment_response(
    control: Control,
    render: Renderer,
    session: Session,
    scene: str,
    *,
    choices: Choices | None = None,
    layer: str = "",
    experiment_id: int | None = None,
    form: LayerForm | None = None,
    status: int = 200,
    done: str = "",
    error: str = "",
) -> Response:
    """A scene's running experiments, main layer first (or only ``layer``'s, or the one
    experiment ``experiment_id``), and its past experiments, newest first."""
    try:
        control.scene(scene)
        every = control.experiments(scene)  # every layer, newest first
    except NotFound as exc:
        raise Denied(404, exc.message) from exc
    if experiment_id is not None:
        shown = [e for e in every if e.id == experiment_id]
        if not shown:
            raise Denied(404, f"scene {scene!r} has no experiment with id {experiment_id}")
    else:
        shown = by_layer([e for e in every if e.status == "running"])
        if layer:
            shown = [e for e in shown if e.layer == layer]
    choices = choices or Choices()
    return render.page(
        "experiment.html",
        session,
        path=PATH,
        status=status,
        scene=scene,
        panels=[layer_panel(control, e, choices) for e in shown],
        past=[e for e in every if e.status == "stopped"],
        one=experiment_id is not None or bool(layer),
        layer=layer,
        experiment_id=experiment_id,
        choices=choices,
        metrics=METRICS,
        ranges=RANGES,
        mdes=MDES,
        form=form or LayerForm(),
        done=done,
        error=error,
    )


def build_experiments_router(control: Control, render: Renderer) -> APIRouter:
    router = APIRouter(prefix="/workbench", include_in_schema=False)

    @router.get("/experiments")
    def experiments_index(request: Request) -> Response:
        session = page_session(request, control)
        scenes = [
            (s, by_layer([e for e in control.experiments(s.name) if e.status == "running"]))
            for s in control.scenes()
        ]
        return render.page("experiments.html", session, path=PATH, scenes=scenes)

    @router.get("/experiments/{scene}")
    def experiments_page(
        request: Request,
        scene: str,
        layer: str = "",
        experiment_id: str = "",
        metric: str = "ctr",
        hours: str = "72",
        mde: str = "5",
    ) -> Response:
        session = page_session(request, control)
        choices, errors = read_choices(metric, hours, mde)
        chosen = whole_number(experiment_id)
        if experiment_id and chosen is None:
            errors["experiment_id"] = "experiment_id must be an experiment's number"
        return experiment_response(
            control,
            render,
            session,
            scene,
            choices=choices,
            layer=layer.strip(),
            experiment_id=chosen,
            status=422 if errors else 200,
            error="; ".join(errors.values()),
        )

    @router.post("/experiments/{scene}/start")
    async def start_layer(request: Request, scene: str) -> Response:
        """Start an experiment on a layer; ``add`` shows one more bucket row."""
        session, fields = await action_session(request, control)
        name, rows = read_form(fields)
        layer, params_text = fields.get("layer", "").strip(), fields.get("params", "").strip()
        if fields.get("add"):
            grown = LayerForm(layer, params_text, Proposal(name, [*rows, Row("", "")]))
            return experiment_response(control, render, session, scene, form=grown)
        proposal = check(name, rows)
        errors = dict(proposal.errors)
        if not layer:
            errors["layer"] = "name the layer"
        elif layer == MAIN_LAYER:
            errors["layer"] = (
                "the main layer's split is changed on the Scene page, which previews the "
                "users who move"
            )
        params, problem = _params(params_text)
        if problem:
            errors["params"] = problem
        typed = LayerForm(layer, params_text, proposal, errors)
        if errors:
            return experiment_response(
                control, render, session, scene, form=typed, status=422, error=FORM_ERRORS
            )
        buckets = [(b, p) for b, p in proposal.buckets if b != HOLDOUT]
        holdout = next((p for b, p in proposal.buckets if b == HOLDOUT), None)
        try:
            exp = control.start_experiment(
                scene,
                proposal.name,
                buckets,
                actor=session.principal.name,
                layer=layer,
                params=params,
                holdout_percent=holdout,
            )
        except ApprovalRequired as exc:
            return experiment_response(
                control, render, session, scene, status=202, done=exc.message
            )
        except PrismPlatformError as exc:
            at = _form_field(exc.field)
            if at is None:
                where = f" (field {exc.field})" if exc.field else ""
                return experiment_response(
                    control,
                    render,
                    session,
                    scene,
                    form=typed,
                    status=exc.status,
                    error=f"{exc.message}{where}",
                )
            typed.errors[at] = exc.message
            return experiment_response(
                control, render, session, scene, form=typed, status=exc.status, error=FORM_ERRORS
            )
        split = ", ".join(f"{b.name} {b.percent:g}%" for b in exp.buckets)
        done = f"Experiment {exp.name} (id {exp.id}) runs on layer {exp.layer}: {split}"
        return experiment_response(control, render, session, scene, done=done)

    @router.post("/experiments/{scene}/stop")
    async def stop_layer(request: Request, scene: str) -> Response:
        session, fields = await action_session(request, control)
        layer = fields.get("layer", "").strip()
        try:
            exp = control.stop_layer(scene, layer, actor=session.principal.name)
        except ApprovalRequired as exc:
            return experiment_response(
                control, render, session, scene, status=202, done=exc.message
            )
        except PrismPlatformError as exc:
            where = f" (field {exc.field})" if exc.field else ""
            return experiment_response(
                control, render, session, scene, status=exc.status, error=f"{exc.message}{where}"
            )
        done = f"Layer {layer} stopped: experiment {exp.name} (id {exp.id}) no longer runs"
        return experiment_response(control, render, session, scene, done=done)

    return router


def _params(text: str) -> tuple[dict[str, Any] | None, str]:
    """The parameter overrides typed as JSON (bucket -> object), or what is wrong."""
    if not text:
        return None, ""
    try:
        value = json.loads(text)
    except ValueError as exc:
        return None, f"not JSON: {exc}"
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        return None, 'an object of bucket -> parameter overrides, e.g. {"treatment": {"k": 1}}'
    return value, ""


def _form_field(platform_field: str | None) -> str | None:
    """The start form's field a platform error is about, if the form has it."""
    if platform_field in ("layer", "name"):
        return platform_field
    if platform_field is not None and (
        platform_field.startswith("params") or platform_field.endswith(".params")
    ):
        return "params"
    if platform_field in ("buckets", "holdout_percent"):
        return "buckets"
    return None
