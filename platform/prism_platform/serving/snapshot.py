"""The immutable routing snapshot: scene -> experiment buckets -> strategy@version + config.

The server holds one reference to the current snapshot; a change builds a whole
new snapshot and swaps it with one assignment, so a request that started on the
old one finishes on it and no request ever sees a half-built routing table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from prism_platform.serving.budgets import ScriptBudgets
from prism_platform.serving.context_schema import ContextSchema
from prism_platform.serving.layers import LayerSet, Variant
from prism_platform.serving.route import Route
from prism_platform.serving.sampling import sample_threshold
from prism_sdk import SLOTS, bucket_index, slot_of


@dataclass(frozen=True, eq=False)
class SceneRuntime:
    name: str
    deadline_s: float
    max_size: int
    fallback_table: str
    fallback_key: str
    experiment: str
    salt: str
    buckets: tuple[str, ...]
    bounds: tuple[int, ...]
    routes: tuple[Route | None, ...]
    canaries: tuple[Canary | None, ...] = ()
    """Per bucket (aligned with ``buckets``): the canary serving part of it, if any."""
    whitelist: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    """User id -> bucket index, forced (QA)."""
    layers: LayerSet | None = None
    """The scene's other layers (parameter overrides), if it runs any."""
    read_timeout_ms: float | None = None
    """The budget of a request's data reads (the scene's, else the node's default);
    ``None``: each read waits as long as the backend's own timeout."""
    context: ContextSchema | None = None
    """The fields a request's ``context`` may carry, checked before routing; ``None``: any."""
    sample_rate: float = 0.0
    """The share of the scene's users whose requests go to the replay log."""
    budgets: ScriptBudgets = ScriptBudgets()
    """What its strategies may read, hold and keep per request (the scene's, else the
    node's)."""
    standby_on_overload: bool = False
    """A request that cannot start in time gets the scene's standby page (``degraded``),
    not a ``503``."""
    sample_below: int = field(init=False, repr=False)
    """:func:`~.sampling.sample_threshold` of ``sample_rate``, once per snapshot."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "sample_below", sample_threshold(self.sample_rate))

    def assign(self, user_id: str) -> int:
        if self.whitelist:
            forced = self.whitelist.get(user_id)
            if forced is not None:
                return forced
        if len(self.bounds) == 1:
            return 0
        return bucket_index(user_id, self.salt, self.bounds)

    def served_routes(self) -> list[Route]:
        """Every route of the scene: primaries and canaries."""
        canaries = (c.route for c in self.canaries if c is not None)
        return [r for r in (*self.routes, *canaries) if r is not None]

    def route_for(self, user_id: str) -> tuple[int, Route | None, Variant | None]:
        """The user's bucket index, the route serving them (the bucket's canary or its
        primary, with the other layers' overrides applied) and, when the scene runs other
        layers, the variant those chose."""
        idx = self.assign(user_id)
        canary = self.canaries[idx] if self.canaries else None
        route = self.routes[idx]
        if canary is not None and slot_of(user_id, canary.salt) < canary.slots:
            route = canary.route
        if self.layers is None:
            return idx, route, None
        variant = self.layers.resolve(self.buckets[idx], route, user_id)
        return idx, variant.route, variant

    def serve_with(
        self, idx: int, route: Route, user_id: str
    ) -> tuple[Route | None, Variant | None]:
        """``route`` (a dry run's) serving the user of bucket ``idx``, with the user's
        layer overrides applied as for a live route (not cached: a one-off route)."""
        if self.layers is None:
            return route, None
        variant = self.layers.resolve(self.buckets[idx], route, user_id, cache=False)
        return variant.route, variant


@dataclass(frozen=True, eq=False)
class Canary:
    """A deployment serving ``slots`` of the bucket's users (out of ``SLOTS``), chosen by
    an independent hash (``salt``) so the canary share is a uniform sample of the bucket."""

    route: Route
    percent: float
    salt: str

    @property
    def slots(self) -> int:
        return round(self.percent * SLOTS / 100)


@dataclass(frozen=True, eq=False)
class Snapshot:
    generation: int
    scenes: Mapping[str, SceneRuntime]
    errors: Mapping[str, str] = field(default_factory=dict)
    """Load problems by ``scene/bucket``: what could not be (re)loaded and why."""

    def describe(self, extra_errors: Mapping[str, str] | None = None) -> dict[str, Any]:
        """What is served, for status pages; ``extra_errors`` (by ``scene/bucket``) are
        problems found outside the snapshot build (dev mode's edits)."""
        errors = {**(extra_errors or {}), **self.errors}
        scenes = {}
        for name, sc in self.scenes.items():
            buckets: list[dict[str, Any]] = []
            canaries = sc.canaries or (None,) * len(sc.buckets)
            for b, r, canary, upper, lower in zip(
                sc.buckets, sc.routes, canaries, sc.bounds, (0, *sc.bounds[:-1]), strict=True
            ):
                entry: dict[str, Any] = {"bucket": b, "slots": [lower, upper]}
                if r is not None:
                    entry.update(_route_json(r))
                if canary is not None:
                    entry["canary"] = {**_route_json(canary.route), "percent": canary.percent}
                for where, key in (
                    (f"{name}/{b}", "error"),
                    (f"{name}/{b}~canary", "canary_error"),
                ):
                    if errors.get(where):
                        entry[key] = errors[where]
                buckets.append(entry)
            scenes[name] = {
                "experiment": sc.experiment,
                "deadline_ms": round(sc.deadline_s * 1000),
                "read_timeout_ms": sc.read_timeout_ms,
                "sample_rate": sc.sample_rate,
                "budgets": sc.budgets.describe(),
                "on_overload": "standby" if sc.standby_on_overload else "refuse",
                "buckets": buckets,
            }
            if sc.layers is not None:
                scenes[name]["layers"] = sc.layers.describe(errors)
        return {"generation": self.generation, "scenes": scenes}


def _route_json(r: Route) -> dict[str, Any]:
    return {
        "strategy": r.strategy.name,
        "version": r.strategy.version,
        "config": r.config_name,
        "deployment_id": r.deployment_id,
    }


EMPTY = Snapshot(0, MappingProxyType({}))
