"""The ItemCF job on 1M synthetic interactions x 20k items: time and peak memory.

Interactions: ~50k users with log-normal activity, item popularity a power law
(``1 / rank ** 0.9``), one ``(user, item)`` pair per interaction (repeats allowed).
Each variant runs in its own process (so memory peaks do not mix) from the same
arrays saved to disk, best of ``--runs`` (peak: of that run):

(a) ``prism_platform.jobs.itemcf.itemcf``: cosine with inverse user frequency, top 50
    per item, chunked to its memory budget, returned as the result table it writes;
(b) a chunked sparse reference in plain scipy: binarise, normalise columns,
    ``Xᵀ[chunk] @ X`` densified 250 items at a time, argpartition top 50, kept as arrays
    (ours keeps the result table's Python lists: ~1M (id, score) tuples);
(c) scikit-learn's full ``cosine_similarity`` (sparse output), then top 50 per row.

Peak memory is the rise of the process's maximum resident set over its size once the
arrays are loaded. The target is (a) <= 1.5x (b) in time and in memory.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from _report import target  # bench/_report.py
from scipy import sparse

from prism_platform.jobs.itemcf import itemcf

N_INTERACTIONS, N_ITEMS, N_USERS, TOP_K = 1_000_000, 20_000, 50_000, 50
VARIANTS = ("ours", "reference", "sklearn")


def synthetic(seed: int = 0) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    rng = np.random.default_rng(seed)
    popularity = 1.0 / rng.permutation(np.arange(1, N_ITEMS + 1)) ** 0.9
    activity = rng.lognormal(0.0, 1.0, N_USERS)
    users = rng.choice(N_USERS, N_INTERACTIONS, p=activity / activity.sum())
    items = rng.choice(N_ITEMS, N_INTERACTIONS, p=popularity / popularity.sum())
    return users.astype(np.int64), items.astype(np.int64)


def binary_matrix(users: npt.NDArray[np.int64], items: npt.NDArray[np.int64]) -> Any:
    x = sparse.csr_matrix(
        (np.ones(len(users), np.float32), (users, items)), shape=(N_USERS, N_ITEMS)
    )
    x.sum_duplicates()
    x.data[:] = 1.0
    return x


def top_k(block: npt.NDArray[np.float32]) -> tuple[Any, Any]:
    idx = np.argpartition(-block, TOP_K - 1, axis=1)[:, :TOP_K].copy()  # not a view of it all
    return idx, np.take_along_axis(block, idx, axis=1)


def reference(users: npt.NDArray[np.int64], items: npt.NDArray[np.int64]) -> int:
    x = binary_matrix(users, items)
    norms = np.sqrt(np.asarray(x.sum(axis=0)).ravel())
    xn = (x @ sparse.diags(1.0 / np.maximum(norms, 1.0)).astype(np.float32)).tocsc()
    xt = xn.T.tocsr()
    results = []
    for start in range(0, N_ITEMS, 250):
        chunk = np.arange(start, min(start + 250, N_ITEMS))
        block = (xt[chunk] @ xn).toarray()
        block[np.arange(len(chunk)), chunk] = 0.0
        results.append(top_k(block))
    return sum(len(idx) for idx, _ in results)


def full_cosine(users: npt.NDArray[np.int64], items: npt.NDArray[np.int64]) -> int:
    from sklearn.metrics.pairwise import cosine_similarity

    sim = cosine_similarity(binary_matrix(users, items).T, dense_output=False).tocsr()
    sim.setdiag(0.0)
    results = [top_k(sim[start : start + 250].toarray()) for start in range(0, N_ITEMS, 250)]
    return sum(len(idx) for idx, _ in results)


def ours(users: npt.NDArray[np.int64], items: npt.NDArray[np.int64]) -> int:
    return len(itemcf(users, items, N_USERS, N_ITEMS, top_k=TOP_K))


def run_variant(name: str, folder: Path) -> dict[str, float]:
    """One variant in this process: seconds and peak MB above the loaded arrays."""
    users, items = np.load(folder / "users.npy"), np.load(folder / "items.npy")
    func = {"ours": ours, "reference": reference, "sklearn": full_cosine}[name]
    with open("/proc/self/statm") as f:
        base_kb = int(f.read().split()[1]) * resource.getpagesize() / 1024
    t0 = time.perf_counter()
    rows = func(users, items)
    seconds = time.perf_counter() - t0
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"seconds": seconds, "peak_mb": max(peak_kb - base_kb, 0) / 1024, "rows": rows}


def measure(name: str, folder: Path, runs: int) -> dict[str, float]:
    best: dict[str, float] = {}
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, __file__, "--variant", name, "--data", str(folder)],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        result = json.loads(out.stdout.strip().splitlines()[-1])
        if not best or result["seconds"] < best["seconds"]:
            best = result
    return best


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--variant", choices=VARIANTS, help=argparse.SUPPRESS)
    p.add_argument("--data", help=argparse.SUPPRESS)
    p.add_argument("--skip-sklearn", action="store_true", help="skip (c), the full matrix")
    args = p.parse_args()
    if args.variant:
        print(json.dumps(run_variant(args.variant, Path(args.data))))
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        users, items = synthetic()
        np.save(folder / "users.npy", users)
        np.save(folder / "items.npy", items)
        pairs = len(np.unique(users * N_ITEMS + items))
        print(f"{len(users):,} interactions ({pairs:,} distinct pairs), {N_USERS:,} users, "
              f"{N_ITEMS:,} items, top {TOP_K}; best of {args.runs}")  # fmt: skip
        names = VARIANTS[:2] if args.skip_sklearn else VARIANTS
        results = {name: measure(name, folder, args.runs) for name in names}
    labels = {
        "ours": "(a) itemcf()",
        "reference": "(b) chunked scipy",
        "sklearn": "(c) sklearn full",
    }
    for name, r in results.items():
        print(f"{labels[name]:<20} {r['seconds']:6.2f} s  {r['peak_mb']:7.0f} MB peak")
    a, b = results["ours"], results["reference"]
    print(
        f"(a)/(b): time {a['seconds'] / b['seconds']:.2f}x, "
        f"memory {a['peak_mb'] / max(b['peak_mb'], 1.0):.2f}x (target <= 1.5x)"
    )
    t_ratio, m_ratio = a["seconds"] / b["seconds"], a["peak_mb"] / max(b["peak_mb"], 1.0)
    target("ItemCF job time / chunked reference", t_ratio, "<= 1.5", t_ratio <= 1.5, "x")
    target("ItemCF job memory / chunked reference", m_ratio, "<= 1.5", m_ratio <= 1.5, "x")
    if "sklearn" in results:
        c = results["sklearn"]
        print(f"(c)/(b): time {c['seconds'] / b['seconds']:.2f}x, "
              f"memory {c['peak_mb'] / max(b['peak_mb'], 1.0):.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
