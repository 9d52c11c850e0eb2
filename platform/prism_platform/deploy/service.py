"""Deployments: load a script version, validate its config, run the deploy gate, record
the deployment, and publish the new serving state (``ServingNode.publish``).

Only :class:`~prism_platform.control.facade.Control` calls this; it also writes the
gate's audit entries.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from prism_platform.db import ConfigRecord, DeploymentRecord, MetadataStore, ScriptRecord
from prism_platform.deploy.gate import (
    MIN_RECORDED,
    SAMPLE_SIZE,
    GateResult,
    sample_requests,
    smoke_run,
)
from prism_platform.deploy.node import ServingNode
from prism_platform.errors import Conflict, Invalid, NotFound, clip
from prism_platform.scripts.loader import load_strategy
from prism_platform.scripts.repository import WORKTREE, ScriptRepository
from prism_platform.scripts.sources import check_script_path
from prism_platform.scripts.strategy import Strategy
from prism_platform.serving.traffic import TrafficRecorder
from prism_sdk import DataBackend, Read, StrategyConfig

log = logging.getLogger("prism.deploy")


DEFAULT_CONFIG = "default"
"""The config a deploy names unless told otherwise: when a script has none of that name,
its ``Config`` defaults serve (and are saved as it)."""


class GateRejected(Invalid):
    """The deploy gate's smoke run failed; the message lists every reason."""

    def __init__(self, message: str, result: GateResult) -> None:
        super().__init__(message, field="script")
        self.result = result


