"""A process another command started, found again by its pid and start time (Linux
``/proc``): ``prism cluster down`` stops what ``prism cluster up`` left running, and
never a process that reused a pid since."""

from __future__ import annotations

import os
import signal
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


def start_ticks(pid: int) -> int | None:
    """When ``pid`` started (clock ticks since boot, field 22 of ``/proc/<pid>/stat``),
    ``None`` when no such process runs (a zombie counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
    if fields[0] == "Z":
        return None
    return int(fields[19])


@dataclass(frozen=True)
class ProcessRecord:
    name: str
    pid: int
    started: int  # start_ticks(pid) when recorded
    log: str
    port: int

    @classmethod
    def of(cls, name: str, pid: int, log: Path, port: int) -> ProcessRecord:
        started = start_ticks(pid)
        if started is None:
            raise RuntimeError(f"{name} (pid {pid}) exited at once: see {log}")
        return cls(name, pid, started, str(log), port)

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> ProcessRecord:
        return cls(**obj)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def alive(self) -> bool:
        return start_ticks(self.pid) == self.started

    def stop(self, timeout: float = 15.0) -> bool:
        """SIGTERM, then SIGKILL after ``timeout`` s; whether it was still running."""
        if not self.alive:
            return False
        os.kill(self.pid, signal.SIGTERM)
        if not self._gone_within(timeout):
            os.kill(self.pid, signal.SIGKILL)
            if not self._gone_within(timeout):
                raise RuntimeError(f"{self.name} (pid {self.pid}) survived SIGKILL")
        return True

    def _gone_within(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.alive:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True
