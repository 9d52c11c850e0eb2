"""The overview's content, read from ``control.status()`` and
``control.metrics_series()``: every scene's charts over the last 30 minutes (summed over
the nodes), its buckets with what they serve and their recent traffic, and every live
node."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from prism_platform.control.facade import Control
from prism_workbench.charts import Series, line_chart

_COUNTS = ("requests", "errors", "fallbacks", "degraded")
CHART_WINDOW_S = 1800.0
CHART_STEP_S = 15.0
"""A point per 15 s: 120 over the 30 minutes, plenty for a chart 320 px wide."""


@dataclass(frozen=True, slots=True)
class Chart:
    title: str
    now: str
    """The newest point's values, e.g. ``p50 4.1 ms · p99 18 ms``."""
    svg: Markup


@dataclass(frozen=True, slots=True)
class BucketRow:
    bucket: str
    serves: str
    """``strategy@version:config``."""
    deployment_id: int | None
    canary: str
    """``strategy@version:config (N%)`` or empty."""
    recent: dict[str, int]
    breakers: list[dict[str, Any]] = field(default_factory=list)
    """This node's open or half-open breakers of the bucket's strategies."""
    leaks: list[dict[str, Any]] = field(default_factory=list)
    """This node's routes of the bucket reported for the memory they keep (``memory``)."""


@dataclass(frozen=True, slots=True)
class SceneView:
    name: str
    experiment: str
    deadline_ms: Any
    buckets: list[BucketRow] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    """Empty when no node served the scene in the last 30 minutes."""


@dataclass(frozen=True, slots=True)
class NodeView:
    node: str
    generation: int
    serving: dict[str, str]
    errors: dict[str, Any]
    reported_at: float | None


@dataclass(frozen=True, slots=True)
class Overview:
    generation: int
    converged: bool
    window_s: float
    scenes: list[SceneView]
    nodes: list[NodeView]


def served_as(route: dict[str, Any]) -> str:
    return f"{route.get('strategy', '?')}@{route.get('version', '?')}:{route.get('config', '?')}"


def overview_of(control: Control) -> Overview:
    return overview(control.status(), control.metrics_series(CHART_WINDOW_S, CHART_STEP_S))


def overview(status: dict[str, Any], series: dict[str, dict[str, list[Any]]]) -> Overview:
    recent = status.get("recent") or {}
    counts: dict[str, dict[str, int]] = recent.get("buckets", {})
    tripped: dict[str, list[dict[str, Any]]] = {}
    for br in status.get("breakers", []):
        tripped.setdefault(f"{br['scene']}/{br['bucket']}", []).append(br)
    leaking: dict[str, list[dict[str, Any]]] = {}
    for route in (status.get("memory") or {}).get("routes", []):
        if route.get("leaking"):
            leaking.setdefault(f"{route['scene']}/{route['bucket']}", []).append(route)
    scenes = []
    for name, scene in sorted(status.get("scenes", {}).items()):
        rows = []
        for b in scene.get("buckets", []):
            canary = b.get("canary")
            where = f"{name}/{b['bucket']}"
            row = counts.get(where, {})
            rows.append(
                BucketRow(
                    bucket=b["bucket"],
                    serves=served_as(b),
                    deployment_id=b.get("deployment_id"),
                    canary=f"{served_as(canary)} ({canary.get('percent')}%)" if canary else "",
                    recent={f: int(row.get(f, 0)) for f in _COUNTS},
                    breakers=tripped.get(where, []),
                    leaks=leaking.get(where, []),
                )
            )
        charts = scene_charts(name, series[name]) if name in series else []
        scenes.append(
            SceneView(name, scene.get("experiment", ""), scene.get("deadline_ms"), rows, charts)
        )
    nodes = [
        NodeView(
            node=n.get("node", "?"),
            generation=int(n.get("generation", 0)),
            serving=dict(n.get("serving", {})),
            errors=dict(n.get("errors", {})),
            reported_at=n.get("reported_at"),
        )
        for n in status.get("nodes", [])
    ]
    return Overview(
        generation=int(status.get("generation", 0)),
        converged=bool(status.get("converged", True)),
        window_s=float(recent.get("window_s", 0.0)),
        scenes=scenes,
        nodes=nodes,
    )


def _rps(v: float) -> str:
    return f"{v:.3g}/s"


def _ms(v: float) -> str:
    return f"{v:.3g} ms"


def _percent(v: float) -> str:
    return f"{v * 100:.3g}%"


_CHARTS: tuple[tuple[str, tuple[tuple[str, str], ...], Callable[[float], str]], ...] = (
    ("Requests", (("req/s", "rps"),), _rps),
    ("Latency", (("p50", "p50_ms"), ("p99", "p99_ms")), _ms),
    (
        "Error rates",
        (("errors", "error_rate"), ("fallbacks", "fallback_rate"), ("degraded", "degraded_rate")),
        _percent,
    ),
)


def scene_charts(scene: str, series: dict[str, list[Any]]) -> list[Chart]:
    """Requests/s; p50 and p99 latency; error, fallback and degraded rates."""
    charts = []
    for title, lines, fmt in _CHARTS:
        now = " · ".join(
            (f"{label} " if len(lines) > 1 else "")
            + (fmt(v) if (v := _last(series[key])) is not None else "–")
            for label, key in lines
        )
        svg = line_chart(
            [Series(label, series[key]) for label, key in lines],
            title=f"{scene}: {title.lower()}, last 30 minutes",
            fmt=fmt,
            x_labels=("−30 min", "now"),
        )
        charts.append(Chart(title, now, svg))
    return charts


def _last(values: list[Any]) -> float | None:
    return values[-1] if values else None
