"""The machine-speed watch times its fixed work in CPU time: the same on a quiet machine
and on one whose every core this test keeps busy (waiting for a core does not count)."""

from __future__ import annotations

import subprocess
import sys

from prism_testkit.machine_speed import MachineSpeed, wait_for_readings


def test_the_work_is_timed_in_cpu_time_not_in_waiting_for_a_core() -> None:
    with MachineSpeed(period=0.05, loops=20_000) as speed:
        wait_for_readings(speed, 20)
        quiet = len(speed.readings)
        spin = [sys.executable, "-c", "while True: pass"]
        spinners = [subprocess.Popen(spin) for _ in range(2)]  # every core of the machine
        try:
            wait_for_readings(speed, quiet + 20)
        finally:
            for s in spinners:
                s.kill()
                s.wait()
    assert len(speed.readings) >= quiet + 20
    assert all(ms > 0 for _, ms in speed.readings)
    busy_from = speed.readings[quiet][0]
    slowdown = speed.slowdown(busy_from, float("inf"))
    assert slowdown is not None and slowdown < 2.0  # they took the cores, not speed
    assert speed.slowdown(1e9, 2e9) is None  # no reading there


def test_a_slowdown_is_against_the_fastest_readings() -> None:
    speed = MachineSpeed()
    speed.readings = [(float(t), 10.0) for t in range(20)] + [(20.0 + t, 15.0) for t in range(5)]
    assert speed.fastest_ms == 10.0
    assert speed.slowdown(0, 20) == 1.0
    assert speed.slowdown(20, 25) == 1.5
