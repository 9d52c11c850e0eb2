"""The CPU and memory of the target node, read from ``/proc`` when it runs on this machine.

The node's ``/admin/status`` names it and reports each live node's ``host`` and ``pid``.
The target is that process and its children; when its parent is the ``prism serve`` that
supervises several workers (``--workers N``), the parent and all its workers."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class Usage:
    cpu_s: float
    """User plus system CPU seconds so far, summed over the processes."""
    rss_bytes: int


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` (``/proc/<pid>/stat`` fields 14 and 15), in seconds."""
    stat = (PROC / str(pid) / "stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # the command name may hold spaces
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_bytes(pid: int) -> int:
    """``VmRSS`` of ``/proc/<pid>/status`` (0 for a process without memory, a zombie)."""
    for line in (PROC / str(pid) / "status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def parent_pid(pid: int) -> int:
    stat = (PROC / str(pid) / "stat").read_text()
    return int(stat[stat.rindex(")") + 2 :].split()[1])


def descendants(root: int) -> list[int]:
    """``root`` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            try:
                children.setdefault(parent_pid(int(entry.name)), []).append(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue  # it ended meanwhile
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, ()))
    return found


def _is_prism_serve(pid: int) -> bool:
    try:
        argv = (PROC / str(pid) / "cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"serve" in argv and any(b"prism" in arg for arg in argv)


class ProcessGroup:
    """The processes of a node: ``usage()`` sums them (those that ended count no more)."""

    def __init__(self, pid: int) -> None:
        parent = parent_pid(pid)
        self.root = parent if _is_prism_serve(parent) and not _is_prism_serve(pid) else pid
        self.pid = pid

    def pids(self) -> list[int]:
        return descendants(self.root)

    def usage(self) -> Usage:
        cpu, rss = 0.0, 0
        for pid in self.pids():
            try:
                cpu += cpu_seconds(pid)
                rss += rss_bytes(pid)
            except (OSError, ValueError, IndexError):
                continue
        return Usage(cpu, rss)


@dataclass(frozen=True, slots=True)
class Located:
    group: ProcessGroup | None
    reason: str
    """Why ``group`` is None, or which node and processes it is."""


def locate(status: dict[str, Any] | None) -> Located:
    """The node that answered ``/admin/status`` as processes of this machine, if it runs
    here (same host name, a live pid)."""
    if status is None:
        return Located(None, "unknown (no /admin/status: give a token, prism login)")
    name = status.get("node")
    report = next((n for n in status.get("nodes", []) if n.get("node") == name), None)
    if report is None or "pid" not in report:
        return Located(None, f"unknown (node {name!r} reports no pid)")
    if report.get("host") != socket.gethostname():
        return Located(None, f"unknown (remote: {report.get('host')})")
    try:
        group = ProcessGroup(int(report["pid"]))
    except (OSError, ValueError, IndexError):
        return Located(None, f"unknown (pid {report['pid']} is not running here)")
    return Located(group, f"node {name} pid {group.pid} (processes under {group.root})")
