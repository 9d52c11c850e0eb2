"""Attribution into hourly and per-user counts and the experiment report, on SQLite and
PostgreSQL."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from prism_platform.db import MetadataStore
from prism_platform.db.event_schema import EventCount, EventOffset, EventUserCount
from prism_platform.errors import NotFound
from prism_platform.events.aggregate import aggregate_all, aggregate_once
from prism_platform.events.event import StoredEvent
from prism_platform.events.sqlite_sink import SqliteSink
from prism_platform.experiments.counts import user_stats
from prism_platform.experiments.report import ReportParams, experiment_report
from prism_platform.experiments.stats import RatioStats
from prism_sdk import Acm

KEY = b"k"
NOW = time.time()


@pytest.fixture(autouse=True)
def _now() -> None:
    """The events' time is each test's own start: an experiment started in the test
    must not begin in a later hour than its events (its window starts at that hour)."""
    global NOW
    NOW = time.time()


def _ev(
    n: int,
    kind: str,
    bucket: str,
    pos: int = 1,
    value: float | None = None,
    user: str | None = None,
    ts: float | None = None,
) -> StoredEvent:
    """Event ``n`` of a bucket: the token of its own request (tokens count once per
    type), served to user ``u<n>`` unless ``user`` is given."""
    user = user or f"u{n}"
    ts = NOW if ts is None else ts
    acm = Acm("feed", bucket, "home_feed", "v1", ("i2i", "popular"), pos, f"r{n}")
    token = acm.sign(KEY, user, "i")
    return StoredEvent(f"{bucket}-{kind}-{n}-{ts}", kind, token, user, "i", ts, value, NOW)


@pytest.fixture
def sink(tmp_path: Path) -> SqliteSink:
    return SqliteSink(tmp_path / "events.db")


def _counts(store: MetadataStore) -> dict[str, tuple[int, ...]]:
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                EventCount.bucket, EventCount.channel, EventCount.exposures, EventCount.requests,
                EventCount.clicks, EventCount.carts, EventCount.orders, EventCount.order_value,
            )
        )  # fmt: skip
        return {f"{r[0]}/{r[1]}": tuple(r[2:]) for r in rows}


def test_events_are_counted_once_per_dimension_and_hour(
    store: MetadataStore, sink: SqliteSink
) -> None:
    sink.append([_ev(i, "exposure", "a", pos=i % 4 + 1) for i in range(8)])
    sink.append([_ev(0, "click", "a"), _ev(0, "cart", "a"), _ev(0, "order", "a", value=12.5)])
    sink.append([_ev(1, "order", "a", value=None), _ev(0, "exposure", "b")])
    assert aggregate_once(sink, store.engine, limit=5) == 5
    assert aggregate_all(sink, store.engine, limit=5) == 8
    assert aggregate_all(sink, store.engine) == 0  # caught up: nothing counted twice
    assert _counts(store) == {"a/i2i": (8, 2, 1, 1, 2, 12.5), "b/i2i": (1, 1, 0, 0, 0, 0.0)}
    with store.engine.connect() as conn:
        offset, total = conn.execute(sa.select(EventOffset.offset, EventOffset.events)).one()
    assert (offset, total) == ("13", 13)
    sink.append([_ev(9, "click", "b")])
    assert aggregate_all(sink, store.engine) == 1
    assert _counts(store)["b/i2i"] == (1, 1, 1, 0, 0, 0.0)


def test_report_compares_buckets_with_the_control(store: MetadataStore, sink: SqliteSink) -> None:
    store.create_scene("feed", actor="t")
    store.start_experiment("feed", "ab", [("control", 50), ("treat", 50)])
    events = [_ev(i, "exposure", "control") for i in range(2000)]
    events += [_ev(i, "click", "control") for i in range(100)]
    events += [_ev(i, "exposure", "treat") for i in range(2000)]
    events += [_ev(i, "click", "treat") for i in range(160)]
    events += [_ev(i, "order", "treat") for i in range(16)]
    sink.append(events)
    aggregate_all(sink, store.engine)
    report = experiment_report(store, "feed", ReportParams(mde=0.2))
    control, treat = report["buckets"]
    assert (control["bucket"], control["control"], control["ctr"]) == ("control", True, 0.05)
    vs = treat["ctr_vs_control"]
    assert treat["ctr"] == 0.08 and vs["lift"] == pytest.approx(0.6)
    # one exposure per user: the per-user test is the unpooled two-proportion z-test
    # with the sample variances' n - 1 (z = 0.03 / sqrt((.05 * .95 + .08 * .92) / 1999))
    assert vs["significant"] and vs["p_value"] == pytest.approx(1.160e-4, rel=0.005)
    assert vs["lift_ci"][0] < 0.6 < vs["lift_ci"][1]
    assert treat["cvr"] == 0.1 and treat["cvr_vs_control"]["control_rate"] == 0.0
    assert (control["users"], treat["users"]) == (2000, 2000)
    assert report["srm"]["observed"] == [2000, 2000] and not report["srm"]["warning"]
    assert report["srm"]["unit"] == "users" and report["unit"] == "user"
    assert report["sample_size"]["users_per_bucket"] > 1000
    assert treat["by_strategy"][0]["strategy"] == "home_feed"

    with pytest.raises(NotFound) as bad:
        experiment_report(store, "feed", ReportParams(control="nope"))
    assert bad.value.field == "control"
    with pytest.raises(NotFound):
        experiment_report(store, "feed", ReportParams(experiment="other"))


def test_a_user_is_counted_over_the_window_before_squaring(
    store: MetadataStore, sink: SqliteSink
) -> None:
    """The per-user sums add each user's counts over every hour of the window first: a
    user with 3 + 2 exposures in two hours contributes 5² to Σx², not 3² + 2²."""
    store.create_scene("feed", actor="t")
    exp = store.start_experiment("feed", "ab", [("a", 100)])
    later = NOW + 3600
    events = [_ev(n, "exposure", "a", user="heavy") for n in range(3)]
    events += [_ev(n, "exposure", "a", user="heavy", ts=later) for n in range(3, 5)]
    events += [_ev(0, "click", "a", user="heavy"), _ev(9, "exposure", "a", user="light")]
    sink.append(events)
    aggregate_all(sink, store.engine)
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(sa.func.count()).select_from(EventUserCount)).scalar()
    assert rows == 3  # heavy in two hours, light in one
    ctr, cvr = user_stats(store, exp)["a"]
    assert ctr == RatioStats.of([5, 1], [1, 0]) == RatioStats(2, 6.0, 1.0, 26.0, 1.0, 5.0)
    assert cvr == RatioStats.of([1, 0], [0, 0])
