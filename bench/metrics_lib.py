"""What the recommend path pays for its metrics: today's ``Metrics`` vs prometheus_client.

Per simulated request, the exact metric operations ``Dispatcher.recommend`` performs, on
the same metric kinds, label names and latency buckets (``LATENCY_BUCKETS``), over keys
of 3 scenes x 2 buckets and latencies spread over every bucket:

* ok path (every answered request): ``latency.observe(key, elapsed)`` then
  ``requests.inc((*key, "ok"))``;
* worst path (a strategy that fails, answered by the fallback, a data-source read failed):
  ``strategy_errors.inc``, ``fallbacks.inc``, ``latency.observe``,
  ``requests.inc(..., "degraded")``, ``data_errors.inc``.

Cases, all in one process, with interleaved batches (the order rotating each round):

(a) today's ``prism_platform.metrics.registry.Metrics`` (the hot path is the same
    under ``--workers N``: ``metrics/share.py`` only reads its state once a second);
(b) prometheus_client, single-process values (``MutexValue``);
(c) prometheus_client, multiprocess mode (``PROMETHEUS_MULTIPROC_DIR`` set to a temp
    dir: every value an mmapped file entry, which ``prism serve --workers N`` needs).

(b) and (c) are each timed as documented (``metric.labels(*key).inc()``) and with the
children looked up in a dict by label tuple (the cheapest possible use). Prints µs per
request (median over rounds of a batch's mean) of each, and the medians of the paired
per-round differences against (a). Also, off the hot path: the time to render
``/metrics`` of ``--workers`` workers, ours (``SharedMetrics.render``: this worker's
state plus the others' JSON files) vs prometheus_client's ``MultiProcessCollector``.

Needs prometheus_client in the venv (``.venv/bin/pip install prometheus-client``).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from prism_platform.metrics.registry import LATENCY_BUCKETS, Metrics
from prism_platform.metrics.share import SharedMetrics

MULTIPROC_DIR = Path(tempfile.mkdtemp(prefix="prism-bench-prom-"))
os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(MULTIPROC_DIR)  # read at import: must come first
try:
    from prometheus_client import (
        CollectorRegistry,
        Counter,
        Histogram,
        generate_latest,
        multiprocess,
        values,
    )
except ImportError:  # pragma: no cover
    raise SystemExit("needs prometheus_client: .venv/bin/pip install prometheus-client") from None

SCENES = ("home_feed", "cart", "detail")
BUCKETS = ("base", "exp1")
SBV = ("scene", "bucket", "strategy", "version")
KINDS = ("exception", "deadline", "bad_result")
Key = tuple[str, str, str, str]
Req = tuple[Key, float, str]  # key, elapsed seconds, failure kind
Handler = Callable[[Key, float, str], None]


def requests(rng: random.Random, n: int) -> list[Req]:
    """``n`` requests: a key each (strategy named after its scene), a latency log-uniform
    over 0.2 ms .. 3 s (so every bucket, +Inf included, is hit) and a failure kind."""
    keys = [(s, b, s, "v1") for s in SCENES for b in BUCKETS]
    return [(rng.choice(keys), 10 ** rng.uniform(-3.7, 0.5), rng.choice(KINDS)) for _ in range(n)]


def ours(m: Metrics) -> tuple[Handler, Handler]:
    def ok(key: Key, elapsed: float, kind: str) -> None:
        m.latency.observe(key, elapsed)
        m.requests.inc((*key, "ok"))

    def worst(key: Key, elapsed: float, kind: str) -> None:
        scene, bucket, name, version = key
        m.strategy_errors.inc((scene, bucket, name, version, kind))
        m.fallbacks.inc((scene, kind))
        fkey = (scene, bucket, "fallback", "0")
        m.latency.observe(fkey, elapsed)
        m.requests.inc((*fkey, "degraded"))
        m.data_errors.inc((scene,))

    return ok, worst


class Prom:
    """The platform's recommend-path metrics as prometheus_client objects."""

    def __init__(self, registry: CollectorRegistry | None) -> None:
        self.requests = Counter(
            "prism_requests",
            "Recommend requests answered.",
            (*SBV, "outcome"),
            registry=registry,
        )
        self.latency = Histogram(
            "prism_request_latency_seconds",
            "Recommend latency inside the app.",
            SBV,
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.strategy_errors = Counter(
            "prism_strategy_errors", "Strategy failures by kind.", (*SBV, "kind"), registry=registry
        )
        self.fallbacks = Counter(
            "prism_fallbacks",
            "Requests answered by the scene fallback.",
            ("scene", "reason"),
            registry=registry,
        )
        self.data_errors = Counter(
            "prism_data_errors",
            "Requests with failed data-source reads.",
            ("scene",),
            registry=registry,
        )


def documented(p: Prom) -> tuple[Handler, Handler]:
    def ok(key: Key, elapsed: float, kind: str) -> None:
        p.latency.labels(*key).observe(elapsed)
        p.requests.labels(*key, "ok").inc()

    def worst(key: Key, elapsed: float, kind: str) -> None:
        scene, bucket, name, version = key
        p.strategy_errors.labels(scene, bucket, name, version, kind).inc()
        p.fallbacks.labels(scene, kind).inc()
        p.latency.labels(scene, bucket, "fallback", "0").observe(elapsed)
        p.requests.labels(scene, bucket, "fallback", "0", "degraded").inc()
        p.data_errors.labels(scene).inc()

    return ok, worst


def cached(p: Prom) -> tuple[Handler, Handler]:
    lat: dict[tuple[str, ...], Any] = {}
    req: dict[tuple[str, ...], Any] = {}
    err: dict[tuple[str, ...], Any] = {}
    fb: dict[tuple[str, ...], Any] = {}
    de: dict[tuple[str, ...], Any] = {}

    def get(d: dict[tuple[str, ...], Any], metric: Any, key: tuple[str, ...]) -> Any:
        c = d.get(key)
        if c is None:
            c = d[key] = metric.labels(*key)
        return c

    def ok(key: Key, elapsed: float, kind: str) -> None:
        get(lat, p.latency, key).observe(elapsed)
        get(req, p.requests, (*key, "ok")).inc()

    def worst(key: Key, elapsed: float, kind: str) -> None:
        scene, bucket, name, version = key
        get(err, p.strategy_errors, (scene, bucket, name, version, kind)).inc()
        get(fb, p.fallbacks, (scene, kind)).inc()
        fkey = (scene, bucket, "fallback", "0")
        get(lat, p.latency, fkey).observe(elapsed)
        get(req, p.requests, (*fkey, "degraded")).inc()
        get(de, p.data_errors, (scene,)).inc()

    return ok, worst


@contextmanager
def value_class(cls: Any) -> Iterator[None]:
    """prometheus_client picks a metric child's value class when the child is made."""
    before = values.ValueClass
    values.ValueClass = cls
    try:
        yield
    finally:
        values.ValueClass = before


def batch(handler: Handler, reqs: list[Req]) -> float:
    """Mean µs per request of one pass over ``reqs``."""
    t0 = time.perf_counter()
    for key, elapsed, kind in reqs:
        handler(key, elapsed, kind)
    return (time.perf_counter() - t0) * 1e6 / len(reqs)


def compare(
    title: str, cases: dict[str, Handler], reqs: list[Req], rounds: int
) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in cases}
    names = list(cases)
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            times[name].append(batch(cases[name], reqs))
    base = names[0]
    print(title)
    medians = {}
    for name in names:
        med = statistics.median(times[name])
        medians[name] = med
        line = f"  {name:49s} {med:6.2f} us/request"
        if name != base:
            diff = statistics.median(a - b for a, b in zip(times[name], times[base], strict=True))
            line += f"   +{diff:5.2f} us over (a)   x{med / medians[base]:.1f}"
        print(line)
    return medians


