"""Keep every node in step over ZooKeeper (``PRISM_COORDINATOR=zk://host:port/chroot``).

Layout under the chroot::

    /serving        the published serving state (JSON ``Published``) with its
                    generation: one more than the highest the publisher has seen
    /nodes/<node>   one ephemeral znode per live node: its latest ``NodeReport``
    /metrics/<node> one ephemeral znode per live node: its metrics over the last 30
                    minutes (``metrics.series_window.encode``), rewritten every ~15 s;
                    apart from the report so that rollouts polling reports stay cheap

Publishing is optimistic: read the znode's version, read the store, write with
that version; if another node published in between, read the store again and
retry, so the last publication always reflects every committed change.

ZooKeeper is never on the request path. If it is unreachable a node keeps
serving its last snapshot, applies its own changes locally, and publishes them
(re-read from the store) as soon as ZooKeeper answers again: on reconnect, or, when
the session outlived the outage (a server stalled for less than the session timeout,
which the client may never notice), by retrying the publication until it goes
through. Watches and the ephemeral registration are re-established on every reconnect.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from kazoo.client import KazooClient, KazooState
from kazoo.exceptions import (
    BadVersionError,
    KazooException,
    NodeExistsError,
    NoNodeError,
)
from kazoo.handlers.threading import KazooTimeoutError
from kazoo.protocol.states import ZnodeStat
from kazoo.recipe.watchers import DataWatch
from kazoo.retry import KazooRetry

from prism_platform.coordination.base import (
    Apply,
    NodeReport,
    Published,
    ReadState,
    decode_payload,
    default_node_name,
    encode_payload,
)
from prism_platform.errors import Invalid

log = logging.getLogger("prism.zk")

T = TypeVar("T")
_FAILURES = (KazooException, KazooTimeoutError, OSError)
RESYNC_RETRY_S = 0.2
RESYNC_RETRY_MAX_S = 2.0


def parse_zk_url(url: str) -> tuple[str, str]:
    """``zk://h1:2181,h2:2181/prism`` → (``h1:2181,h2:2181``, ``/prism``)."""
    parts = urlsplit(url)
    if parts.scheme != "zk" or not parts.netloc:
        raise Invalid(
            f"coordinator URL must look like zk://host:port/chroot, got {url!r}",
            field="PRISM_COORDINATOR",
        )
    root = parts.path.rstrip("/") or "/prism"
    return parts.netloc, root


def _generation_of(data: bytes | None) -> int:
    if not data:
        return 0
    try:
        return decode_payload(data).generation
    except ValueError:
        return 0


