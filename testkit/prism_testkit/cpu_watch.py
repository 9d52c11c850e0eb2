"""How busy the machine was each second of a run, and how much of that was not the run's
own processes (Linux ``/proc``): a soak or a benchmark that shares its cores with
something else says so next to the seconds it failed, rather than blaming the nodes."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class CpuSecond:
    busy: float
    """Cores busy on the whole machine (all processes)."""
    others: float
    """Cores busy in processes other than the watched ones."""
    steal: float
    """Cores the hypervisor gave to other machines."""


def _machine() -> tuple[int, int]:
    """(busy, steal) jiffies of the whole machine since boot."""
    with open("/proc/stat") as f:
        cpu = f.readline().split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in cpu[:8])
    return user + nice + system + irq + softirq + steal, steal


def _process(pid: int) -> int:
    """Jiffies a process and its waited-for children spent on a CPU (0: it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return 0
    fields = stat[stat.rindex(")") + 2 :].split()
    return sum(int(v) for v in fields[11:15])  # utime stime cutime cstime


class CpuWatch:
    """Samples the machine once a second from a thread while in its ``with`` block;
    ``seconds[k]`` is the k-th second after it started."""

    def __init__(self, pids: Iterable[int]) -> None:
        self.pids = [*pids, os.getpid()]
        self.seconds: list[CpuSecond] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cpu-watch", daemon=True)

    def __enter__(self) -> CpuWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def at(self, second: int) -> CpuSecond | None:
        return self.seconds[second] if 0 <= second < len(self.seconds) else None

    def _run(self) -> None:
        t0 = time.monotonic()
        busy, steal = _machine()
        ours = sum(map(_process, self.pids))
        k = 1
        while not self._stop.wait(max(0.0, t0 + k - time.monotonic())):
            busy2, steal2 = _machine()
            ours2 = sum(map(_process, self.pids))
            self.seconds.append(
                CpuSecond(
                    (busy2 - busy) / TICKS,
                    max(0.0, (busy2 - busy) - (ours2 - ours)) / TICKS,
                    (steal2 - steal) / TICKS,
                )
            )
            busy, steal, ours = busy2, steal2, ours2
            k += 1
