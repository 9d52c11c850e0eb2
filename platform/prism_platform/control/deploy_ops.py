"""The deploy part of :class:`~prism_platform.control.facade.Control`: deploy, roll back,
end a canary; each validated, gated, audited with the actor given, then published."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Concatenate, ParamSpec, TypeVar

from prism_platform.control.approval_gate import held_for_approval
from prism_platform.db import DeploymentRecord, MetadataStore
from prism_platform.db.canary_analysis import check_canary_analysis
from prism_platform.db.records import MAIN_LAYER
from prism_platform.deploy.gate import GateResult
from prism_platform.deploy.node import ServingNode
from prism_platform.deploy.service import Deployer, GateRejected
from prism_platform.experiments.overrides import check_running_layers, overridden_configs
from prism_platform.scripts.repository import WORKTREE
from prism_platform.scripts.strategy import Strategy
from prism_platform.serving.snapshot import Snapshot
from prism_sdk import StrategyConfig


@dataclass(frozen=True)
class Change:
    """A deployment (or rollback) made live: the new snapshot and which nodes serve it."""

    deployment: DeploymentRecord
    snapshot: Snapshot
    rollout: dict[str, Any]


P = ParamSpec("P")
Ops = TypeVar("Ops", bound="DeployOps")


def _serialised(
    fn: Callable[Concatenate[Ops, P], Change],
) -> Callable[Concatenate[Ops, P], Change]:
    """One deploy, rollback or redeploy at a time on this node."""

    @functools.wraps(fn)
    def locked(self: Ops, /, *args: P.args, **kwargs: P.kwargs) -> Change:
        with self.deploy_lock:
            return fn(self, *args, **kwargs)

    return locked


class DeployOps:
    store: MetadataStore
    node: ServingNode
    deployer: Deployer
    deploy_lock: threading.RLock
    replay_gate: Callable[..., dict[str, Any] | None]
    """The scene's replay gate on a deploy (:mod:`.replay_ops`)."""

    @held_for_approval("deploy")
    @_serialised
    def deploy(
        self,
        scene: str,
        bucket: str,
        script: str,
        config: str,
        *,
        actor: str,
        version: str = WORKTREE,
        note: str = "",
        canary_percent: float | None = None,
        analysis: Mapping[str, Any] | None = None,
        check_latency: bool = True,
        wait_s: float = 0.0,
    ) -> Change:
        """Validate (load, contract, config, running layers), gate, and make a deployment
        live (on a share of the bucket with ``canary_percent``, judged by ``analysis``:
        see :mod:`.canary_analysis`)."""
        check_canary_analysis(analysis, canary_percent)  # before the gate's work
        strategy, validated = self.deployer.prepare(scene, bucket, script, config, version)
        check_running_layers(self.store, scene, strategy, validated)
        gate = self._gate(scene, bucket, strategy, validated, actor, check_latency=check_latency)
        self.replay_gate(scene, bucket, strategy, validated, config, actor=actor)
        dep = self.deployer.record(
            scene,
            bucket,
            strategy,
            config,
            version,
            actor=actor,
            note=note,
            canary_percent=canary_percent,
            canary_analysis=analysis,
        )
        return self._live(dep, gate, actor, wait_s)

    @held_for_approval("rollback")
    @_serialised
    def rollback(
        self,
        deployment_id: int,
        *,
        actor: str,
        note: str = "",
        wait_s: float = 0.0,
        emergency: bool = False,
    ) -> Change:
        """Serve exactly what an earlier deployment served, again (gated like a deploy).
        On a protected scene it waits for approval, unless an ``emergency``."""
        old, strategy, config = self.deployer.redeployable(deployment_id)
        gate = self._gate(old.scene, old.bucket, strategy, config, actor)
        dep = self.store.rollback_to(deployment_id, actor=actor, note=note)
        return self._live(dep, gate, actor, wait_s)

    @held_for_approval("rollback_bucket")
    @_serialised
    def rollback_bucket(
        self,
        scene: str,
        bucket: str,
        *,
        actor: str,
        note: str = "",
        wait_s: float = 0.0,
        emergency: bool = False,
    ) -> Change:
        """Undo a bucket's last change: end its canary if it has one, otherwise serve the
        deployment it served before its current one. On a protected scene the latter
        waits for approval, unless an ``emergency``."""
        if self.deployer.has_canary(scene, bucket):
            return self.abort_canary(scene, bucket, actor=actor, note=note, wait_s=wait_s)
        previous = self.deployer.previous_deployment(scene, bucket)
        return self.rollback(previous, actor=actor, note=note, wait_s=wait_s)

    @held_for_approval("promote")
    @_serialised
    def promote_canary(
        self,
        scene: str,
        bucket: str,
        *,
        actor: str,
        note: str = "",
        wait_s: float = 0.0,
        canary_id: int | None = None,
    ) -> Change:
        """Serve the bucket's canary (its script@version and config as deployed) to all
        the bucket's users, as its primary deployment."""
        dep = self.store.promote_canary(scene, bucket, actor=actor, note=note, canary_id=canary_id)
        return self._live(dep, None, actor, wait_s)

    @held_for_approval(None)  # never waits
    @_serialised
    def abort_canary(
        self,
        scene: str,
        bucket: str,
        *,
        actor: str,
        note: str = "",
        wait_s: float = 0.0,
        canary_id: int | None = None,
    ) -> Change:
        """End the bucket's canary: all its users go back to the primary deployment."""
        dep = self.store.end_canary(scene, bucket, actor=actor, note=note, canary_id=canary_id)
        return self._live(dep, None, actor, wait_s)

    def _gate(
        self,
        scene: str,
        bucket: str,
        strategy: Strategy,
        config: StrategyConfig,
        actor: str,
        *,
        check_latency: bool = True,
    ) -> GateResult | None:
        try:
            return self.deployer.gate(scene, strategy, config, check_latency=check_latency)
        except GateRejected as exc:
            detail = {
                "script": strategy.path,
                "version": strategy.version,
                "gate": exc.result.as_json(),
            }
            self.store.record_event(
                actor, "deploy_rejected", "deployment", f"{scene}/{bucket}", detail
            )
            raise

    def _gate_overrides(
        self, scene: str, buckets: Sequence[Any], layer: str, params: Any, actor: str
    ) -> None:
        """A layer's parameter overrides (bucket name -> params) must validate against the
        config of every script the main layer serves, and pass the gate with it."""
        if not params or layer == MAIN_LAYER:
            return
        sc = self.node.state.snapshot.scenes.get(scene)
        routes = sc.served_routes() if sc is not None else []
        names = [b[0] if isinstance(b, Sequence) and b else "" for b in buckets]
        for route, config in overridden_configs(routes, names, params):
            self._gate(scene, route.bucket, route.strategy, config, actor)

    def _live(
        self, dep: DeploymentRecord, gate: GateResult | None, actor: str, wait_s: float
    ) -> Change:
        if gate is not None:
            detail = {"deployment": dep.id, "gate": gate.as_json()}
            where = f"{dep.scene}/{dep.bucket}"
            self.store.record_event(actor, "gate_passed", "deployment", where, detail)
        snap = self.node.publish()
        return Change(dep, snap, self.node.rollout(snap.generation, wait_s))
