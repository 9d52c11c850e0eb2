"""The platform's operations, shared by the admin API and the CLI.

Every change goes to the metadata store first, then a new routing snapshot is
built and swapped in. Scripts and configs are validated before anything is stored.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from typing import Any

from prism_sdk import DataBackend, Read, StrategyConfig

from .builder import WORKTREE, SnapshotBuilder
from .coordination import Coordinator, LocalCoordinator, NodeReport, Published, wait_converged
from .db import MetadataStore
from .errors import Invalid, NotFound
from .experiments import ExperimentOps
from .gate import MIN_RECORDED, SAMPLE_SIZE, GateResult, sample_requests, smoke_run
from .gitsource import GitRepo
from .loader import load_strategy
from .snapshot import Route, Snapshot
from .sources import SourceTree, WorkTree, check_script_path
from .state import ServingState
from .strategy import Strategy
from .traffic import TrafficRecorder

log = logging.getLogger("prism.service")

DEFAULT_EXPERIMENT = "default"


def _served(r: Route) -> str:
    return f"{r.strategy.path}@{r.strategy.version}:{r.config_name}"


class GateRejected(Invalid):
    """The deploy gate's smoke run failed; the message lists every reason."""


class Platform(ExperimentOps):
    def __init__(
        self,
        store: MetadataStore,
        worktree: WorkTree,
        state: ServingState,
        backend: DataBackend | None = None,
        coordinator: Coordinator | None = None,
    ) -> None:
        self.store = store
        self.coordinator: Coordinator = coordinator or LocalCoordinator()
        self.traffic = TrafficRecorder()
        self.started_at = time.time()
        self._applied: Published | None = None
        self.backend = backend
        self.worktree = worktree
        self.state = state
        self.builder = SnapshotBuilder(self._tree_for)
        self._lock = threading.RLock()
        self._git: GitRepo | None = None
        self.strategies_repo: str | None = None
        """``PRISM_STRATEGIES_REPO``: a clone to deploy commits from (default: the repo
        that holds the strategies folder)."""
        self._git_trees: dict[str, SourceTree] = {}

    def _tree_for(self, version: str) -> SourceTree:
        if version == WORKTREE:
            return self.worktree
        tree = self._git_trees.get(version)
        if tree is None:
            tree = self.git.tree(version)
            if len(self._git_trees) > 64:
                self._git_trees.clear()
            self._git_trees[version] = tree
        return tree

    @property
    def git(self) -> GitRepo:
        """The strategies git repository (resolved on first use)."""
        if self._git is None:
            self._git = GitRepo(self.worktree.root, self.strategies_repo)
        return self._git

    # -- snapshots ---------------------------------------------------------------
    def load(self) -> Snapshot:
        """Serve the store's state as it is now (at start, before any coordinator)."""
        return self.apply(Published(0, self.store.serving_state(), self.node))

    def follow(self) -> None:
        """From now on apply what the coordinator publishes (call once per process)."""
        self.coordinator.start(self.apply, self.store.serving_state)

    def reload(self) -> Snapshot:
        """Publish the store's serving state to every node, and make it live here."""
        return self.apply(self.coordinator.publish(self.store.serving_state))

    def apply(self, pub: Published) -> Snapshot:
        """Build, warm and swap the snapshot of a published state, unless it is older
        than (or the same as) what this node already serves; then report."""
        with self._lock:
            cur = self._applied
            stale = cur is not None and (
                pub.generation < cur.generation
                or (pub.generation == cur.generation and pub.states == cur.states)
            )
            if not stale:
                self._swap(pub)
            snap = self.state.snapshot
        self.coordinator.report(self.report())
        return snap

    def refresh(self) -> Snapshot:
        """Rebuild what this node serves (a working-tree script changed); local only."""
        with self._lock:
            if self._applied is not None:
                self._swap(self._applied)
            snap = self.state.snapshot
        self.coordinator.report(self.report())
        return snap

    def _swap(self, pub: Published) -> None:
        snap = self.builder.build(pub.states, self.state.snapshot, pub.generation)
        self.state.swap(snap)
        self._applied = pub
        for where, err in snap.errors.items():
            log.error("event=load_failed bucket=%s error=%s", where, err)
        log.info("event=snapshot_live generation=%d node=%s", pub.generation, self.node)

    @property
    def ready(self) -> bool:
        """A routing snapshot was built (from the store or from a publication)."""
        return self._applied is not None

    @property
    def node(self) -> str:
        return self.coordinator.node

    def report(self) -> NodeReport:
        """What this node serves now, as published to the other nodes."""
        snap = self.state.snapshot
        serving: dict[str, str] = {}
        for sc in snap.scenes.values():
            for b, r in zip(sc.buckets, sc.routes, strict=True):
                if r is not None:
                    serving[f"{sc.name}/{b}"] = _served(r)
            for b, c in zip(sc.buckets, sc.canaries, strict=False):
                if c is not None:
                    serving[f"{sc.name}/{b}~canary"] = f"{_served(c.route)} {c.percent:g}%"
            for layer in sc.layers.layers if sc.layers is not None else ():
                serving[f"{sc.name}+{layer.name}"] = layer.experiment
        return NodeReport(
            node=self.node,
            host=socket.gethostname(),
            pid=os.getpid(),
            generation=snap.generation,
            serving=serving,
            errors=dict(snap.errors),
            started_at=self.started_at,
            reported_at=time.time(),
        )

    def rollout(self, generation: int, wait_s: float = 0.0) -> dict[str, Any]:
        """Which nodes serve ``generation`` yet; waits up to ``wait_s`` for all of them.
        ``converged_ms`` runs from publication to the last node's report."""
        complete, nodes = wait_converged(self.coordinator, generation, wait_s)
        published = self._applied.published_at if self._applied is not None else 0.0
        out: dict[str, Any] = {
            "generation": generation,
            "complete": complete,
            "nodes": [
                {"node": n.node, "generation": n.generation, "reported_at": n.reported_at}
                for n in nodes
            ],
        }
        if complete and nodes and published:
            last = max(n.reported_at for n in nodes)
            out["converged_ms"] = round(max(last - published, 0.0) * 1000, 1)
        return out

    # -- scenes and experiments ----------------------------------------------------
    def create_scene(self, name: str, *, actor: str = "system", **fields: Any) -> Any:
        scene = self.store.create_scene(name, actor=actor, **fields)
        self.store.start_experiment(name, DEFAULT_EXPERIMENT, [("base", 100.0)], actor=actor)
        self.reload()
        return scene

    def update_scene(self, name: str, *, actor: str = "system", **fields: Any) -> Any:
        scene = self.store.update_scene(name, actor=actor, **fields)
        self.reload()
        return scene

    # -- scripts and configs -------------------------------------------------------------
    def load_worktree(self, path: str) -> Strategy:
        """Load and validate a script as it is in the working tree."""
        path = check_script_path(path)
        return self.builder.strategy(path, WORKTREE)

    def register_script(self, path: str, *, description: str = "", actor: str = "system") -> Any:
        strategy = self.load_worktree(path)
        doc = description or (strategy.module.__doc__ or "").strip().split("\n")[0]
        return self.store.upsert_script(strategy.path, description=doc, actor=actor)

    def put_config(
        self, script: str, name: str, params: dict[str, Any], *, actor: str = "system"
    ) -> Any:
        strategy = self.load_worktree(script)
        strategy.make_config(params, name)  # raises, naming the fields
        self._ensure_script(strategy.path, actor)
        return self.store.put_config(strategy.path, name, params, actor=actor)

    def _ensure_script(self, path: str, actor: str) -> None:
        if not any(s.path == path for s in self.store.list_scripts()):
            self.register_script(path, actor=actor)

    # -- deployments -------------------------------------------------------------------
    def deploy(
        self,
        scene: str,
        bucket: str,
        script: str,
        config: str,
        *,
        version: str = WORKTREE,
        actor: str = "system",
        note: str = "",
        canary_percent: float | None = None,
        check_latency: bool = True,
    ) -> tuple[Any, Snapshot]:
        """Validate (load, contract, config) and make a deployment live (on a share of
        the bucket with ``canary_percent``)."""
        path = check_script_path(script)
        self._check_bucket(scene, bucket)
        if version != WORKTREE:
            version = self.git.resolve(version)
        strategy = self.builder.strategy(path, version)
        self._ensure_script(path, actor)
        cfg = self.store.get_config(path, config)
        validated = strategy.make_config(cfg.params, config)
        self._check_layers(scene, strategy, validated)
        gate = self.gate(scene, bucket, strategy, validated, actor, check_latency=check_latency)
        dep = self.store.deploy(
            scene,
            bucket,
            path,
            version,
            config,
            actor=actor,
            note=note,
            canary_percent=canary_percent,
        )
        self._record_gate(dep, gate, actor)
        return dep, self.reload()

    def gate(
        self,
        scene: str,
        bucket: str,
        strategy: Strategy,
        config: StrategyConfig,
        actor: str,
        *,
        check_latency: bool = True,
    ) -> GateResult | None:
        """Smoke-run the strategy on sample requests; :class:`GateRejected` says why not.
        Without ``check_latency`` the p99 is measured and recorded but not enforced."""
        if self.backend is None:
            return None
        sc = self.store.get_scene(scene)
        fallback = Read("table", (sc.fallback_key,), sc.fallback_table, SAMPLE_SIZE)
        requests = self.traffic.sample(scene, SAMPLE_SIZE)
        source = "recorded"
        if len(requests) < MIN_RECORDED:
            requests, source = sample_requests(self.backend, scene, fallback), "synthetic"
        budget = sc.deadline_ms if check_latency else None
        result = smoke_run(strategy, config, requests, self.backend, budget, source)
        if not result.ok:
            detail = {
                "script": strategy.path,
                "version": strategy.version,
                "gate": result.as_json(),
            }
            self.store.record_event(
                actor, "deploy_rejected", "deployment", f"{scene}/{bucket}", detail
            )
            raise GateRejected(
                f"{strategy.path}@{strategy.version} rejected by the deploy gate: "
                + "; ".join(result.reasons),
                field="script",
            )
        return result

    def _record_gate(self, dep: Any, gate: GateResult | None, actor: str) -> None:
        if gate is not None:
            detail = {"deployment": dep.id, "gate": gate.as_json()}
            self.store.record_event(
                actor, "gate_passed", "deployment", f"{dep.scene}/{dep.bucket}", detail
            )

    def rollback(
        self, deployment_id: int, *, actor: str = "system", note: str = ""
    ) -> tuple[Any, Snapshot]:
        """Serve what an earlier deployment served, again; validated like a deploy."""
        old = self.store.get_deployment(deployment_id)
        strategy = self.builder.strategy(old.script_path, old.version)
        config = strategy.make_config(old.config_params, old.config_name)
        gate = self.gate(old.scene, old.bucket, strategy, config, actor)
        dep = self.store.rollback_to(deployment_id, actor=actor, note=note)
        self._record_gate(dep, gate, actor)
        return dep, self.reload()

    def rollback_bucket(
        self, scene: str, bucket: str, *, actor: str = "system", note: str = ""
    ) -> tuple[Any, Snapshot]:
        """Undo the bucket's last change: end its canary if it has one, otherwise serve
        the deployment it served before its current one."""
        if any(
            st.scene.name == scene and bucket in st.canaries for st in self.store.serving_state()
        ):
            return self.store.end_canary(scene, bucket, actor=actor, note=note), self.reload()
        return self.rollback(self.previous_deployment(scene, bucket), actor=actor, note=note)

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

    def _check_bucket(self, scene: str, bucket: str) -> None:
        exp = self.store.running_experiment(scene)
        names = [b.name for b in exp.buckets] if exp is not None else []
        if bucket not in names:
            raise NotFound(
                f"scene {scene!r} has no bucket {bucket!r} (buckets: {', '.join(names) or 'none'})",
                field="bucket",
            )

    def check_script(self, path: str, params: dict[str, Any] | None = None) -> Strategy:
        """Load a working-tree script fresh (no cache) and validate a config for it."""
        path = check_script_path(path)
        strategy = load_strategy(self.worktree, path)
        strategy.make_config(params or {})
        return strategy
