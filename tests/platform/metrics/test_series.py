"""The metrics sampler's ring buffer, its percentiles from histogram deltas, the wire form
other nodes read, and the sum of two nodes' windows; every sample at an injected time."""

from __future__ import annotations

import math
import random
from collections import Counter as Tally
from dataclasses import dataclass

import numpy as np
import pytest

from prism_platform.metrics.registry import LATENCY_BUCKETS, Metrics
from prism_platform.metrics.series import MetricsSampler
from prism_platform.metrics.series_window import (
    N_COUNTS,
    chart_series,
    decode,
    encode,
    merge,
    quantiles,
)

STEP = 5.0
T0 = 2_000_000 * STEP + 0.05  # just after a slot boundary, as the sampling thread wakes


@dataclass(frozen=True)
class Event:
    scene: str
    bucket: str
    fallback: bool
    degraded: bool
    error: bool
    latency: float


def random_events(rng: random.Random, n: int) -> list[Event]:
    out = []
    for _ in range(n):
        error = rng.random() < 0.1
        out.append(
            Event(
                scene=rng.choice(["home", "cart"]),
                bucket=rng.choice(["base", "test"]),
                fallback=error or rng.random() < 0.05,
                degraded=error or rng.random() < 0.1,
                error=error,
                latency=rng.lognormvariate(math.log(0.004), 1.2),
            )
        )
    return out


def serve(m: Metrics, events: list[Event]) -> None:
    """What the dispatcher records for each answered request."""
    for e in events:
        name = "fallback" if e.fallback else "rank"
        key = (e.scene, e.bucket, name, "v1")
        if e.error:
            m.strategy_errors.inc((e.scene, e.bucket, "rank", "v1", "exception"))
        m.latency.observe(key, e.latency)
        m.requests.inc((*key, "degraded" if e.degraded else "ok"))


def sampler(m: Metrics, **kw: float) -> MetricsSampler:
    return MetricsSampler(lambda: m, interval_s=STEP, clock=lambda: T0, **kw)


def expected_row(events: list[Event]) -> list[int]:
    """Counts and histogram bucket counts, tallied by brute force."""
    hist = [0] * (len(LATENCY_BUCKETS) + 1)
    for e in events:
        hist[next((i for i, b in enumerate(LATENCY_BUCKETS) if e.latency <= b), -1)] += 1
    return [
        len(events),
        sum(e.error for e in events),
        sum(e.fallback for e in events),
        sum(e.degraded for e in events),
        *hist,
    ]


def test_each_slot_holds_the_deltas_per_scene_and_bucket() -> None:
    rng = random.Random(1)
    m = Metrics()
    s = sampler(m)
    serve(m, random_events(rng, 300))  # before the first sample: not charted
    s.sample(T0)
    batches = [random_events(rng, rng.randint(50, 400)) for _ in range(3)]
    for k, batch in enumerate(batches, 1):
        serve(m, batch)
        s.sample(T0 + k * STEP)
    w = s.window(3 * STEP, buckets=True)
    assert w.n == 3 and w.sampled.all()
    assert w.end == math.floor(T0 / STEP) + 2
    for key in ("home", "cart", "home/base", "home/test", "cart/base", "cart/test"):
        for i, batch in enumerate(batches):
            mine = [e for e in batch if key in (e.scene, f"{e.scene}/{e.bucket}")]
            assert w.data[key][i].tolist() == expected_row(mine), (key, i)
    assert set(s.window().data) == {"home", "cart"}  # scenes only unless asked


def brute_force_quantile(hist: list[int], q: float) -> float | None:
    """Prometheus' histogram_quantile, step by step."""
    total = sum(hist)
    if total == 0:
        return None
    rank, seen = q * total, 0
    for i, count in enumerate(hist):
        if seen + count >= rank - 1e-9 and count:
            if i == len(LATENCY_BUCKETS):
                return LATENCY_BUCKETS[-1]
            lower = LATENCY_BUCKETS[i - 1] if i else 0.0
            return lower + (LATENCY_BUCKETS[i] - lower) * (rank - seen) / count
        seen += count
    raise AssertionError("unreachable")


def bucket_of(value: float) -> tuple[float, float]:
    lower = 0.0
    for b in LATENCY_BUCKETS:
        if value <= b:
            return lower, b
        lower = b
    return LATENCY_BUCKETS[-1], math.inf


