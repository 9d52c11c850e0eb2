"""How the nodes of one deployment agree on what to serve.

The SQL store is the source of truth. After every change a node *publishes* the
store's serving state (scenes, experiments, active deployments) as one payload;
every node *applies* published payloads (build a snapshot, warm it, swap it) and
*reports* what it now serves. The embedded coordinator does this inside one
process; :mod:`.zookeeper` does it across processes and machines.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import msgspec

from prism_platform.db.records import SceneState

Payload = bytes
"""A published serving state: JSON of :class:`Published`."""


class Published(msgspec.Struct, frozen=True):
    generation: int
    states: list[SceneState]
    published_by: str = ""
    published_at: float = 0.0


def encode_payload(
    states: list[SceneState], generation: int, node: str, now: float | None = None
) -> Payload:
    return msgspec.json.encode(Published(generation, states, node, now or time.time()))


def decode_payload(data: Payload) -> Published:
    return msgspec.json.decode(data, type=Published)


class NodeReport(msgspec.Struct, frozen=True):
    """What one node serves now; ``serving`` maps ``scene/bucket`` to ``script@version``."""

    node: str
    host: str
    pid: int
    generation: int
    serving: dict[str, str]
    errors: dict[str, str] = {}
    started_at: float = 0.0
    reported_at: float = 0.0


def default_node_name() -> str:
    addr = os.environ.get("PRISM_NODE_ADDR") or socket.gethostname()
    return f"{addr}#{os.getpid()}"


Apply = Callable[[Published], object]
ReadState = Callable[[], list[SceneState]]


class Coordinator(Protocol):
    kind: str
    node: str

    def start(self, apply: Apply, read_state: ReadState) -> None:
        """Begin delivering published payloads to ``apply`` (including the current one);
        ``read_state`` reads the store when a payload must be (re)published."""
        ...

    def publish(self, read_state: ReadState) -> Published:
        """Publish the store's state as read by ``read_state`` (re-read on a write race)."""
        ...

    def report(self, report: NodeReport) -> None: ...

    def nodes(self) -> list[NodeReport]:
        """Every live node's last report."""
        ...

    def publish_metrics(self, data: bytes) -> None:
        """Make this node's metrics window (encoded) readable by the other nodes."""
        ...

    def peer_metrics(self) -> dict[str, bytes]:
        """The other live nodes' last published metrics windows, by node."""
        ...

    def info(self) -> dict[str, Any]: ...

    def stop(self) -> None: ...


@dataclass
class LocalCoordinator:
    """One process, no ZooKeeper: publishing applies at once."""

    node: str = field(default_factory=default_node_name)
    kind: str = "embedded"
    _generation: int = 0
    _report: NodeReport | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, apply: Apply, read_state: ReadState) -> None:
        return None

    def publish(self, read_state: ReadState) -> Published:
        with self._lock:
            self._generation += 1
            return Published(self._generation, read_state(), self.node, time.time())

    def report(self, report: NodeReport) -> None:
        self._report = report

    def nodes(self) -> list[NodeReport]:
        return [self._report] if self._report is not None else []

    def publish_metrics(self, data: bytes) -> None:
        return None  # no other node to read it

    def peer_metrics(self) -> dict[str, bytes]:
        return {}

    def info(self) -> dict[str, Any]:
        return {"kind": self.kind, "connected": True, "generation": self._generation}

    def stop(self) -> None:
        return None


def wait_converged(
    coordinator: Coordinator, generation: int, timeout_s: float, poll_s: float = 0.02
) -> tuple[bool, list[NodeReport]]:
    """Wait until every live node reports ``generation`` or later (or the timeout). A
    change still waiting to be published (the coordinator was unreachable) is not done."""
    deadline = time.monotonic() + timeout_s
    while True:
        nodes = coordinator.nodes()
        published = not coordinator.info().get("pending_publish", False)
        done = published and bool(nodes) and all(n.generation >= generation for n in nodes)
        if done or time.monotonic() >= deadline:
            return done, nodes
        time.sleep(poll_s)
