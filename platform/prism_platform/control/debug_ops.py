"""The request debugger's part of :class:`~prism_platform.control.facade.Control`: one
request with its full trace, served by the live routing, by a deployment (active or
past) or by a script version with a config (a dry run).

A dry run loads what it needs the way a deploy does, but records nothing, publishes
nothing and serves nobody: the answer goes to the caller only, says ``dry_run``, and its
acm tokens are signed with a throwaway key, so the event ingest rejects any event that
carries one. No debug run is counted in the serving metrics or the feature log.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import msgspec

from prism_platform.db import MetadataStore
from prism_platform.deploy.node import ServingNode
from prism_platform.deploy.service import Deployer
from prism_platform.errors import Conflict, Invalid, NotFound, PrismPlatformError, msgspec_field
from prism_platform.scripts.repository import WORKTREE
from prism_platform.scripts.strategy import Strategy
from prism_platform.serving.compare import Comparison, compare
from prism_platform.serving.context_schema import InvalidContext
from prism_platform.serving.dispatcher import UnknownScene
from prism_platform.serving.layers import merged_config
from prism_platform.serving.route import Route, make_route
from prism_sdk import Request, StrategyConfig

DRY_RUN_BUCKET = "dry_run"
"""The bucket a dry run's acm tokens name (they are unverifiable anyway)."""
DEFAULTS = "(defaults)"
"""The config name of a dry run given neither a config nor parameters."""


class RequestRunner(Protocol):
    """Runs one request off the record with its debug trace (the node's dispatcher);
    ``route_override`` serves it instead of the live routing (a dry run)."""

    async def run(
        self,
        request: Request,
        route_override: Route | None = None,
        *,
        seed: int | None = None,
        detail: bool = True,
    ) -> dict[str, Any]: ...


@dataclass(frozen=True)
class DebugTarget:
    """What serves a debug request: the live routing (nothing set), a deployment, or a
    script at a version with a named config and/or parameters."""

    deployment_id: int | None = None
    script: str | None = None
    version: str | None = None
    config: str | None = None
    params: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.deployment_id is not None and self.script is not None:
            raise Invalid("give a deployment_id or a script, not both", field="deployment_id")
        if self.script is None:
            for name in ("version", "config"):
                if getattr(self, name) is not None:
                    raise Invalid(f"{name} needs a script", field=name)
        if self.params is not None and self.live:
            raise Invalid("params need a deployment_id or a script", field="params")

    @property
    def live(self) -> bool:
        return self.deployment_id is None and self.script is None


