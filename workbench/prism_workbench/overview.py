"""The overview's content, read from ``control.status()``: every scene's buckets with
what they serve and their recent traffic, and every live node."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

_COUNTS = ("requests", "errors", "fallbacks", "degraded")


@dataclass(frozen=True, slots=True)
class BucketRow:
    bucket: str
    serves: str
    """``strategy@version:config``."""
    deployment_id: int | None
    canary: str
    """``strategy@version:config (N%)`` or empty."""
    recent: dict[str, int]


@dataclass(frozen=True, slots=True)
class SceneView:
    name: str
    experiment: str
    deadline_ms: Any
    buckets: list[BucketRow] = field(default_factory=list)


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


def overview(status: dict[str, Any]) -> Overview:
    recent = status.get("recent") or {}
    counts: dict[str, dict[str, int]] = recent.get("buckets", {})
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
                )
            )
        scenes.append(SceneView(name, scene.get("experiment", ""), scene.get("deadline_ms"), rows))
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
