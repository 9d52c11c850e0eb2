"""The target's CPU and RSS from /proc, read on this test's own process and a child."""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from prism_testkit.stress.target import ProcessGroup, cpu_seconds, locate, rss_bytes


def test_cpu_seconds_follow_the_work_done() -> None:
    pid = os.getpid()
    before, own_before = cpu_seconds(pid), time.process_time()
    deadline = time.process_time() + 0.3
    while time.process_time() < deadline:  # burn 0.3 s of CPU
        sum(range(1000))
    spent, own_spent = cpu_seconds(pid) - before, time.process_time() - own_before
    assert own_spent - 0.05 <= spent <= own_spent + 0.05  # /proc counts in clock ticks


def test_rss_is_what_this_process_holds() -> None:
    rss = rss_bytes(os.getpid())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # updated lazily
    assert 10 * 2**20 < rss <= peak * 1.05
    block = bytearray(64 * 2**20)  # touched: 64 MB more resident
    assert rss_bytes(os.getpid()) >= rss + 60 * 2**20
    del block


@pytest.fixture
def child() -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    yield process
    process.kill()
    process.wait()


def test_a_process_group_holds_the_children(child: subprocess.Popen[bytes]) -> None:
    group = ProcessGroup(os.getpid())
    assert group.root == os.getpid()  # pytest is not a `prism serve` supervisor
    assert {os.getpid(), child.pid} <= set(group.pids())
    # the parts first: a starting child only grows, so the sum read later is no smaller
    parts, cpu = rss_bytes(os.getpid()) + rss_bytes(child.pid), cpu_seconds(os.getpid())
    usage = group.usage()
    assert usage.rss_bytes >= 0.95 * parts  # 5 %: pytest's own heap may shrink in between
    assert usage.cpu_s >= cpu


def status(host: str, pid: int) -> dict[str, object]:
    return {"node": "n1", "nodes": [{"node": "n1", "host": host, "pid": pid}]}


def test_a_node_on_this_machine_is_measured() -> None:
    located = locate(status(socket.gethostname(), os.getpid()))
    assert located.group is not None and located.group.pid == os.getpid()
    assert located.reason.startswith("node n1 pid")


@pytest.mark.parametrize(
    ("node_status", "reason"),
    [
        (None, "unknown (no /admin/status"),
        (status("elsewhere.example", 123), "unknown (remote: elsewhere.example)"),
        ({"node": "n1", "nodes": []}, "unknown (node 'n1' reports no pid)"),
        (status(socket.gethostname(), 2**22 + 7), "unknown (pid 4194311 is not running here)"),
    ],
)
def test_a_node_elsewhere_is_unknown(node_status: dict[str, object] | None, reason: str) -> None:
    located = locate(node_status)
    assert located.group is None
    assert located.reason.startswith(reason)
