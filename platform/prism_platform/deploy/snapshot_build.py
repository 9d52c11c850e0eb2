"""Build a routing snapshot from the metadata store's serving state.

Strategies and validated configs are cached by (script, version) and by config
content, so a rebuild reloads only what changed. A bucket whose deployment
cannot load keeps serving what it served in the previous snapshot (last good),
and the problem is recorded in ``Snapshot.errors``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from types import MappingProxyType
from typing import Any

from prism_platform.deploy.layer_build import build_layers
from prism_platform.errors import PrismPlatformError
from prism_platform.scripts.loader import load_strategy, unload_version
from prism_platform.scripts.sources import SourceTree
from prism_platform.scripts.strategy import Strategy
from prism_platform.serving.budgets import ScriptBudgets
from prism_platform.serving.context_schema import ContextSchema, compile_schema
from prism_platform.serving.layers import whitelist_index
from prism_platform.serving.route import Route, make_route
from prism_platform.serving.snapshot import Canary, SceneRuntime, Snapshot
from prism_sdk import SLOTS, StrategyConfig, slot_table

DEFAULT_BUCKET = "base"
KEEP_IDLE = 8  # unused strategy versions kept loaded, most recently used first


class SnapshotBuilder:
    def __init__(self, tree_for: Callable[[str], SourceTree]) -> None:
        self.tree_for = tree_for
        self.default_read_timeout_ms: float | None = None
        """The read budget of scenes without one (``PRISM_REDIS_TIMEOUT_MS`` when serving)."""
        self.default_budgets = ScriptBudgets()
        """The strategies' budgets in scenes that do not set them (the node's settings)."""
        self._strategies: dict[tuple[str, str], Strategy] = {}
        self._configs: dict[tuple[int, str], StrategyConfig] = {}

    def strategy(self, path: str, version: str) -> Strategy:
        """Load (or reuse) ``path`` at a deployment version (``worktree`` or a commit id)."""
        tree = self.tree_for(version)
        effective = tree.version_of(path)
        key = (path, effective)
        s = self._strategies.pop(key, None)
        if s is None:
            s = load_strategy(tree, path, effective)
        self._strategies[key] = s  # most recently used last
        return s

    def config(self, strategy: Strategy, params: dict[str, Any], name: str) -> StrategyConfig:
        key = (id(strategy), json.dumps(params, sort_keys=True, default=str))
        c = self._configs.get(key)
        if c is None:
            c = strategy.make_config(params, name)
            self._configs[key] = c
        return c

    def build(self, states: Iterable[Any], previous: Snapshot, generation: int) -> Snapshot:
        scenes: dict[str, SceneRuntime] = {}
        errors: dict[str, str] = {}
        now = time.time()
        for st in states:
            sc = st.scene
            exp = st.experiment
            if exp is None:
                names: tuple[str, ...] = (DEFAULT_BUCKET,)
                bounds: tuple[int, ...] = (SLOTS,)
                exp_name, salt = "none", sc.name
            else:
                ordered = sorted(exp.buckets, key=lambda b: b.position)
                names = tuple(b.name for b in ordered)
                bounds = slot_table([b.percent for b in ordered])
                exp_name, salt = exp.name, exp.salt
            routes: list[Route | None] = []
            canaries: list[Canary | None] = []
            for b in names:
                dep = st.deployments.get(b)
                route = None
                if dep is not None:
                    try:
                        route = self._route(sc.name, b, dep)
                    except PrismPlatformError as exc:
                        errors[f"{sc.name}/{b}"] = exc.message
                        route = _previous_route(previous, sc.name, b)
                routes.append(route)
                canaries.append(self._canary(sc.name, b, st.canaries.get(b), errors, salt))
            runtime = SceneRuntime(
                name=sc.name,
                deadline_s=sc.deadline_ms / 1000.0,
                read_timeout_ms=_read_budget(
                    self.default_read_timeout_ms
                    if sc.read_timeout_ms is None
                    else sc.read_timeout_ms,
                    sc.deadline_ms,
                ),
                max_size=sc.max_size,
                fallback_table=sc.fallback_table,
                fallback_key=sc.fallback_key,
                experiment=exp_name,
                salt=salt,
                buckets=names,
                bounds=bounds,
                routes=tuple(routes),
                canaries=tuple(canaries) if any(canaries) else (),
                whitelist=whitelist_index(exp.whitelist if exp else {}, names),
                context=_context_schema(sc, errors),
                sample_rate=sc.sample_rate,
                budgets=self.default_budgets.scene(sc.budgets),
                standby_on_overload=sc.on_overload == "standby",
            )
            if st.layers:  # the other layers, checked against every route
                layers = build_layers(
                    sc.name, exp_name, st.layers, runtime.served_routes(), errors, now
                )
                runtime = replace(runtime, layers=layers)
            scenes[sc.name] = runtime
        self._forget_unused(scenes)
        return Snapshot(generation, MappingProxyType(scenes), MappingProxyType(errors))

    def _route(self, scene: str, bucket: str, dep: Any) -> Route:
        strategy = self.strategy(dep.script_path, dep.version)
        config = self.config(strategy, dep.config_params, dep.config_name)
        return make_route(scene, bucket, strategy, config, dep.config_name, dep.id)

    def _canary(
        self, scene: str, bucket: str, dep: Any, errors: dict[str, str], salt: str
    ) -> Canary | None:
        """A canary that cannot load serves nobody: its share stays on the primary."""
        if dep is None or dep.canary_percent is None:
            return None
        try:
            route = self._route(scene, bucket, dep)
        except PrismPlatformError as exc:
            errors[f"{scene}/{bucket}~canary"] = exc.message
            return None
        return Canary(route, dep.canary_percent, f"{salt}:{bucket}:canary")

    def _forget_unused(self, scenes: dict[str, SceneRuntime]) -> None:
        """Drop strategies no route serves, but keep the most recently used few: a
        rollback (or a redeploy of a recent version) then swaps without re-importing."""
        live = {
            (r.strategy.path, r.strategy.version)
            for sc in scenes.values()
            for r in sc.served_routes()
        }
        idle = [k for k in self._strategies if k not in live]
        dropped = idle[: max(0, len(idle) - KEEP_IDLE)]
        for skey in dropped:
            del self._strategies[skey]
        kept_versions = {version for _, version in self._strategies}
        for version in {version for _, version in dropped} - kept_versions:
            unload_version(version)  # requests still running keep their module objects
        ids = {id(s) for s in self._strategies.values()}
        for ckey in [k for k in self._configs if k[0] not in ids]:
            del self._configs[ckey]


def _context_schema(sc: Any, errors: dict[str, str]) -> ContextSchema | None:
    """The scene's context schema compiled; one the store should have refused (a type
    this version does not know) is not enforced, and the error says so."""
    try:
        return compile_schema(sc.context_schema)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        errors[f"{sc.name}/context_schema"] = f"not enforced: {exc}"
        return None


def _previous_route(previous: Snapshot, scene: str, bucket: str) -> Route | None:
    sc = previous.scenes.get(scene)
    if sc is None or bucket not in sc.buckets:
        return None
    return sc.routes[sc.buckets.index(bucket)]


def _read_budget(budget_ms: float | None, deadline_ms: float) -> float | None:
    """A request's read budget, at most the scene deadline: a read cannot be interrupted
    once sent, so a larger budget would let one slow reply overrun the deadline."""
    return None if budget_ms is None else float(min(budget_ms, deadline_ms))
