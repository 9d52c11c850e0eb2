"""How cost grows: a strategy's stage work with its candidate count, a request's reads
with the size of a result table and of the catalogue, and the memory each takes.

In process, one thread, each point the median of repeated runs:

(a) candidates: 4 channels of n / 4 table rows each (ids drawn from a 30,000-item
    catalogue) merged, filtered (50 seen items dropped) and cut to the top 20, on
    ``stages.Candidates`` columns and on ``list[Item]``, n from 100 to 5,000;
(b) result tables: reading 20 rows of 50 entries (one batch) from a table of 10^4 to
    10^6 entries on the embedded backend, and the memory per million entries;
(c) catalogue: reading the forward-index rows of 20 items from 10^4 to 10^6 items, and
    the memory per million items.

Nearest-neighbour search against catalogue size is ``bench/ann.py``'s. Writes
``bench/plots/growth_*.png`` (matplotlib) for ``bench/REPORT.md``.
"""

from __future__ import annotations

import gc
import random
import statistics
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _report import target  # bench/_report.py

from prism_sdk import DataClient, LocalBackend, stages
from prism_sdk.stages import Candidates

HERE = Path(__file__).resolve().parent
CATALOGUE = 30_000
SIZE = 20


def median_us(fn: Callable[[], object], runs: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e6)
    return statistics.median(times)


def candidates_case(n: int, rng: random.Random) -> tuple[float, float]:
    per = max(n // 4, 1)
    rows = {
        name: [(str(rng.randrange(CATALOGUE)), rng.random()) for _ in range(per)]
        for name in ("i2i", "category", "popular", "emb")
    }
    seen = {str(rng.randrange(CATALOGUE)) for _ in range(50)}

    def columns() -> object:
        merged = stages.merge({k: Candidates.from_rows(v, k) for k, v in rows.items()})
        kept = stages.drop_ids(merged, seen, "seen").kept
        return stages.top(kept, SIZE).to_items()

    def objects() -> object:
        merged = stages.merge({k: stages.from_scored(v, k) for k, v in rows.items()})
        kept = stages.drop_ids(merged, seen, "seen").kept
        return stages.top(kept, SIZE)

    runs = 200 if n <= 1000 else 60
    return median_us(columns, runs), median_us(objects, runs)


def allocated(build: Callable[[], Any]) -> tuple[Any, float]:
    """What ``build`` returns and the bytes it left allocated."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    out = build()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return out, float(after - before)


def table_case(entries: int, rng: random.Random) -> tuple[float, float]:
    keys = entries // 50

    def build() -> LocalBackend:
        b = LocalBackend()
        b.replace_table(
            "i2i",
            {
                str(k): [(str(rng.randrange(CATALOGUE)), 1.0 / (j + 1)) for j in range(50)]
                for k in range(keys)
            },
        )
        return b

    backend, size = allocated(build)
    data = DataClient(backend)
    wanted = [str(rng.randrange(keys)) for _ in range(20)]
    us = median_us(lambda: data.tables("i2i", wanted, 50), 300)
    return us, size / entries * 1e6


def catalogue_case(items: int, rng: random.Random) -> tuple[float, float]:
    def build() -> LocalBackend:
        b = LocalBackend()
        b.upsert_items(
            {
                str(i): {
                    "title": f"item {i}",
                    "category": f"c{i % 40}",
                    "price": 9.5,
                    "shop": f"s{i % 500}",
                    "status": "on",
                }  # fmt: skip
                for i in range(items)
            }
        )
        return b

    backend, size = allocated(build)
    data = DataClient(backend)
    wanted = [str(rng.randrange(items)) for _ in range(SIZE)]
    us = median_us(lambda: data.items(wanted), 300)
    return us, size / items * 1e6


def plot(name: str, title: str, xlabel: str, series: dict[str, list[tuple[float, float]]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.2), dpi=100)
    for label, points in series.items():
        ax.plot([x for x, _ in points], [y for _, y in points], marker="o", label=label)
    ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("µs (median)")
    ax.set_title(title, fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    (HERE / "plots").mkdir(exist_ok=True)
    fig.savefig(HERE / "plots" / f"growth_{name}.png")
    plt.close(fig)


def main() -> None:
    rng = random.Random(7)
    print("(a) merge + drop 50 seen + top 20 over 4 channels, by candidates")
    cols, objs = [], []
    for n in (100, 250, 500, 1000, 2000, 5000):
        c, o = candidates_case(n, rng)
        cols.append((n, c))
        objs.append((n, o))
        print(f"  {n:5d} candidates: columns {c:7.0f} us   list[Item] {o:7.0f} us   ({o / c:.1f}x)")
    per_1k = (cols[-1][1] - cols[0][1]) / ((cols[-1][0] - cols[0][0]) / 1000)
    print(f"  columns: +{per_1k:.0f} us per 1,000 more candidates")
    plot("candidates", "stage pipeline vs candidates", "candidates", {
        "Candidates columns": cols, "list[Item]": objs})  # fmt: skip

    print("(b) read 20 rows of 50 entries (one batch), by table size")
    reads = []
    for entries in (10_000, 100_000, 1_000_000):
        us, per_m = table_case(entries, rng)
        reads.append((entries, us))
        print(
            f"  {entries:9,d} entries: {us:6.1f} us   {per_m / 2**20:6.1f} MiB per million entries"
        )
    plot("table", "read 20 table rows vs table size", "entries", {"embedded backend": reads})
    flat = reads[-1][1] / reads[0][1]
    target("table read, 10^6 / 10^4 entries", flat, "<= 2 (flat)", flat <= 2.0, "x")

    print("(c) read 20 forward-index rows, by catalogue size")
    items = []
    for n in (10_000, 100_000, 1_000_000):
        us, per_m = catalogue_case(n, rng)
        items.append((n, us))
        print(f"  {n:9,d} items: {us:6.1f} us   {per_m / 2**20:6.1f} MiB per million items")
    plot("catalogue", "read 20 items vs catalogue size", "items", {"embedded backend": items})
    flat = items[-1][1] / items[0][1]
    target("item read, 10^6 / 10^4 items", flat, "<= 2 (flat)", flat <= 2.0, "x")
    print(f"plots: {HERE / 'plots'}/growth_{{candidates,table,catalogue}}.png")


if __name__ == "__main__":
    main()
