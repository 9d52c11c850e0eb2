"""The CPU watch counts a second of this process's work as the machine's and as its
own, not as other processes'."""

from __future__ import annotations

import time

from prism_testkit.cpu_watch import CpuWatch


def test_a_busy_second_of_our_own_is_busy_and_ours() -> None:
    with CpuWatch([]) as watch:
        end = time.monotonic() + 1.3
        while time.monotonic() < end:  # one core busy in this process
            pass
    first = watch.at(0)
    assert first is not None and watch.at(5) is None
    assert first.busy >= 0.8  # at least our core (more if the machine is busy elsewhere)
    assert first.others <= first.busy - 0.8
