from __future__ import annotations

import gc
import logging

import pytest

from prism_platform.metrics.registry import Metrics
from prism_platform.serving.gc_pauses import GcPauses


def _timed(metrics: Metrics, generation: int) -> int:
    """How many collections of ``generation`` were timed (the buckets' counts)."""
    return int(sum(metrics.gc_pause.series.get((str(generation),), [0.0])[:-1]))


def _full_collection_of_cycles(n: int) -> None:
    """``n`` cycles made with no automatic collection meanwhile, then one full one."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(n):
            a: list[object] = []
            a.append(a)
    finally:
        if enabled:
            gc.enable()
    gc.collect(2)


def test_every_collection_is_timed_by_generation_and_a_long_one_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    metrics = Metrics()
    pauses = GcPauses(metrics, log_ms=1e-6)  # every collection counts as long
    pauses.install()
    pauses.install()  # once only
    try:
        with caplog.at_level(logging.WARNING, logger="prism.gc"):
            _full_collection_of_cycles(1000)
    finally:
        pauses.uninstall()
    full = _timed(metrics, 2)
    assert full >= 1
    assert 0 < metrics.gc_pause.series[("2",)][-1] < 5  # seconds in all
    logged = [r.getMessage() for r in caplog.records if "event=gc_pause" in r.getMessage()]
    full_logged = [m for m in logged if "generation=2" in m]
    assert len(full_logged) == full, logged
    assert max(int(m.rsplit("collected=", 1)[1]) for m in full_logged) >= 1000
    _full_collection_of_cycles(10)  # uninstalled: not timed
    assert _timed(metrics, 2) == full


def test_a_short_collection_is_timed_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    metrics = Metrics()
    pauses = GcPauses(metrics, log_ms=60_000)
    pauses.install()
    try:
        with caplog.at_level(logging.WARNING, logger="prism.gc"):
            gc.collect(0)
    finally:
        pauses.uninstall()
    assert _timed(metrics, 0) >= 1
    assert not [r for r in caplog.records if "event=gc_pause" in r.getMessage()]
