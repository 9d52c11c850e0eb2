"""This process as a serving node: it builds the routing snapshot of each published
serving state, swaps it in with one assignment, and reports what it serves.

The SQL store is the source of truth; the coordinator carries publications between
nodes (or, embedded, within this one).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import msgspec

from prism_platform.coordination import Coordinator, NodeReport, Published, wait_converged
from prism_platform.db.records import SceneState
from prism_platform.deploy.snapshot_build import SnapshotBuilder
from prism_platform.serving.route import Route
from prism_platform.serving.snapshot import Snapshot
from prism_platform.serving.state import ServingState

log = logging.getLogger("prism.node")

ServingStates = Callable[[], list[SceneState]]


def _served(r: Route) -> str:
    return f"{r.strategy.path}@{r.strategy.version}:{r.config_name}"


class ServingNode:
    def __init__(
        self,
        state: ServingState,
        builder: SnapshotBuilder,
        coordinator: Coordinator,
        serving_states: ServingStates,
    ) -> None:
        self.state = state
        self.builder = builder
        self.coordinator = coordinator
        self.serving_states = serving_states
        self.started_at = time.time()
        self._applied: Published | None = None
        self._lock = threading.RLock()
        self.dev_errors: dict[str, str] = {}
        """What dev mode (``--watch``) could not serve, by ``scene/bucket``: this node's
        working tree only."""

    @property
    def name(self) -> str:
        return self.coordinator.node

    @property
    def ready(self) -> bool:
        """A routing snapshot was built (from the store or from a publication)."""
        return self._applied is not None

    def load(self) -> Snapshot:
        """Serve the store's state as it is now (at start, before any coordinator)."""
        return self.apply(Published(0, self.serving_states(), self.name))

    def follow(self) -> None:
        """From now on apply what the coordinator publishes (call once per process)."""
        self.coordinator.start(self.apply, self.serving_states)

    def publish(self) -> Snapshot:
        """Publish the store's serving state to every node, and make it live here."""
        return self.apply(self.coordinator.publish(self.serving_states))

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
        log.info("event=snapshot_live generation=%d node=%s", pub.generation, self.name)

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
            node=self.name,
            host=socket.gethostname(),
            pid=os.getpid(),
            generation=snap.generation,
            serving=serving,
            errors={**self.dev_errors, **snap.errors},
            started_at=self.started_at,
            reported_at=time.time(),
        )

    def status(self) -> dict[str, Any]:
        """What this node serves now, its load errors, and what every live node reports."""
        snap = self.state.snapshot
        nodes = self.coordinator.nodes()
        info = self.coordinator.info()
        latest = max([info["generation"], snap.generation, *(n.generation for n in nodes)])
        return {
            **snap.describe(self.dev_errors),
            "node": self.name,
            "coordinator": info,
            "nodes": [msgspec.to_builtins(n) for n in nodes],
            # a change not yet published is live here only, whatever generations say
            "converged": not info.get("pending_publish", False)
            and all(n.generation >= latest for n in nodes),
        }

    def rollout(self, generation: int, wait_s: float = 0.0) -> dict[str, Any]:
        """Which nodes serve ``generation`` yet; waits up to ``wait_s`` for all of them.
        ``converged_ms`` runs from publication to the last node's report;
        ``pending_publish``: the coordinator did not take the change yet, so it is live
        on this node (``node``) only. Not ``complete`` while a node reports load errors
        (it serves its previous version of those buckets)."""
        complete, nodes = wait_converged(self.coordinator, generation, wait_s)
        published = self._applied.published_at if self._applied is not None else 0.0
        out: dict[str, Any] = {
            "generation": generation,
            # a node that could not load a route serves its previous version there
            "complete": complete and not any(n.errors for n in nodes),
            "node": self.name,
            "pending_publish": bool(self.coordinator.info().get("pending_publish", False)),
            "nodes": [
                {"node": n.node, "generation": n.generation, "reported_at": n.reported_at}
                | ({"errors": n.errors} if n.errors else {})
                for n in nodes
            ],
        }
        if complete and nodes and published:
            last = max(n.reported_at for n in nodes)
            out["converged_ms"] = round(max(last - published, 0.0) * 1000, 1)
        return out
