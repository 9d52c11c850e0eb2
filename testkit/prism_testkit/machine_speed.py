"""How fast the machine itself ran, second by second: a fixed piece of pure-Python work
timed in CPU time by a process of its own, off the run's cores' queue but not its caches.

A shared host slows a guest for minutes at a time (other guests on the same cores, memory
bandwidth): the same work then takes more CPU time in every process, the run's as much as
this one's. A soak or benchmark that fails in such a spell says so next to the seconds it
failed (``slowdown``), instead of the failure being read as the nodes growing slower.
The work is CPU time, not wall time: waiting for a core (the run keeping the machine
busy) does not count, only how much a core did per second while it ran.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import threading
import time

WORK = """
import sys, time
t0 = time.monotonic()
k = 0
while True:
    k += 1
    time.sleep(max(0.0, t0 + k * {period} - time.monotonic()))
    c0 = time.process_time()
    s = 0
    for i in range({loops}):
        s += i * i
    print(f"{{time.monotonic() - t0:.3f}} {{1e3 * (time.process_time() - c0):.3f}}", flush=True)
"""


class MachineSpeed:
    """In its ``with`` block, a child process times ``loops`` iterations of a loop every
    ``period`` seconds (~10 ms of CPU a second by default: 1 % of a core);
    ``readings`` are (seconds since the start, CPU milliseconds the work took)."""

    def __init__(self, period: float = 0.5, loops: int = 100_000) -> None:
        self.period = period
        self.loops = loops
        self.readings: list[tuple[float, float]] = []
        self._proc: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None

    def __enter__(self) -> MachineSpeed:
        code = WORK.format(period=self.period, loops=self.loops)
        self._proc = subprocess.Popen(
            [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True
        )
        self._reader = threading.Thread(target=self._read, name="machine-speed", daemon=True)
        self._reader.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait(10)
        if self._reader is not None:
            self._reader.join(5)
        if self._proc is not None and self._proc.stdout is not None:
            self._proc.stdout.close()

    @property
    def pid(self) -> int:
        """The working process's (in the ``with`` block)."""
        assert self._proc is not None, "not started"
        return self._proc.pid

    def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for line in self._proc.stdout:
            at, ms = line.split()
            self.readings.append((float(at), float(ms)))

    @property
    def fastest_ms(self) -> float:
        """The work's CPU time when the machine ran fastest: the 10th percentile."""
        ms = sorted(m for _, m in self.readings)
        return ms[len(ms) // 10] if ms else 0.0

    def slowdown(self, since_s: float, until_s: float) -> float | None:
        """How many times slower than its fastest the machine ran in ``[since_s,
        until_s)`` (the median reading there over :attr:`fastest_ms`); None without a
        reading there."""
        ms = [m for at, m in self.readings if since_s <= at < until_s]
        fastest = self.fastest_ms
        if not ms or not fastest:
            return None
        return statistics.median(ms) / fastest


def wait_for_readings(speed: MachineSpeed, n: int, timeout_s: float = 30.0) -> None:
    """Until ``speed`` has ``n`` readings (a test's or a short run's start)."""
    end = time.monotonic() + timeout_s
    while len(speed.readings) < n and time.monotonic() < end:
        time.sleep(0.05)
