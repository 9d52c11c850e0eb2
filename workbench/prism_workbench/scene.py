"""The Scene page's content: a scene's settings, its main-layer experiment with what
each bucket serves, and its other running layers; and the page's response, with the
traffic-split form (and its preview) for operators."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

from prism_platform.control.facade import Control
from prism_platform.db.records import ExperimentRecord, SceneRecord
from prism_platform.errors import NotFound
from prism_workbench.access import Denied
from prism_workbench.canary_analysis import AnalysisView, analysis_views
from prism_workbench.overview import served_as
from prism_workbench.render import Renderer
from prism_workbench.session import Session
from prism_workbench.split import Moves, Proposal, Row, moves, owners, redrawn_share

MAIN = "main"


@dataclass(frozen=True, slots=True)
class BucketView:
    name: str
    percent: float
    slots: tuple[int, int]
    """``[first, end)`` of the bucket's slots."""
    serves: str
    """``strategy@version:config`` of the live deployment, or empty."""
    config: dict[str, Any]
    canary: str
    error: str
    analysis: AnalysisView | None = None
    """The canary's analysis and latest verdict, if it has one."""
    canary_id: int | None = None
    """The canary's deployment (its buttons act on that one only)."""


@dataclass(frozen=True, slots=True)
class LayerView:
    layer: str
    name: str
    whitelist: dict[str, str]
    buckets: list[tuple[str, float, dict[str, Any]]]
    """(bucket, percent, parameter overrides)."""
    id: int = 0
    """The experiment's id."""


@dataclass(frozen=True, slots=True)
class SceneDetail:
    scene: SceneRecord
    main: ExperimentRecord | None
    buckets: list[BucketView]
    layers: list[LayerView]

    @property
    def split(self) -> list[tuple[str, float]]:
        """The running main-layer split: (bucket, percent) in order."""
        return [] if self.main is None else [(b.name, b.percent) for b in self.main.buckets]


def scene_detail(control: Control, name: str) -> SceneDetail:
    try:
        scene = control.scene(name)
    except NotFound as exc:
        raise Denied(404, exc.message) from exc
    running = [e for e in control.experiments(name) if e.status == "running"]
    main = next((e for e in running if e.layer == MAIN), None)
    served = {b["bucket"]: b for b in control.status()["scenes"].get(name, {}).get("buckets", [])}
    configs = {
        d.bucket: d.config_params
        for d in control.deployments(name, active=True)
        if d.canary_percent is None
    }
    buckets = []
    analyses = analysis_views(control, name)
    if main is not None:
        slots = owners([(b.name, b.percent) for b in main.buckets])
        for b in main.buckets:
            route = served.get(b.name, {})
            canary = route.get("canary")
            first = slots.index(b.name) if b.name in slots else 0
            buckets.append(
                BucketView(
                    name=b.name,
                    percent=b.percent,
                    slots=(first, first + slots.count(b.name)),
                    serves=served_as(route) if "strategy" in route else "",
                    config=configs.get(b.name, {}),
                    canary=f"{served_as(canary)} ({canary.get('percent')}%)" if canary else "",
                    error=str(route.get("error", "")),
                    analysis=analyses.get((name, b.name)),
                    canary_id=canary.get("deployment_id") if canary else None,
                )
            )
    layers = [
        LayerView(
            layer=e.layer,
            name=e.name,
            whitelist=dict(e.whitelist),
            buckets=[(b.name, b.percent, dict(b.params or {})) for b in e.buckets],
            id=e.id,
        )
        for e in sorted(running, key=lambda e: e.layer)
        if e.layer != MAIN
    ]
    return SceneDetail(scene, main, buckets, layers)


def current_proposal(detail: SceneDetail) -> Proposal:
    """The form as it first shows: the running split, under the running name (the same
    name keeps the salt, so users keep their slots)."""
    rows = [Row(b, f"{p:g}") for b, p in detail.split]
    return Proposal(detail.main.name if detail.main else "", rows)


def scene_response(
    control: Control,
    render: Renderer,
    session: Session,
    name: str,
    *,
    proposal: Proposal | None = None,
    preview: bool = False,
    status: int = 200,
    **context: Any,
) -> Response:
    """The Scene page; with ``preview`` and a proposal without errors, what it would
    change: the users who move (and, under a new name, the redrawn share), and the new
    buckets that no deployment serves yet."""
    detail = scene_detail(control, name)
    moved: Moves | None = None
    if preview and proposal is not None and proposal.buckets and detail.split:
        moved = moves(detail.split, proposal.buckets)
        if detail.main is not None and proposal.name != detail.main.name:
            context["redrawn"] = redrawn_share(detail.split, proposal.buckets)
        live = {b.name for b in detail.buckets if b.serves}
        context["unserved"] = [b for b, _ in proposal.buckets if b not in live]
    return render.page(
        "scene.html",
        session,
        path="/workbench/scenes",
        status=status,
        d=detail,
        s=detail.scene,
        proposal=proposal or current_proposal(detail),
        moved=moved,
        **context,
    )