class ZkCoordinator:
    kind = "zookeeper"

    def __init__(
        self,
        url: str,
        node: str | None = None,
        *,
        session_timeout_s: float = 6.0,
        op_timeout_s: float = 2.0,
    ) -> None:
        hosts, self.root = parse_zk_url(url)
        self.url = url
        self.node = node or default_node_name()
        self.state_path = f"{self.root}/serving"
        self.nodes_path = f"{self.root}/nodes"
        self.node_path = f"{self.nodes_path}/{self.node.replace('/', '_')}"
        self.metrics_path = f"{self.root}/metrics"
        self.node_metrics_path = f"{self.metrics_path}/{self.node.replace('/', '_')}"
        self.op_timeout_s = op_timeout_s
        self.client = KazooClient(
            hosts=hosts,
            timeout=session_timeout_s,
            connection_retry=KazooRetry(max_tries=-1, delay=0.1, max_delay=1.0),
            command_retry=KazooRetry(max_tries=2, delay=0.05, max_delay=0.2),
        )
        self._apply: Apply | None = None
        self._read_state: ReadState | None = None
        self._watch: DataWatch | None = None
        self._report: NodeReport | None = None
        self._metrics: bytes | None = None
        self._pending = False
        self._generation = 0
        self._lock = threading.RLock()
        self._resync_lock = threading.Lock()

    # -- lifecycle ----------------------------------------------------------------------
    def start(self, apply: Apply, read_state: ReadState) -> None:
        self._apply, self._read_state = apply, read_state
        self.client.add_listener(self._on_session)
        self.client.start_async()  # never blocks: a node starts (from the store) without ZK

    def stop(self) -> None:
        try:
            self.client.stop()
            self.client.close()
        except _FAILURES:  # pragma: no cover - best effort on shutdown
            pass

    def _on_session(self, state: str) -> None:
        log.info("event=zk_session state=%s node=%s", state, self.node)
        if state == KazooState.CONNECTED:
            self.client.handler.spawn(self._resync)

    def _resync(self) -> None:
        """After (re)connecting, or after a publication failed with the session up:
        publish what changed meanwhile, watch, register; tried again (every 0.2 s, then
        less often, up to every 2 s) for as long as the session is up."""
        delay = RESYNC_RETRY_S
        with self._resync_lock:
            while self.client.state == KazooState.CONNECTED:
                try:
                    self._call(self.client.ensure_path_async, self.nodes_path)
                    if self._pending and self._read_state is not None:
                        pub = self._publish_now(self._read_state)
                        if self._apply is not None:  # our watch skipped it while pending
                            self._apply(pub)
                    if self._watch is None:
                        self._watch = DataWatch(self.client, self.state_path, self._on_data)
                    if self._report is not None:
                        self._register(self._report)
                    if self._metrics is not None:
                        self._put_ephemeral(self.node_metrics_path, self._metrics)
                    return
                except Exception as exc:  # ZooKeeper, or the store read for the publication
                    log.warning("event=zk_resync_failed error=%r retry_in_s=%.1f", exc, delay)
                    time.sleep(delay)
                    delay = min(delay * 2, RESYNC_RETRY_MAX_S)

    # -- receiving ----------------------------------------------------------------------
    def _on_data(self, data: bytes | None, stat: ZnodeStat | None) -> None:
        if self._pending:
            return  # our own newer state is about to be published
        if data is None:
            if self._read_state is not None:  # a fresh ZooKeeper: seed it from the store
                self.client.handler.spawn(self._publish_quietly)
            return
        try:
            pub = decode_payload(data)
        except ValueError as exc:
            log.error("event=zk_bad_payload path=%s error=%s", self.state_path, exc)
            return
        with self._lock:
            self._generation = max(self._generation, pub.generation)
        if self._apply is not None:
            try:
                self._apply(pub)
            except Exception:  # a watch callback must never die
                log.exception("event=zk_apply_failed generation=%d", pub.generation)

    # -- publishing ---------------------------------------------------------------------
    def publish(self, read_state: ReadState) -> Published:
        retry = False
        if self.client.state == KazooState.CONNECTED:
            try:
                return self._publish_now(read_state)
            except _FAILURES as exc:
                log.warning("event=zk_publish_failed error=%r (publishing when it answers)", exc)
                retry = True  # the session may outlive the outage: no reconnect would publish
        with self._lock:
            self._pending = True
            generation = self._generation
        if retry:
            self.client.handler.spawn(self._resync)
        return Published(generation, read_state(), self.node, time.time())

    def _publish_quietly(self) -> None:
        try:
            if self._read_state is not None:
                self._publish_now(self._read_state)
        except _FAILURES as exc:
            log.warning("event=zk_publish_failed error=%r", exc)

    def _publish_now(self, read_state: ReadState) -> Published:
        with self._lock:
            while True:
                try:
                    current, stat = self._call(self.client.get_async, self.state_path)
                except NoNodeError:
                    current, stat = None, None
                # generations only grow, even if ZooKeeper lost its data: nodes ignore
                # publications older than what they serve
                generation = max(self._generation, _generation_of(current)) + 1
                pub = Published(generation, read_state(), self.node, time.time())
                data = encode_payload(pub.states, pub.generation, self.node)
                try:
                    if stat is None:
                        self._call(self.client.create_async, self.state_path, data)
                    else:
                        self._call(self.client.set_async, self.state_path, data, stat.version)
                except (NodeExistsError, BadVersionError, NoNodeError):
                    continue  # another node published meanwhile: read the store again
                self._generation = max(self._generation, pub.generation)
                self._pending = False
                log.info("event=zk_published generation=%d", pub.generation)
                return pub

    # -- node registry ------------------------------------------------------------------
    def report(self, report: NodeReport) -> None:
        self._report = report
        # while a publication waits, ZooKeeper just failed us: _resync registers this
        if self.client.state == KazooState.CONNECTED and not self._pending:
            try:
                self._register(report)
            except _FAILURES as exc:
                log.warning("event=zk_report_failed error=%r", exc)

    def _register(self, report: NodeReport) -> None:
        from msgspec import json

        self._put_ephemeral(self.node_path, json.encode(report))

    def _put_ephemeral(self, path: str, data: bytes) -> None:
        try:
            self._call(self.client.set_async, path, data)
        except NoNodeError:
            try:
                self._call(self.client.create_async, path, data, None, True, False, True)
            except NodeExistsError:
                self._call(self.client.set_async, path, data)

    # -- metrics windows ----------------------------------------------------------------
    def publish_metrics(self, data: bytes) -> None:
        self._metrics = data
        if self.client.state == KazooState.CONNECTED:
            try:
                self._put_ephemeral(self.node_metrics_path, data)
            except _FAILURES as exc:
                log.warning("event=zk_metrics_failed error=%r", exc)

    def peer_metrics(self) -> dict[str, bytes]:
        if self.client.state != KazooState.CONNECTED:
            return {}
        own = self.node_metrics_path.rsplit("/", 1)[1]
        try:
            names = self._call(self.client.get_children_async, self.metrics_path)
        except NoNodeError:
            return {}
        except _FAILURES as exc:
            log.warning("event=zk_metrics_read_failed error=%r", exc)
            return {}
        pending = {n: self.client.get_async(f"{self.metrics_path}/{n}") for n in names if n != own}
        out = {}
        for name, p in pending.items():
            try:
                data, _ = p.get(timeout=self.op_timeout_s)
            except NoNodeError:
                continue  # the node left meanwhile
            except _FAILURES as exc:
                log.warning("event=zk_metrics_read_failed node=%s error=%r", name, exc)
                continue
            out[name] = data
        return out

    def nodes(self) -> list[NodeReport]:
        from msgspec import json

        if self.client.state != KazooState.CONNECTED:
            return [self._report] if self._report is not None else []
        try:
            names = self._call(self.client.get_children_async, self.nodes_path)
            pending = [self.client.get_async(f"{self.nodes_path}/{n}") for n in names]
            out = []
            for p in pending:
                try:
                    data, _ = p.get(timeout=self.op_timeout_s)
                except NoNodeError:
                    continue  # the node left meanwhile
                out.append(json.decode(data, type=NodeReport))
            return sorted(out, key=lambda r: r.node)
        except _FAILURES as exc:
            log.warning("event=zk_nodes_failed error=%r", exc)
            return [self._report] if self._report is not None else []

    def info(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "url": self.url,
            "node": self.node,
            "connected": self.client.state == KazooState.CONNECTED,
            "session": str(self.client.state),
            "generation": self._generation,
            "pending_publish": self._pending,
        }

    def _call(self, op: Callable[..., Any], *args: Any) -> Any:
        """Run one async kazoo operation, bounded by the op timeout."""
        return op(*args).get(timeout=self.op_timeout_s)
