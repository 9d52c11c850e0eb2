"""Recall to page: merge + filters + scatter for 1,300 candidates -> 20, one run.

(a) the SDK pipeline, per request: ``stages.merge`` of 4 channels (i2i 500, category 300,
    popular 300, new 200; weights and quotas), one forward-index read of the merged
    candidates (local backend), filters: already-interacted (``drop_ids``, 50 ids),
    off-shelf (``keep_if`` on the row's status), excluded (``drop_ids``, 20 ids),
    down-weight of items shown and not clicked (``stages.downweight``, 40 ids), then
    ``stages.top`` and ``stages.scatter`` by category (window 5, at most 2) to 20;
(b) baseline: ``sorted()`` of the same 1,300 candidates by score, first 20.

Prints µs per request (median, p99) of each, per step medians of (a), and (a) / (b).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from prism_sdk import DataClient, Item, LocalBackend, stages

N_ITEMS, N_CATS, SIZE = 50_000, 30, 20
CHANNELS = {"i2i": 500, "category": 300, "popular": 300, "new": 200}
QUOTAS = {"i2i": 400, "category": 250, "popular": 250, "new": 150}
WEIGHTS = {"i2i": 1.0, "category": 0.3, "popular": 0.1, "new": 0.2}


def world(rng: random.Random) -> tuple[LocalBackend, dict[str, list[Item]]]:
    data = LocalBackend()
    data.upsert_items(
        {
            str(i): {
                "category": f"c{rng.randrange(N_CATS)}",
                "status": "on" if rng.random() > 0.05 else "off",
            }
            for i in range(N_ITEMS)
        }
    )
    pool = rng.sample(range(N_ITEMS), 900)  # channels overlap: 1,300 candidates, ~900 ids
    channels = {
        name: sorted(
            (Item(str(rng.choice(pool)), rng.random(), name) for _ in range(n)),
            key=lambda it: -it.score,
        )
        for name, n in CHANNELS.items()
    }
    return data, channels


def pipeline(
    data: LocalBackend,
    channels: dict[str, list[Item]],
    seen: set[str],
    excluded: set[str],
    unclicked: dict[str, int],
    steps: dict[str, list[float]],
) -> list[Item]:
    t0 = time.perf_counter()
    merged = stages.merge(channels, quotas=QUOTAS, weights=WEIGHTS)
    t1 = time.perf_counter()
    rows = stages.item_rows(DataClient(data), merged)
    kept = stages.drop_ids(merged, seen, "already_interacted").kept
    kept = stages.keep_if(
        kept, lambda it: (rows.get(it.id) or {}).get("status") == "on", "off_shelf"
    ).kept
    kept = stages.drop_ids(kept, excluded, "excluded").kept
    kept = stages.downweight(kept, unclicked, factor=0.5)
    t2 = time.perf_counter()
    ranked = stages.top(kept, len(kept))
    page = stages.scatter(ranked, "category", rows=rows, window=5, max_per_window=2, limit=SIZE)
    t3 = time.perf_counter()
    for name, a, b in (("merge", t0, t1), ("read + filters", t1, t2), ("top + scatter", t2, t3)):
        steps[name].append((b - a) * 1e6)
    return page


def timed(fn: Callable[[], Any], results: list[float]) -> None:
    t0 = time.perf_counter()
    fn()
    results.append((time.perf_counter() - t0) * 1e6)


def p99(xs: list[float]) -> float:
    return sorted(xs)[int(len(xs) * 0.99) - 1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=2000)
    args = ap.parse_args()
    rng = random.Random(3)
    data, channels = world(rng)
    ids = sorted({it.id for items in channels.values() for it in items})
    seen, excluded = set(rng.sample(ids, 50)), set(rng.sample(ids, 20))
    unclicked = {i: rng.randrange(1, 4) for i in rng.sample(ids, 40)}
    everything = [it for items in channels.values() for it in items]
    steps: dict[str, list[float]] = {"merge": [], "read + filters": [], "top + scatter": []}

    page = pipeline(data, channels, seen, excluded, unclicked, steps)
    cats = [data.items[it.id]["category"] for it in page]
    assert len(page) == SIZE and all(
        cats[i : i + 5].count(c) <= 2 for i in range(SIZE) for c in cats
    )
    assert not {it.id for it in page} & (seen | excluded)

    sdk: list[float] = []
    base: list[float] = []
    for _ in range(args.runs):
        timed(lambda: pipeline(data, channels, seen, excluded, unclicked, steps), sdk)
        timed(lambda: sorted(everything, key=lambda it: it.score, reverse=True)[:SIZE], base)
    s, b = statistics.median(sdk), statistics.median(base)
    print(f"merge + filters + scatter: {len(everything)} candidates of 4 channels -> {SIZE}")
    print(f"  (a) SDK pipeline:       median {s:7.0f} us   p99 {p99(sdk):7.0f} us")
    for name, xs in steps.items():
        print(f"        {name:16s} median {statistics.median(xs):7.0f} us")
    print(f"  (b) sorted() top {SIZE}:   median {b:7.0f} us   p99 {p99(base):7.0f} us")
    print(f"  ratio (a) / (b): {s / b:.1f}x")


if __name__ == "__main__":
    main()
