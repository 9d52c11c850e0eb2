"""A private standalone ZooKeeper (Debian package ``zookeeper``) for tests and benchmarks."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .services import ServiceUnavailable, free_port

ZOOKEEPER_JAR = Path("/usr/share/java/zookeeper.jar")
MAIN = "org.apache.zookeeper.server.quorum.QuorumPeerMain"


@dataclass
class ZooKeeperServer:
    """One standalone server on a loopback port; ``kill``/``restart`` keep port and data."""

    port: int
    workdir: Path
    process: subprocess.Popen[bytes] | None = None
    java: str = field(default_factory=lambda: shutil.which("java") or "/usr/bin/java")

    @property
    def hosts(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, chroot: str = "/prism") -> str:
        return f"zk://{self.hosts}{chroot}"

    def launch(self, timeout: float = 20.0) -> None:
        cfg = self.workdir / "zoo.cfg"
        cfg.write_text(
            "tickTime=500\nminSessionTimeout=1000\nmaxSessionTimeout=20000\n"
            f"dataDir={self.workdir / 'data'}\nclientPort={self.port}\n"
            "clientPortAddress=127.0.0.1\nadmin.enableServer=false\n"
            "4lw.commands.whitelist=ruok,srvr\n"
        )
        args = [self.java, "-Xmx256m", "-cp", str(ZOOKEEPER_JAR), MAIN, str(cfg)]
        with (self.workdir / "zookeeper.log").open("ab") as out:
            self.process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
        if not self._wait_ok(timeout):
            log = (self.workdir / "zookeeper.log").read_text(errors="replace")[-800:]
            self.kill()
            raise ServiceUnavailable(f"zookeeper did not answer on port {self.port}: {log}")

    def _wait_ok(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(b"ruok")
                    if s.recv(8) == b"imok":
                        return True
            except OSError:
                pass
            time.sleep(0.05)
        return False

    def kill(self) -> None:
        """Stop the server abruptly (SIGKILL), as a crash would."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.kill()
        self.launch()

    @contextmanager
    def frozen(self) -> Iterator[None]:
        """The server stopped (``SIGSTOP``) inside the block: its sockets stay open and
        nothing answers, as in a long GC pause or a hung machine; it resumes
        (``SIGCONT``) at the block's end, whatever happened inside."""
        assert self.process is not None and self.process.poll() is None, "not running"
        pid = self.process.pid
        os.kill(pid, signal.SIGSTOP)
        try:
            yield
        finally:
            os.kill(pid, signal.SIGCONT)

    def stop(self) -> None:
        self.kill()
        shutil.rmtree(self.workdir, ignore_errors=True)


def start_zookeeper() -> ZooKeeperServer:
    if not ZOOKEEPER_JAR.is_file():
        raise ServiceUnavailable(
            f"{ZOOKEEPER_JAR} not found: install the Debian package (apt-get install zookeeper)"
        )
    server = ZooKeeperServer(free_port(), Path(tempfile.mkdtemp(prefix="prism-zk-")))
    server.launch()
    return server