@pytest.mark.parametrize("seed", range(8))
def test_percentiles_from_histogram_deltas_match_a_brute_force_oracle(seed: int) -> None:
    rng = random.Random(seed)
    m = Metrics()
    s = sampler(m)
    serve(m, random_events(rng, 200))
    s.sample(T0)
    median, spread = rng.choice([0.0008, 0.004, 0.03, 0.3]), rng.choice([0.3, 1.0, 2.0])
    latencies = [rng.lognormvariate(math.log(median), spread) for _ in range(rng.randint(1, 900))]
    for v in latencies:
        m.latency.observe(("home", "base", "rank", "v1"), v)
        m.requests.inc(("home", "base", "rank", "v1", "ok"))
    s.sample(T0 + STEP)
    chart = chart_series(s.window(STEP))["home"]
    hist = s.window(STEP).data["home"][0, N_COUNTS:].tolist()
    ordered = sorted(latencies)
    for q, field in ((0.5, "p50_ms"), (0.99, "p99_ms")):
        got = chart[field][0] / 1000
        oracle = brute_force_quantile(hist, q)
        assert oracle is not None and got == pytest.approx(oracle, rel=1e-3, abs=1e-6)
        true = ordered[math.ceil(q * len(ordered) - 1e-9) - 1]  # the nearest-rank quantile
        lower, upper = bucket_of(true)
        assert lower - 1e-6 <= got <= min(upper, LATENCY_BUCKETS[-1]) + 1e-6, (q, true, got)


def test_quantiles_of_empty_and_overflowing_rows() -> None:
    width = len(LATENCY_BUCKETS) + 1
    empty = np.zeros((1, width), dtype=np.int64)
    over = np.zeros((1, width), dtype=np.int64)
    over[0, -1] = 5  # every request slower than the last bound
    assert math.isnan(quantiles(empty, LATENCY_BUCKETS, 0.5)[0])
    assert quantiles(over, LATENCY_BUCKETS, 0.99)[0] == LATENCY_BUCKETS[-1]


def test_the_ring_wraps_keeping_the_newest_slots() -> None:
    m = Metrics()
    s = sampler(m, window_s=6 * STEP)
    assert s.capacity == 6
    s.sample(T0)
    for k in range(1, 11):
        for _ in range(k):
            m.requests.inc(("home", "base", "rank", "v1", "ok"))
        if k != 8:  # the sampler missed a slot: no data there, unlike a slot with no traffic
            s.sample(T0 + k * STEP)
    w = s.window()
    first = math.floor(T0 / STEP)
    assert w.end == first + 9 and w.n == 6
    # slots of the samples k = 5..10; k = 9 holds what came since k = 7
    assert w.sampled.tolist() == [True, True, True, False, True, True]
    assert w.data["home"][:, 0].tolist() == [5, 6, 7, 0, 8 + 9, 10]
    assert s.window(2 * STEP).data["home"][:, 0].tolist() == [8 + 9, 10]


def test_two_nodes_windows_sum_on_time_slots() -> None:
    rng = random.Random(7)
    a, b, both = Metrics(), Metrics(), Metrics()
    sa, sb = sampler(a), sampler(b)
    sa.sample(T0)
    sb.sample(T0 + 1.3)  # another node samples at its own moments in the same slots
    for k in range(1, 5):
        ea, eb = random_events(rng, rng.randint(0, 200)), random_events(rng, rng.randint(1, 200))
        serve(a, ea)
        serve(b, eb)
        serve(both, ea + eb)
        sa.sample(T0 + k * STEP)
        if k < 4:  # b's latest slot has not reached the other node yet
            sb.sample(T0 + k * STEP + 1.3)
    published = decode(sb.encoded())
    total = merge([sa.window(), published], 1800)
    assert total.end == published.end == sa.window().end - 1
    one = sampler(both)
    assert total.n == one.capacity
    for scene in ("home", "cart"):
        mine = total.data[scene][-3:]
        rows_a, rows_b = sa.window().data[scene][-4:-1], published.data[scene][-3:]
        assert (mine == rows_a + rows_b).all()
        chart = chart_series(total)[scene]
        whole = quantiles(mine[:, N_COUNTS:], LATENCY_BUCKETS, 0.99) * 1000
        assert chart["p99_ms"][-3:] == pytest.approx(whole.tolist(), rel=1e-3)
        assert chart["rps"][-3:] == [round(r / STEP, 3) for r in mine[:, 0].tolist()]
    assert total.sampled[-3:].all() and not total.sampled[:-4].any()