class DebugOps:
    store: MetadataStore
    node: ServingNode
    deployer: Deployer
    runner: RequestRunner | None = None
    """Set by the app once the node's dispatcher exists; ``None``: this process serves
    no requests (a local CLI), so it cannot debug one."""

    async def debug_request(
        self,
        scene: str,
        user_id: str,
        context: Mapping[str, Any] | None = None,
        size: int = 20,
        *,
        exclude: Sequence[str] = (),
        deployment_id: int | None = None,
        script: str | None = None,
        version: str | None = None,
        config: str | None = None,
        params: Mapping[str, Any] | None = None,
        seed: int | None = None,
        detail: bool = True,
    ) -> dict[str, Any]:
        """The dispatcher's debug answer to one request (``trace``: buckets, parameters,
        every stage with its candidates and removed items, data round trips, timings)
        plus ``target``: what served it. Any target but the live routing is a dry run.
        ``seed`` fixes the strategies' random draws and ``detail=False`` leaves the
        stages' candidates out of the trace (a replay's arms)."""
        target = DebugTarget(deployment_id, script, version, config, params)
        request = _request(scene, user_id, context, size, exclude)
        if self.runner is None:
            raise Conflict("this process serves no requests: ask a running node", field=None)
        known = self.node.state.snapshot.scenes
        if scene not in known:
            raise NotFound(
                f"unknown scene {scene!r} (scenes: {', '.join(sorted(known)) or 'none'})",
                field="scene",
            )
        route = None
        if not target.live:  # loading a script version may read git: off the event loop
            route = await asyncio.to_thread(self._dry_route, scene, target)
        try:
            body = await self.runner.run(request, route, seed=seed, detail=detail)
        except InvalidContext as exc:
            raise Invalid(exc.message, field=exc.field) from None
        except UnknownScene:  # removed since the check above
            raise NotFound(f"unknown scene {scene!r}", field="scene") from None
        body["target"] = _describe(target, route)
        return body

    def compare_requests(self, a: Mapping[str, Any], b: Mapping[str, Any]) -> Comparison:
        """What differs between two debug answers (items, positions, scores, stages)."""
        return compare(a, b)

    def _dry_route(self, scene: str, target: DebugTarget) -> Route:
        if target.deployment_id is not None:
            return self._deployment_route(scene, target.deployment_id, target.params)
        assert target.script is not None
        strategy = self.deployer.strategy(target.script, target.version or WORKTREE)
        name = target.config
        base: dict[str, Any] = {}
        if name is not None:
            try:
                base = self.store.get_config(strategy.path, name).params
            except NotFound as exc:
                msg = f"script {strategy.path!r} has no config {name!r}"
                raise NotFound(msg, field="config") from exc
        label = name or ("(params)" if target.params else DEFAULTS)
        if name and target.params:
            label = f"{name}+params"
        config = _config(strategy, base, target.params, "config" if name else "params")
        return make_route(scene, DRY_RUN_BUCKET, strategy, config, label, None)

    def _deployment_route(
        self, scene: str, deployment_id: int, params: Mapping[str, Any] | None
    ) -> Route:
        try:
            dep = self.store.get_deployment(deployment_id)
        except PrismPlatformError as exc:
            raise type(exc)(exc.message, field="deployment_id") from None
        if dep.scene != scene:
            raise Invalid(
                f"deployment {deployment_id} is of scene {dep.scene!r}, not {scene!r}",
                field="deployment_id",
            )
        strategy = self.node.builder.strategy(dep.script_path, dep.version)
        config = _config(strategy, dep.config_params, params, "deployment_id")
        label = dep.config_name + ("+params" if params else "")
        return make_route(scene, DRY_RUN_BUCKET, strategy, config, label, dep.id)


def _request(
    scene: str,
    user_id: str,
    context: Mapping[str, Any] | None,
    size: int,
    exclude: Sequence[str],
) -> Request:
    raw = {
        "scene": scene,
        "user_id": user_id,
        "size": size,
        "context": dict(context or {}),
        "exclude": list(exclude),
        "debug": True,
    }
    try:
        return msgspec.convert(raw, Request)
    except msgspec.ValidationError as exc:
        raise Invalid(str(exc), field=msgspec_field(str(exc))) from None


def _config(
    strategy: Strategy,
    base: Mapping[str, Any],
    params: Mapping[str, Any] | None,
    base_field: str,
) -> StrategyConfig:
    """``base`` validated by the script's ``Config`` (an error names ``base_field``),
    then ``params`` merged on top (an error names ``params.<parameter>``)."""
    try:
        config = strategy.make_config(base)
    except PrismPlatformError as exc:
        raise Invalid(exc.message, field=base_field) from None
    if params:
        config = merged_config(strategy, config, params, field="params")
    return config


def _describe(target: DebugTarget, route: Route | None) -> dict[str, Any]:
    if route is None:
        return {"kind": "live", "dry_run": False}
    kind = "deployment" if target.deployment_id is not None else "script"
    return {
        "kind": kind,
        "dry_run": True,
        "deployment_id": target.deployment_id,
        "script": route.strategy.path,
        "version": route.strategy.version,
        "config": route.config_name,
        "params": dict(target.params) if target.params else None,
    }