def render_figures(workers: int, reqs: list[Req], prom_mp: Prom, rounds: int) -> None:
    """Off the hot path: one scrape of a node of ``workers`` workers."""
    with tempfile.TemporaryDirectory(prefix="prism-bench-share-") as d:
        shared = []
        for w in range(workers):
            m = Metrics()
            ok, worst = ours(m)
            for i, (key, elapsed, kind) in enumerate(reqs):
                (worst if i % 50 == 0 else ok)(key, elapsed, kind)
            shared.append(SharedMetrics(m, Path(d), worker=f"w{w}"))
            shared[-1].publish()
        for path in MULTIPROC_DIR.glob("*.db"):  # the other workers' files: copies of ours
            prefix, _, pid = path.stem.rpartition("_")
            for w in range(1, workers):
                shutil.copy(path, MULTIPROC_DIR / f"{prefix}_{pid}{w:03d}.db")
        registry = CollectorRegistry()
        collector: Any = multiprocess.MultiProcessCollector
        collector(registry, path=str(MULTIPROC_DIR))
        mine: list[float] = []
        theirs: list[float] = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            shared[0].render()
            t1 = time.perf_counter()
            generate_latest(registry)
            t2 = time.perf_counter()
            mine.append((t1 - t0) * 1e3)
            theirs.append((t2 - t1) * 1e3)
    print(f"render /metrics of a node of {workers} workers (a scrape, not per request):")
    print(f"  (a) ours (SharedMetrics.render, JSON files)  {statistics.median(mine):6.2f} ms")
    print(f"  (c) prometheus_client MultiProcessCollector  {statistics.median(theirs):6.2f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--requests", type=int, default=2000, help="requests per batch")
    ap.add_argument("--rounds", type=int, default=200, help="batches per case")
    ap.add_argument("--workers", type=int, default=4, help="workers for the render figure")
    args = ap.parse_args()
    reqs = requests(random.Random(5), args.requests)

    m = Metrics()
    ours_ok, ours_worst = ours(m)
    with value_class(values.MutexValue):
        single = Prom(CollectorRegistry())
        single_doc, single_cached = documented(single), cached(single)
        for ok, worst in (single_doc, single_cached):  # make every child now: MutexValue
            for key, elapsed, kind in reqs:
                ok(key, elapsed, kind)
                worst(key, elapsed, kind)
    mp_class = values.MultiProcessValue()  # type: ignore[no-untyped-call]
    with value_class(mp_class):
        mp = Prom(None)  # multiprocess mode: no registry, the collector reads the files
        mp_doc, mp_cached = documented(mp), cached(mp)
        for ok, worst in (mp_doc, mp_cached):
            for key, elapsed, kind in reqs:
                ok(key, elapsed, kind)
                worst(key, elapsed, kind)
    for key, elapsed, kind in reqs:
        ours_ok(key, elapsed, kind)
        ours_worst(key, elapsed, kind)
    assert type(mp.latency.labels(*reqs[0][0])._sum).__name__ == "MmapedValue"
    assert type(single.latency.labels(*reqs[0][0])._sum) is values.MutexValue

    print(f"{args.rounds} rounds of {args.requests} requests per case, interleaved")
    results = {}
    for label, pick in (("ok path", 0), ("worst path", 1)):
        results[label] = compare(
            f"{label}: {'2' if pick == 0 else '5'} metric operations a request",
            {
                "(a) ours (Metrics)": (ours_ok, ours_worst)[pick],
                "(b) prometheus_client single, .labels()": single_doc[pick],
                "(b) prometheus_client single, cached children": single_cached[pick],
                "(c) prometheus_client multiproc, .labels()": mp_doc[pick],
                "(c) prometheus_client multiproc, cached children": mp_cached[pick],
            },
            reqs,
            args.rounds,
        )
    path = results["ok path"]
    best = path["(c) prometheus_client multiproc, cached children"] - path["(a) ours (Metrics)"]
    verdict = "over" if best > 2.0 else "within"
    print(f"multiprocess mode, cheapest use, ok path: +{best:.2f} us/request: {verdict} 2 us")
    render_figures(args.workers, reqs, mp, max(5, args.rounds // 10))
    values.close_all_multiprocess_files()  # type: ignore[no-untyped-call]
    shutil.rmtree(MULTIPROC_DIR, ignore_errors=True)


if __name__ == "__main__":
    main()
