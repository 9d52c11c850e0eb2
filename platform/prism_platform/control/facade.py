"""``Control``: the one way to read or change the control plane.

The admin API, the CLI's local commands, the workbench and the testkit call it; none of
them reaches the store, the strategies repository or the coordinator. Every change is
validated here, audited once with the actor given, and published to every node.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

from prism_platform.accounts.service import Accounts
from prism_platform.control.approval_gate import held_for_approval
from prism_platform.control.approvals import ApprovalOps
from prism_platform.control.canary_analysis import CanaryAnalysisOps
from prism_platform.control.debug_ops import DebugOps
from prism_platform.control.deploy_checks import DeployChecks
from prism_platform.control.deploy_ops import DeployOps
from prism_platform.control.experiment_views import ExperimentControl
from prism_platform.control.metrics_ops import MetricsOps
from prism_platform.control.plane_import import PlaneImportOps
from prism_platform.control.replay_ops import ReplayOps
from prism_platform.control.samples_ops import SampleOps
from prism_platform.control.script_reads import ScriptReads
from prism_platform.control.user_data import UserDataOps
from prism_platform.db import (
    AuditRecord,
    ConfigRecord,
    DeploymentRecord,
    ExperimentRecord,
    MetadataStore,
    SceneRecord,
    ScriptRecord,
)
from prism_platform.db.records import MAIN_LAYER
from prism_platform.deploy.node import ServingNode
from prism_platform.deploy.scenes import FALLBACK, check_fallback
from prism_platform.deploy.service import Deployer
from prism_platform.deploy.startup import Startup
from prism_platform.events.aggregate import CLAIM_IDLE_S
from prism_platform.events.aggregator import run_forever
from prism_platform.events.sink import EventSink
from prism_platform.experiments.report import ReportParams, experiment_report
from prism_platform.models import ModelService
from prism_platform.replay.gate import checked as checked_replay_gate
from prism_platform.scripts.git import ScriptCommit
from prism_platform.scripts.repository import WORKTREE
from prism_platform.scripts.sources import check_script_path
from prism_platform.scripts.strategy import Strategy
from prism_platform.serving.breaker import Breakers
from prism_platform.serving.memory import MemoryWatch
from prism_platform.serving.recent_errors import RecentErrors
from prism_platform.serving.snapshot import Snapshot
from prism_platform.serving.state import ServingState
from prism_sdk.data import DataWriter

DEFAULT_EXPERIMENT = "default"


class Control(
    DeployOps,
    DeployChecks,
    ExperimentControl,
    ScriptReads,
    MetricsOps,
    ApprovalOps,
    ReplayOps,
    SampleOps,
    CanaryAnalysisOps,
    DebugOps,
    UserDataOps,
    PlaneImportOps,  # prism export / prism import (PlaneExportOps through it)
):
    def __init__(
        self,
        store: MetadataStore,
        node: ServingNode,
        deployer: Deployer,
        accounts: Accounts,
        models: ModelService | None = None,
        recent: RecentErrors | None = None,
    ) -> None:
        self.store = store
        self.node = node
        self.deployer = deployer
        self.accounts = accounts
        """Users, API tokens and logins (the facade's accounts part)."""
        self.models = models
        self.recent = recent
        self.deploy_lock = threading.RLock()
        """Serialises deploys, rollbacks and dev mode's redeploys on this node."""
        self.breakers: Breakers | None = None
        """This node's circuit breakers (set by the app with its dispatcher)."""
        self.startup: Startup | None = None
        """The node's start from the database (set by the app): why it is not ready."""
        self.memory: MemoryWatch | None = None
        """This node's memory kept per route (set by the app with its dispatcher)."""

    @property
    def state(self) -> ServingState:
        """The live routing snapshot's holder (read-only use)."""
        return self.node.state

    @property
    def ready(self) -> bool:
        """This node serves a routing snapshot (built from the store or a publication)
        and has done starting (:attr:`startup`)."""
        return self.node.ready and (self.startup is None or self.startup.done)

    @property
    def not_ready_because(self) -> dict[str, Any] | None:
        """Why this node has not started (its database unreachable at start), or None."""
        startup = self.startup
        return startup.problem if startup is not None and not startup.done else None

    # -- node status --------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """What this node serves now, its load errors, what every live node reports, and
        this node's requests, errors and fallbacks per bucket over the last minutes."""
        status = self.node.status()
        if self.recent is not None:
            status["recent"] = self.recent.summary()
        if self.sample_writer is not None:
            status["samples"] = self.sample_writer.status()
        if self.breakers is not None:  # this node's strategies taken off the request path
            status["breakers"] = self.breakers.status()
        if self.memory is not None:  # this node's routes judged for the memory they keep
            status["memory"] = self.memory.status()
        vector_status = getattr(self.deployer.backend, "vector_status", None)
        if vector_status is not None and (vectors := vector_status()):
            status["vectors"] = vectors  # per table: the index served, any failed version
        row_cache = getattr(self.deployer.backend, "row_cache", None)
        if row_cache is not None:  # the Redis table rows this node keeps
            status["row_cache"] = row_cache.status()
        return self.with_canary_analysis(status)

    def reload(self, *, actor: str) -> Snapshot:
        """Publish the store's serving state to every node again."""
        snap = self.node.publish()
        self.store.record_event(
            actor, "reload", "node", self.node.name, {"generation": snap.generation}
        )
        return snap

    def rollout(self, generation: int, wait_s: float = 0.0) -> dict[str, Any]:
        return self.node.rollout(generation, wait_s)

    def audit(self, limit: int = 100) -> list[AuditRecord]:
        return self.store.audit(limit)

    def close(self) -> None:
        """Release the metadata database's connections."""
        self.store.dispose()

    # -- scenes and experiments ------------------------------------------------------------
    def scenes(self) -> list[SceneRecord]:
        return self.store.list_scenes()

    def scene(self, name: str) -> SceneRecord:
        return self.store.get_scene(name)

    def create_scene(self, name: str, *, actor: str, **fields: Any) -> SceneRecord:
        """A scene (its fallback must be in the data) with a ``default`` experiment."""
        check_fallback(self.deployer.backend, fields)
        if "replay_gate" in fields:
            fields["replay_gate"] = checked_replay_gate(fields["replay_gate"])
        scene = self.store.create_scene(name, actor=actor, **fields)
        self.store.start_experiment(name, DEFAULT_EXPERIMENT, [("base", 100.0)], actor=actor)
        self.node.publish()
        return scene

    def update_scene(self, name: str, *, actor: str, **fields: Any) -> SceneRecord:
        if any(f in fields for f in FALLBACK):
            old = self.store.get_scene(name)
            check_fallback(self.deployer.backend, fields, (old.fallback_table, old.fallback_key))
        if "replay_gate" in fields:
            fields["replay_gate"] = checked_replay_gate(fields["replay_gate"])
        scene = self.store.update_scene(name, actor=actor, **fields)
        self.node.publish()
        return scene

    def experiments(self, scene: str, layer: str | None = None) -> list[ExperimentRecord]:
        """Newest first, of every layer (or of ``layer``)."""
        return self.store.list_experiments(scene, layer)

    @held_for_approval("traffic")
    def start_experiment(
        self,
        scene: str,
        name: str,
        buckets: Sequence[tuple[str, float]],
        *,
        actor: str,
        salt: str | None = None,
        layer: str = MAIN_LAYER,
        params: Mapping[str, Mapping[str, Any]] | None = None,
        **options: Any,
    ) -> ExperimentRecord:
        """Start an experiment on a layer (``options``: ``whitelist``, ``holdout_percent``,
        ``starts_at``, ``ends_at``). Parameter overrides must validate against the config
        of every script the main layer serves, and pass the deploy gate with it."""
        self._gate_overrides(scene, buckets, layer, params, actor)
        exp = self.store.start_experiment(
            scene,
            name,
            list(buckets),
            salt=salt,
            actor=actor,
            layer=layer,
            params=params,
            **options,
        )
        self.node.publish()
        return exp

    @held_for_approval("traffic")
    def stop_layer(self, scene: str, layer: str, *, actor: str) -> ExperimentRecord:
        exp = self.store.stop_layer(scene, layer, actor=actor)
        self.node.publish()
        return exp

    def experiment_report(self, scene: str, params: ReportParams) -> dict[str, Any]:
        """Lift of each bucket of a layer against its control, sample size and
        sample-ratio check."""
        return experiment_report(self.store, scene, params)

    async def aggregate_events_forever(
        self,
        sink: EventSink,
        interval_s: float,
        keep_s: float | None,
        writer: DataWriter | None,
        claim_idle_s: float = CLAIM_IDLE_S,
    ) -> None:
        """The node's background aggregation of the event log into the experiment counts
        (and the scenes' explore/exploit pools through ``writer``)."""
        await run_forever(sink, self.store.engine, interval_s, keep_s, writer, claim_idle_s)

    # -- scripts and configs ----------------------------------------------------------------
    def scripts(self) -> list[ScriptRecord]:
        return self.store.list_scripts()

    def register_script(self, path: str, *, description: str = "", actor: str) -> ScriptRecord:
        strategy = self.deployer.strategy(path)
        return self.deployer.register_script(strategy, description=description, actor=actor)

    def script(self, path: str, version: str = WORKTREE) -> Strategy:
        """A script loaded and validated at a version (the working tree by default)."""
        return self.deployer.strategy(path, version)

    def check_script(self, path: str, params: dict[str, Any] | None = None) -> Strategy:
        """Load a working-tree script fresh (no cache) and validate a config for it."""
        return self.deployer.check_script(path, params)

    def script_versions(self, path: str, limit: int = 50) -> list[ScriptCommit]:
        """Commits of the strategies repository that changed the script."""
        return self.deployer.repo.git.history(check_script_path(path), limit=limit)

    def fetch(self, remote: str, *, actor: str) -> str:
        """Fetch the strategies repository's remote, so its new commits can be deployed."""
        output = self.deployer.repo.git.fetch(remote)
        self.store.record_event(actor, "fetch", "repository", remote, {"output": output})
        return output

    def configs(self, script: str | None = None) -> list[ConfigRecord]:
        return self.store.list_configs(script)

    def put_config(
        self,
        script: str,
        name: str,
        params: dict[str, Any],
        *,
        actor: str,
        version: str = WORKTREE,
    ) -> ConfigRecord:
        """Create or update a named config, validated by the script's ``Config`` (as in
        the working tree, or at ``version``)."""
        return self.deployer.put_config(script, name, params, actor=actor, version=version)

    # -- deployments -------------------------------------------------------------------------
    def deployments(
        self, scene: str | None = None, *, active: bool = False, limit: int = 100
    ) -> list[DeploymentRecord]:
        if active:
            return self.store.active_deployments(scene)
        return self.store.deployment_history(scene, limit=limit)

    # -- models ------------------------------------------------------------------------------
    def model_list(self) -> list[dict[str, Any]]:
        """Every model: versions, ``current``, the serving version, the last rejection."""
        return self._models().describe()

    def reload_models(self) -> dict[str, str]:
        """Check every ``current`` pointer now and load what changed (this node)."""
        return self._models().refresh()

    def activate_model(self, name: str, version: str, *, actor: str) -> dict[str, Any]:
        """Validate ``version`` on its probe batch, serve it, and point ``current`` at it."""
        loaded = self._models().activate(name, version)
        detail = {"version": loaded.version, "metrics": loaded.meta.get("metrics")}
        self.store.record_event(actor, "activate_model", "model", name, detail)
        return {"name": name, "serving": loaded.version, "metrics": loaded.meta.get("metrics")}

    def _models(self) -> ModelService:
        if self.models is None:
            raise RuntimeError("this node serves no model registry")
        return self.models