def test_a_big_window_is_published_at_a_coarser_step() -> None:
    rng = random.Random(3)
    m = Metrics()
    s = sampler(m, window_s=40 * STEP)
    s.sample(T0 - STEP)  # the first slot is odd: coarser slots straddle the start
    for k in range(40):
        serve(m, random_events(rng, 30))
        s.sample(T0 + k * STEP)
    fine = s.window()
    small = decode(encode(fine, max_bytes=len(encode(fine)) // 3))
    assert small.step_s / STEP in (2, 4, 8, 16, 32)
    assert small.data["home"].sum(axis=0).tolist() == fine.data["home"].sum(axis=0).tolist()
    assert merge([fine, small], 1800).step_s == small.step_s  # coarsest step wins


def test_a_window_survives_the_wire() -> None:
    rng = random.Random(5)
    m = Metrics()
    s = sampler(m, window_s=12 * STEP)
    s.sample(T0)
    for k in (1, 2, 5, 6):
        serve(m, random_events(rng, 40 * k))
        s.sample(T0 + k * STEP)
    w, back = s.window(), decode(s.encoded())
    assert (back.step_s, back.end, back.bounds) == (w.step_s, w.end, w.bounds)
    assert back.sampled.tolist() == w.sampled.tolist()
    assert {k: v.tolist() for k, v in back.data.items()} == {
        k: v.tolist() for k, v in w.data.items()
    }


@pytest.mark.parametrize(
    "data", [b"", b"{}", b'{"step_s": 5, "end": 1, "n": 2, "bounds": [1], "sampled": []}', b"[1]"]
)
def test_a_damaged_publication_is_refused(data: bytes) -> None:
    with pytest.raises(ValueError):
        decode(data)


def test_a_row_out_of_its_window_is_refused() -> None:
    bad = (
        b'{"step_s": 5, "end": 1, "n": 2, "bounds": [1.0], "sampled": [[0, 2]],'
        b' "rows": {"home": [[7], [1, 0, 0, 0], 0, [1]]}}'
    )
    with pytest.raises(ValueError, match="home"):
        decode(bad)


def test_chart_series_tells_no_data_from_no_traffic() -> None:
    m = Metrics()
    s = sampler(m, window_s=4 * STEP)
    s.sample(T0)
    m.requests.inc(("home", "base", "rank", "v1", "ok"))
    m.latency.observe(("home", "base", "rank", "v1"), 0.003)
    s.sample(T0 + STEP)
    s.sample(T0 + 2 * STEP)  # a slot without requests
    chart = chart_series(s.window())["home"]
    assert chart["rps"] == [None, None, 0.2, 0.0]
    assert chart["p50_ms"][:2] == [None, None] and chart["p50_ms"][3] is None
    assert 2.0 < chart["p50_ms"][2] <= 5.0
    assert chart["error_rate"] == [None, None, 0.0, None]
    assert chart["t"][-1] == (math.floor(T0 / STEP) + 2) * STEP


def test_the_thread_starts_and_stops() -> None:
    m = Metrics()
    published: list[bytes] = []
    s = MetricsSampler(lambda: m, interval_s=STEP, publish=published.append)
    s.start()
    s.stop()
    assert s._thread is None
    s.publish_now()
    assert decode(published[0]).step_s == STEP


def test_sampling_tallies_every_key_once() -> None:
    m = Metrics()
    tally: Tally[str] = Tally()
    for scene in ("a", "b"):
        m.requests.inc((scene, "x", "rank", "v1", "ok"), 3)
        tally[scene] += 3
    assert {k: int(v[0]) for k, v in sampler(m).totals().items() if "/" not in k} == tally


def test_points_of_several_slots_sum_them_counting_back_from_the_newest() -> None:
    rng = random.Random(11)
    m = Metrics()
    s = sampler(m, window_s=8 * STEP)
    s.sample(T0)
    for k in range(1, 6):  # 5 sampled slots of 8: the node started 3 slots ago
        serve(m, random_events(rng, 20 * k))
        s.sample(T0 + k * STEP)
    w = s.window()
    fine, coarse = chart_series(w)["home"], chart_series(w, every=3)["home"]
    assert len(coarse["t"]) == 2 and coarse["t"] == fine["t"][4::3]  # the oldest 2 slots go
    rows = w.data["home"]
    newest = rows[5:].sum(axis=0)
    assert coarse["rps"][1] == round(newest[0] / (3 * STEP), 3)
    assert w.sampled.tolist() == [False] * 3 + [True] * 5
    assert coarse["rps"][0] == round(rows[2:5, 0].sum() / (2 * STEP), 3)  # 2 of 3 sampled
    p99 = quantiles(newest[None, N_COUNTS:], LATENCY_BUCKETS, 0.99)[0] * 1000
    assert coarse["p99_ms"][1] == round(p99, 3)
    assert coarse["error_rate"][1] == round(newest[1] / newest[0], 5)


def test_a_node_far_behind_does_not_hold_the_sum_back() -> None:
    fresh, stale = Metrics(), Metrics()
    sf, ss = sampler(fresh), sampler(stale)
    sf.sample(T0)
    ss.sample(T0)
    for k in range(1, 40):
        fresh.requests.inc(("home", "base", "rank", "v1", "ok"))
        stale.requests.inc(("home", "base", "rank", "v1", "ok"))
        sf.sample(T0 + k * STEP)
        if k <= 20:  # its sampler stopped 19 slots (95 s) ago: more than stale_s behind
            ss.sample(T0 + k * STEP)
    total = merge([sf.window(), decode(ss.encoded())], 1800, stale_s=60)
    assert total.end == sf.window().end
    assert total.data["home"][-19:, 0].tolist() == [1] * 19  # the fresh node alone
    assert total.data["home"][-20, 0] == 2  # both, in the stale node's last slot
    assert merge([sf.window(), decode(ss.encoded())], 1800, stale_s=120).end == ss.window().end
