"""Recall to page: merge + filters + scatter for 1,300 candidates -> 20, one run.

(a) the SDK pipeline, per request: ``stages.merge`` of 4 channels (i2i 500, category 300,
    popular 300, new 200; weights and quotas), one forward-index read of the merged
    candidates (local backend), filters: already-interacted (``drop_ids``, 50 ids),
    off-shelf (``keep_if`` on the row's status), excluded (``drop_ids``, 20 ids),
    down-weight of items shown and not clicked (``stages.downweight``, 40 ids), then
    ``stages.top`` and ``stages.scatter`` by category (window 5, at most 2) to 20;
(b) baseline: ``sorted()`` of the same 1,300 candidates by score, first 20;
(c) the same pipeline as (a) on ``Candidates`` columns (the channels built by
    ``Candidates.from_rows``, the forward index read by ``stages.item_fields``, the
    off-shelf filter a mask), items made only for the page; its page must equal (a)'s.

The garbage collector is set as the server sets it (``prism_platform.asgi``: gen0
threshold 50,000, the long-lived data frozen). Prints µs per request (median, p99) of
each, per step medians of (a) and (c), the ratios (a) / (b) and (c) / (b) (target: (c)
at most 3x (b)), and what building the channels from table rows costs each way (not in
(a) nor (c): both get them built).
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from _report import target  # bench/_report.py

from prism_sdk import DataClient, Item, LocalBackend, stages
from prism_sdk.stages import Candidates

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
    # channels overlap: 1,300 candidates, ~900 ids; interned as a table read gives them
    pool = [sys.intern(str(i)) for i in rng.sample(range(N_ITEMS), 900)]
    channels = {
        name: sorted(
            (Item(rng.choice(pool), rng.random(), name) for _ in range(n)),
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


def columnar(
    data: LocalBackend,
    channels: dict[str, Candidates],
    seen: set[str],
    excluded: set[str],
    unclicked: dict[str, int],
    steps: dict[str, list[float]],
) -> list[Item]:
    t0 = time.perf_counter()
    merged = stages.merge(channels, quotas=QUOTAS, weights=WEIGHTS)
    t1 = time.perf_counter()
    fields = stages.item_fields(DataClient(data), merged)
    kept = stages.drop_ids(merged, seen, "already_interacted").kept
    kept = stages.keep_if(kept, fields.equals(kept, "status", "on"), "off_shelf").kept
    kept = stages.drop_ids(kept, excluded, "excluded").kept
    kept = stages.downweight(kept, unclicked, factor=0.5)
    t2 = time.perf_counter()
    ranked = stages.top(kept, len(kept))
    page = stages.scatter(ranked, "category", rows=fields, window=5, max_per_window=2, limit=SIZE)
    out = page.to_items()
    t3 = time.perf_counter()
    for name, a, b in (("merge", t0, t1), ("read + filters", t1, t2), ("top + scatter", t2, t3)):
        steps[name].append((b - a) * 1e6)
    return out


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
    gc.set_threshold(50_000, 20, 100)  # as prism_platform.asgi sets it
    gc.freeze()
    steps: dict[str, list[float]] = {"merge": [], "read + filters": [], "top + scatter": []}
    col_steps: dict[str, list[float]] = {k: [] for k in steps}
    rows = {name: [(it.id, it.score) for it in items] for name, items in channels.items()}
    cols = {name: Candidates.from_rows(r, name) for name, r in rows.items()}

    page = pipeline(data, channels, seen, excluded, unclicked, steps)
    col_page = columnar(data, cols, seen, excluded, unclicked, col_steps)
    assert [(it.id, it.score, it.channels) for it in col_page] == [
        (it.id, it.score, it.channels) for it in page
    ]
    cats = [data.items[it.id]["category"] for it in page]
    assert len(page) == SIZE and all(
        cats[i : i + 5].count(c) <= 2 for i in range(SIZE) for c in cats
    )
    assert not {it.id for it in page} & (seen | excluded)

    sdk: list[float] = []
    base: list[float] = []
    col: list[float] = []
    objects_src: list[float] = []
    columns_src: list[float] = []
    for _ in range(args.runs):
        timed(lambda: pipeline(data, channels, seen, excluded, unclicked, steps), sdk)
        timed(lambda: sorted(everything, key=lambda it: it.score, reverse=True)[:SIZE], base)
        timed(lambda: columnar(data, cols, seen, excluded, unclicked, col_steps), col)
        timed(lambda: [stages.from_scored(r, n) for n, r in rows.items()], objects_src)
        timed(lambda: [Candidates.from_rows(r, n) for n, r in rows.items()], columns_src)
    s, b, c = statistics.median(sdk), statistics.median(base), statistics.median(col)
    print(f"merge + filters + scatter: {len(everything)} candidates of 4 channels -> {SIZE}")
    print(f"  (a) SDK pipeline, items:   median {s:7.0f} us   p99 {p99(sdk):7.0f} us")
    for name, xs in steps.items():
        print(f"        {name:16s}    median {statistics.median(xs):7.0f} us")
    print(f"  (b) sorted() top {SIZE}:      median {b:7.0f} us   p99 {p99(base):7.0f} us")
    print(f"  (c) SDK pipeline, columns: median {c:7.0f} us   p99 {p99(col):7.0f} us")
    for name, xs in col_steps.items():
        print(f"        {name:16s}    median {statistics.median(xs):7.0f} us")
    print(f"  ratio (a) / (b): {s / b:.1f}x")
    print(f"  ratio (c) / (b): {c / b:.1f}x; (a) / (c): {s / c:.1f}x")
    target("stage pipeline, columns / sorted() top 20, (c)/(b)", c / b, "<= 3", c / b <= 3.0, "x")
    src_o, src_c = statistics.median(objects_src), statistics.median(columns_src)
    print(f"  sources from table rows: items {src_o:.0f} us, columns {src_c:.0f} us")


if __name__ == "__main__":
    main()
