"""``NodeEvidence``: a canary's and its primary's figures from the serving metrics (since
the node first looked) and the event counts (from the canary's hour)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from prism_platform.db import MetadataStore
from prism_platform.db.event_schema import EventCount
from prism_platform.experiments.canary_evidence import CanaryArms, NodeEvidence, p99_ms
from prism_platform.metrics.registry import LATENCY_BUCKETS, Metrics

STARTED = datetime(2026, 12, 5, 10, 30, tzinfo=UTC)
ARMS = CanaryArms(7, "home", "base", ("new", "v2"), ("old", "v1"), STARTED)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[MetadataStore]:
    s = MetadataStore(f"sqlite:///{tmp_path / 'meta.db'}")
    s.upgrade()
    yield s
    s.dispose()


def _serve(m: Metrics, served: tuple[str, str], ok: int, seconds: float, **failed: int) -> None:
    """What the dispatcher counts: ``ok`` answers taking ``seconds``, ``failed`` runs by
    kind (the fallback answered those, under its own name)."""
    key = ("home", "base", *served)
    for _ in range(ok):
        m.requests.inc((*key, "ok"))
        m.latency.observe(key, seconds)
    for kind, n in failed.items():
        m.strategy_errors.inc((*key, kind), n)
        m.requests.inc(("home", "base", "fallback", "builtin", "degraded"), n)


def test_serving_figures_count_from_the_first_look(store: MetadataStore) -> None:
    m = Metrics()
    _serve(m, ("new", "v2"), 40, 0.3, exception=9)  # before: an earlier canary of v2
    _serve(m, ("old", "v1"), 100, 0.004)
    evidence = NodeEvidence(lambda: m, store.engine)
    canary, primary = evidence.stats(ARMS)
    assert (canary.requests, canary.p99_ms, primary.requests) == (0, None, 0)

    _serve(m, ("new", "v2"), 99, 0.03, exception=3, bad_result=1, deadline=2)
    _serve(m, ("new", "v2"), 1, 0.15)  # the one slow request in 100: not the p99
    _serve(m, ("old", "v1"), 200, 0.004, deadline=1)
    _serve(m, ("other", "v9"), 50, 1.5, exception=50)  # another bucket's strategy
    canary, primary = evidence.stats(ARMS)
    assert (canary.requests, canary.errors, canary.fallbacks) == (106, 4, 6)
    assert canary.p99_ms == 50.0  # the bound of the bucket holding the 99th answer
    assert (primary.requests, primary.errors, primary.fallbacks, primary.p99_ms) == (
        201, 0, 1, 5.0
    )  # fmt: skip

    evidence.forget([8])  # canary 7 ended: its baseline goes; a new look starts at zero
    canary, _ = evidence.stats(ARMS)
    assert canary.requests == 0


def test_the_primary_of_a_bucket_without_one_is_idle(store: MetadataStore) -> None:
    m = Metrics()
    evidence = NodeEvidence(lambda: m, store.engine)
    arms = CanaryArms(7, "home", "base", ("new", "v2"), None, STARTED)
    evidence.stats(arms)
    _serve(m, ("new", "v2"), 5, 0.001)
    canary, primary = evidence.stats(arms)
    assert canary.requests == 5 and primary.requests == 0 and primary.exposures == 0


def _count(
    hour: int, strategy: str, version: str, exposures: int, clicks: int, **kw: str
) -> dict[str, object]:
    return {
        "scene": kw.get("scene", "home"),
        "layer": kw.get("layer", "main"),
        "bucket": kw.get("bucket", "base"),
        "strategy": strategy,
        "version": version,
        "channel": kw.get("channel", "all"),
        "hour": datetime(2026, 12, 5, hour, tzinfo=UTC),
        "exposures": exposures,
        "requests": exposures // 10,
        "clicks": clicks,
        "carts": 0,
        "orders": 0,
        "order_value": 0.0,
    }


def test_exposures_and_clicks_from_the_canarys_hour(store: MetadataStore) -> None:
    rows = [
        _count(9, "new", "v2", 1000, 900),  # before the canary's hour
        _count(10, "new", "v2", 300, 12),  # its hour, two channels
        _count(10, "new", "v2", 200, 8, channel="search"),
        _count(11, "new", "v2", 500, 20),
        _count(11, "new", "v2", 400, 40, layer="rank"),  # another layer's view
        _count(11, "new", "v2", 400, 40, bucket="b"),  # another bucket
        _count(11, "new", "v3", 400, 40),  # another version
        _count(10, "old", "v1", 8000, 400),
        _count(11, "old", "v1", 2000, 100),
    ]
    with store.engine.begin() as conn:
        conn.execute(sa.insert(EventCount), rows)
    evidence = NodeEvidence(Metrics, store.engine)
    canary, primary = evidence.stats(ARMS)
    assert (canary.exposures, canary.clicks) == (1000, 40)
    assert (primary.exposures, primary.clicks) == (10_000, 500)
    assert canary.ctr == pytest.approx(0.04) and primary.ctr == pytest.approx(0.05)


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ([], None),
        ([0.0] * 13, None),
        ([100.0] + [0.0] * 12, 0.5),
        ([0.0] * 6 + [99.0, 1.0] + [0.0] * 5, 50.0),  # 99 % within 50 ms
        ([0.0] * 6 + [98.0, 2.0] + [0.0] * 5, 100.0),
        ([0.0] * 12 + [5.0], math.inf),  # above the last bound
    ],
)
def test_p99_is_the_bound_of_the_bucket_holding_it(
    counts: list[float], expected: float | None
) -> None:
    assert len(LATENCY_BUCKETS) == 12
    assert p99_ms(counts, LATENCY_BUCKETS) == expected
