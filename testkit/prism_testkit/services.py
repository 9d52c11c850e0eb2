"""Throwaway service processes for tests and benchmarks (never the shared Redis on 6379)."""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REDIS_SERVER = "/usr/bin/redis-server"


class ServiceUnavailable(RuntimeError):
    """The service binary is missing or the process did not come up."""


def stop_process(process: subprocess.Popen[bytes] | None, timeout: float = 10) -> None:
    """Terminate a child process, killing it if it does not exit within ``timeout``."""
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port_run(n: int) -> int:
    """The first of ``n`` consecutive free ports (``prism cluster up --port``)."""
    rng = random.SystemRandom()
    for _ in range(500):
        first = rng.randrange(20_000, 60_000 - n)
        if all(bindable(first + i) for i in range(n)):
            return first
    raise ServiceUnavailable(f"no {n} consecutive free ports")


def cluster_port() -> int:
    """A free port for a Redis Cluster node: its cluster bus listens 10,000 above it, so
    the port must be at most 55,535 (an ephemeral port often is not) and the bus port
    free too."""
    rng = random.SystemRandom()
    for _ in range(500):
        port = rng.randrange(20_000, 55_536)
        if bindable(port) and bindable(port + 10_000):
            return port
    raise ServiceUnavailable("no free port pair (port, port + 10,000) for a Redis Cluster node")


@dataclass
class RedisServer:
    """A private ``redis-server`` with no persistence; ``stop()`` ends it, ``restart()``
    brings it back on the same port (an outage, as clients see one)."""

    port: int
    process: subprocess.Popen[bytes]
    workdir: Path
    cluster: bool = False
    binary: str = REDIS_SERVER

    @property
    def url(self) -> str:
        """``redis://`` (``redis+cluster://`` for a cluster, as RedisBackend.from_url reads)."""
        scheme = "redis+cluster" if self.cluster else "redis"
        return f"{scheme}://127.0.0.1:{self.port}/0"

    def stop(self, *, keep_data: bool = False) -> None:
        """End the server; ``keep_data`` snapshots it first (``SAVE``) for :meth:`restart`."""
        if keep_data and self.process.poll() is None:
            _poll(self, b"SAVE", b"+OK", 10)
        stop_process(self.process)
        if not keep_data:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def restart(self, timeout: float = 10.0) -> None:
        """Start again on the same port, with the data of a ``stop(keep_data=True)``
        (a running server is stopped that way first); wait until it answers PING."""
        if self.process.poll() is None:
            self.stop(keep_data=True)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.process = _launch(self.binary, self.port, self.workdir, self.cluster)
        if not _wait_for_ping(self, timeout):
            raise ServiceUnavailable(f"redis-server did not restart on port {self.port}")


def start_redis(
    binary: str | None = None,
    timeout: float = 10.0,
    attempts: int = 3,
    cluster: bool = False,
    parent: Path | None = None,
) -> RedisServer:
    """Start ``redis-server`` on a free loopback port and wait until it answers PING;
    its folder (log, cluster config) is a new one under ``parent`` (default: the system's
    temporary folder).

    ``cluster=True`` starts a one-node Redis Cluster owning every slot: it enforces
    the cluster rules (no cross-slot multi-key commands) like a real one.
    """
    path = binary or shutil.which("redis-server") or REDIS_SERVER
    if not Path(path).is_file():
        raise ServiceUnavailable(f"redis-server not found at {path} (apt-get install redis-server)")
    error = "no attempt"
    for _ in range(attempts):  # another process may grab the free port first
        port = cluster_port() if cluster else free_port()
        workdir = Path(tempfile.mkdtemp(prefix="prism-redis-", dir=parent))
        proc = _launch(path, port, workdir, cluster)
        server = RedisServer(port, proc, workdir, cluster, path)
        if _wait_for_ping(server, timeout) and (not cluster or _own_all_slots(server, timeout)):
            return server
        output = (workdir / "redis.log").read_text(errors="replace").strip()
        server.stop()
        error = f"no PONG on port {port} within {timeout}s; log: {output[-500:]}"
    raise ServiceUnavailable(f"redis-server did not start: {error}")


def _launch(path: str, port: int, workdir: Path, cluster: bool) -> subprocess.Popen[bytes]:
    args = [path, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    args += ["--appendonly", "no", "--dir", str(workdir), "--daemonize", "no"]
    if cluster:
        args += ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"]
    with (workdir / "redis.log").open("ab") as out:  # the child keeps its own descriptor
        return subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)


def _wait_for_ping(server: RedisServer, timeout: float) -> bool:
    return _poll(server, b"PING", b"+PONG", timeout)


def _own_all_slots(server: RedisServer, timeout: float) -> bool:
    _poll(server, b"CLUSTER ADDSLOTSRANGE 0 16383", b"", timeout)
    return _poll(server, b"CLUSTER INFO", b"cluster_state:ok", timeout)


def _poll(server: RedisServer, command: bytes, expect: bytes, timeout: float) -> bool:
    """Send an inline command until its reply contains ``expect``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and server.process.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=1) as s:
                s.sendall(command + b"\r\n")
                if expect in s.recv(4096):
                    return True
        except OSError:
            pass
        time.sleep(0.02)
    return False