class Deployer:
    def __init__(
        self,
        store: MetadataStore,
        node: ServingNode,
        repo: ScriptRepository,
        backend: DataBackend | None,
        traffic: TrafficRecorder,
    ) -> None:
        self.store = store
        self.node = node
        self.repo = repo
        self.backend = backend
        self.traffic = traffic

    # -- scripts and configs ---------------------------------------------------------
    def strategy(self, path: str, version: str = WORKTREE) -> Strategy:
        """``path`` loaded and validated at ``version`` (a commit, branch or tag is
        resolved first; the working tree is read once and frozen as ``wt-<hash>``, the
        copy the gate runs and the deploy pins); cached by the snapshot builder."""
        path = check_script_path(path)
        resolved = self.repo.resolve(version)
        if resolved == WORKTREE:
            resolved = self.repo.freeze(path)
        return self.node.builder.strategy(path, resolved)

    def check_script(self, path: str, params: dict[str, Any] | None = None) -> Strategy:
        """Load a working-tree script fresh (no cache) and validate a config for it."""
        strategy = load_strategy(self.repo.worktree, check_script_path(path))
        strategy.make_config(params or {})
        return strategy

    def register_script(
        self, strategy: Strategy, *, description: str = "", actor: str
    ) -> ScriptRecord:
        doc = description or (strategy.module.__doc__ or "").strip().split("\n")[0]
        return self.store.upsert_script(strategy.path, description=doc, actor=actor)

    def ensure_script(self, strategy: Strategy, actor: str) -> None:
        """Register the script (from the version being deployed) if it is new."""
        if not any(s.path == strategy.path for s in self.store.list_scripts()):
            self.register_script(strategy, actor=actor)

    def put_config(
        self, script: str, name: str, params: dict[str, Any], *, actor: str, version: str
    ) -> ConfigRecord:
        strategy = self.strategy(script, version)
        strategy.make_config(params, name)  # raises, naming the fields
        self.ensure_script(strategy, actor)
        return self.store.put_config(strategy.path, name, params, actor=actor)

    # -- deployments -------------------------------------------------------------------
    def prepare(
        self, scene: str, bucket: str, script: str, config: str, version: str
    ) -> tuple[Strategy, StrategyConfig]:
        """The script at ``version`` and the named config, validated for ``scene/bucket``.
        Nothing is written: a config exists only for a registered script, so a deploy
        that cannot go ahead leaves no trace (the gate's rejection aside)."""
        self.check_bucket(scene, bucket)
        strategy = self.strategy(script, version)
        try:
            cfg = self.store.get_config(strategy.path, config)
        except NotFound as exc:
            if config == DEFAULT_CONFIG:  # the script's Config defaults (record() saves them)
                return strategy, strategy.make_config({}, config)
            if exc.field != "script":
                raise
            msg = f"script {strategy.path!r} has no config {clip(config)!r}: put one first"
            raise NotFound(msg, field="config") from None
        return strategy, strategy.make_config(cfg.params, config)

    def gate(
        self,
        scene: str,
        strategy: Strategy,
        config: StrategyConfig,
        *,
        check_latency: bool = True,
        requests: int = SAMPLE_SIZE,
    ) -> GateResult | None:
        """Smoke-run the strategy on sample requests; :class:`GateRejected` says why not.
        Without ``check_latency`` the latency is measured and recorded but not enforced;
        ``requests`` fewer than 40 make the light gate of dev mode."""
        if self.backend is None:
            return None
        sc = self.store.get_scene(scene)
        fallback = Read("table", (sc.fallback_key,), sc.fallback_table, SAMPLE_SIZE)
        sample = self.traffic.sample(scene, requests)
        source = "recorded"
        if len(sample) < min(MIN_RECORDED, requests):
            sample = sample_requests(self.backend, scene, fallback, requests)
            source = "synthetic"
        budget = sc.deadline_ms if check_latency else None
        result = smoke_run(strategy, config, sample, self.backend, budget, source)
        if not result.ok:
            raise GateRejected(
                f"{strategy.path}@{strategy.version} rejected by the deploy gate: "
                + "; ".join(result.reasons),
                result,
            )
        return result

    def record(
        self,
        scene: str,
        bucket: str,
        strategy: Strategy,
        config: str,
        version: str,
        *,
        actor: str,
        note: str = "",
        canary_percent: float | None = None,
        canary_analysis: Mapping[str, Any] | None = None,
    ) -> DeploymentRecord:
        """Record a deployment of ``strategy`` at ``version``. A working-tree version is
        pinned first: its files are stored under its ``wt-<hash>``, which the deployment
        names, so every node, reload and rollback serves exactly the code the gate ran.
        A ``default`` config that does not exist yet is saved first, as the script's
        ``Config`` defaults (what :meth:`prepare` validated and the gate ran)."""
        if config == DEFAULT_CONFIG and not any(
            c.name == config for c in self.store.list_configs() if c.script_path == strategy.path
        ):
            self.ensure_script(strategy, actor)
            self.store.put_config(strategy.path, config, {}, actor=actor)
        return self.store.deploy(
            scene,
            bucket,
            strategy.path,
            self.pin(strategy, version),
            config,
            actor=actor,
            note=note,
            canary_percent=canary_percent,
            canary_analysis=canary_analysis,
        )

    def pin(self, strategy: Strategy, version: str) -> str:
        """``version`` resolved; a working-tree version pinned first (its files, as the
        gate ran them, stored under ``wt-<hash>``, which is returned)."""
        resolved = self.repo.resolve(version)
        if resolved != WORKTREE:
            return resolved
        frozen = self.repo.frozen(strategy.version)
        if frozen is None:  # evicted by many other loads in between
            raise Conflict(
                f"{strategy.path}@{strategy.version} is no longer held: deploy again",
                field="script",
            )
        self.store.pin_sources(frozen.version, frozen.files)
        return frozen.version

    def redeployable(self, deployment_id: int) -> tuple[DeploymentRecord, Strategy, StrategyConfig]:
        """An earlier deployment with the script and config it served, validated again."""
        old = self.store.get_deployment(deployment_id)
        self.check_bucket(old.scene, old.bucket)  # 404 naming the bucket, as a deploy says
        strategy = self.node.builder.strategy(old.script_path, old.version)
        return old, strategy, strategy.make_config(old.config_params, old.config_name)

    def has_canary(self, scene: str, bucket: str) -> bool:
        return any(
            st.scene.name == scene and bucket in st.canaries for st in self.store.serving_state()
        )

    def previous_deployment(self, scene: str, bucket: str) -> int:
        """The id of the (primary) deployment the bucket served before its current one."""
        history = [
            d
            for d in self.store.deployment_history(scene, limit=1000)
            if d.bucket == bucket and d.canary_percent is None
        ]
        if len(history) < 2 or not history[0].active:
            raise NotFound(
                f"{scene}/{bucket} has no earlier deployment to roll back to", field="bucket"
            )
        return int(history[1].id)

    def check_bucket(self, scene: str, bucket: str) -> None:
        exp = self.store.running_experiment(scene)
        names = [b.name for b in exp.buckets] if exp is not None else []
        if bucket not in names:
            raise NotFound(
                f"scene {scene!r} has no bucket {clip(bucket)!r} "
                f"(buckets: {', '.join(names) or 'none'})",
                field="bucket",
            )
