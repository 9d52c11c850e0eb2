"""Metrics over time as consecutive slots: one node's window, its compact wire form for
the other nodes, the sum of several nodes' windows aligned on time slots, and the chart
series (requests/s, p50/p99 latency, error/fallback/degraded rates) read from a window.

A slot ``k`` of a window with step ``s`` covers the epoch seconds ``[k*s, (k+1)*s)``, so
every node's slots line up without talking to the others (their clocks are NTP-synced).
Each slot holds, per key (a scene, or ``scene/bucket``), the counts of that slot
(:data:`COUNTS`) followed by the latency histogram's bucket counts of that slot. Counts
add up across nodes, and so do the histograms: percentiles of a sum are exact up to the
histogram's resolution, never an average of percentiles.

Percentile resolution: a percentile is interpolated linearly inside the histogram bucket
that holds it (as Prometheus' ``histogram_quantile`` does), so it always lies in the same
bucket as the true value and is off by less than that bucket's width: the buckets'
upper bounds are ``LATENCY_BUCKETS`` (0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500 ms, 1, 2 s);
a percentile above 2 s is shown as 2 s.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt

COUNTS = ("requests", "errors", "fallbacks", "degraded")
"""The first columns of a slot's row; the latency histogram's bucket counts follow."""
N_COUNTS = len(COUNTS)
MAX_WIRE_BYTES = 256 * 1024
"""A published window stays well under ZooKeeper's 1 MB znode limit: a bigger one is
published at a coarser step (twice the step until it fits)."""
_EPS = 1e-9

log = logging.getLogger("prism.metrics")

Rows = npt.NDArray[np.int64]


@dataclass(frozen=True)
class SeriesWindow:
    """``n`` consecutive slots ending with slot ``end``; ``sampled[i]`` tells whether
    slot ``end - n + 1 + i`` was sampled (a node not yet running has no data, which
    differs from no traffic); ``data`` maps a key to its ``(n, width)`` counts."""

    step_s: float
    end: int
    sampled: npt.NDArray[np.bool_]
    data: dict[str, Rows]
    bounds: tuple[float, ...]

    @property
    def n(self) -> int:
        return len(self.sampled)

    @property
    def width(self) -> int:
        return N_COUNTS + len(self.bounds) + 1

    def slots(self) -> npt.NDArray[np.int64]:
        return np.arange(self.end - self.n + 1, self.end + 1, dtype=np.int64)


def empty_window(step_s: float, end: int, n: int, bounds: Sequence[float]) -> SeriesWindow:
    return SeriesWindow(step_s, end, np.zeros(n, dtype=np.bool_), {}, tuple(bounds))


# -- the wire form ----------------------------------------------------------------------
class _KeyRows(msgspec.Struct, frozen=True, array_like=True):
    """One key's slots with traffic, as flat columns (decoded without a loop per row)."""

    slots: list[int]
    """Their indices, 0 the window's oldest slot."""
    counts: list[int]
    """:data:`COUNTS` of each, one after the other."""
    first: int
    """The first histogram bucket with a count in any of them..."""
    hist: list[int]
    """...and from there, of each slot, the bucket counts up to the last such bucket."""


class _Wire(msgspec.Struct, frozen=True):
    step_s: float
    end: int
    n: int
    bounds: list[float]
    sampled: list[list[int]]
    """Runs of sampled slots: ``[first index, length]``, index 0 the oldest slot."""
    rows: dict[str, _KeyRows]


def encode(window: SeriesWindow, max_bytes: int = MAX_WIRE_BYTES) -> bytes:
    """The window as compact JSON; coarser (the step doubled) until under ``max_bytes``."""
    while True:
        data = msgspec.json.encode(_wire(window))
        if len(data) <= max_bytes or window.n <= 1:
            return data
        window = coarser(window, 2)


def _wire(w: SeriesWindow) -> _Wire:
    runs: list[list[int]] = []
    for i, on in enumerate(w.sampled.tolist()):
        if on and runs and runs[-1][0] + runs[-1][1] == i:
            runs[-1][1] += 1
        elif on:
            runs.append([i, 1])
    rows: dict[str, _KeyRows] = {}
    for key, counts in w.data.items():
        used = counts.any(axis=1)
        if not used.any():
            continue
        hist = counts[used, N_COUNTS:]
        cols = np.flatnonzero(hist.any(axis=0))
        first, last = (int(cols[0]), int(cols[-1])) if len(cols) else (0, -1)
        rows[key] = _KeyRows(
            np.flatnonzero(used).tolist(),
            counts[used, :N_COUNTS].ravel().tolist(),
            first,
            hist[:, first : last + 1].ravel().tolist(),
        )
    return _Wire(w.step_s, w.end, w.n, list(w.bounds), runs, rows)


def decode(data: bytes) -> SeriesWindow:
    """A window from :func:`encode`'s bytes; ValueError when they are not one."""
    try:
        wire = msgspec.json.decode(data, type=_Wire)
    except msgspec.DecodeError as exc:
        raise ValueError(f"not a published metrics window: {exc}") from None
    if not (wire.step_s > 0 and 0 < wire.n <= 1_000_000):
        raise ValueError(f"bad metrics window: step {wire.step_s}, {wire.n} slots")
    width = N_COUNTS + len(wire.bounds) + 1
    sampled = np.zeros(wire.n, dtype=np.bool_)
    for first, length in wire.sampled:
        sampled[max(first, 0) : first + length] = True
    out: dict[str, Rows] = {}
    for key, r in wire.rows.items():
        slots = np.asarray(r.slots, dtype=np.int64)
        k = len(slots)
        ncols = len(r.hist) // k if k else 0
        if not (
            k
            and len(r.counts) == k * N_COUNTS
            and len(r.hist) == k * ncols
            and 0 <= r.first
            and r.first + ncols <= width - N_COUNTS
            and slots.min() >= 0
            and slots.max() < wire.n
        ):
            raise ValueError(f"bad metrics rows for {key!r}")
        counts = np.zeros((wire.n, width), dtype=np.int64)
        counts[slots, :N_COUNTS] = np.asarray(r.counts, dtype=np.int64).reshape(k, N_COUNTS)
        at = N_COUNTS + r.first
        counts[slots, at : at + ncols] = np.asarray(r.hist, dtype=np.int64).reshape(k, ncols)
        out[key] = counts
    return SeriesWindow(wire.step_s, wire.end, sampled, out, tuple(wire.bounds))


class PeerWindows:
    """The other nodes' windows, each decoded once per publication (they publish every
    ~15 s; the overview reads them every 5 s)."""

    def __init__(self) -> None:
        self._decoded: dict[str, tuple[bytes, SeriesWindow]] = {}
        self._lock = threading.Lock()

    def read(self, published: dict[str, bytes]) -> list[SeriesWindow]:
        """The windows of ``published`` (bytes by node); one that does not decode is
        left out and logged."""
        out = []
        with self._lock:
            self._decoded = {n: v for n, v in self._decoded.items() if n in published}
            for node, data in sorted(published.items()):
                known = self._decoded.get(node)
                if known is not None and known[0] == data:
                    out.append(known[1])
                    continue
                try:
                    window = decode(data)
                except ValueError as exc:  # another version's layout, or damage
                    log.warning("event=metrics_window_unreadable node=%s error=%s", node, exc)
                    continue
                self._decoded[node] = (data, window)
                out.append(window)
        return out


# -- combining windows ------------------------------------------------------------------
def coarser(w: SeriesWindow, factor: int) -> SeriesWindow:
    """The window at ``factor`` times its step (slots summed)."""
    step = w.step_s * factor
    end = _slot_of(w.end, w.step_s, step)
    return rebin([w], step, end - _slot_of(w.end - w.n + 1, w.step_s, step) + 1, end=end)


def merge(
    windows: Sequence[SeriesWindow], window_s: float, *, stale_s: float = 60.0
) -> SeriesWindow:
    """The sum of several nodes' windows over the last ``window_s`` seconds, at the
    coarsest of their steps. The sum ends with the newest slot that every node has
    published (a node's latest slots reach the others up to a publication interval
    late), leaving out of that choice a node more than ``stale_s`` behind the newest."""
    windows = [w for w in windows if w.bounds == windows[0].bounds] if windows else []
    if not windows:
        raise ValueError("no window to merge")
    step = max(w.step_s for w in windows)
    ends = [_slot_of(w.end, w.step_s, step) for w in windows]
    newest = max(ends)
    end = min(e for e in ends if e >= newest - math.ceil(stale_s / step))
    return rebin(windows, step, max(1, math.ceil(window_s / step - _EPS)), end=end)


def rebin(windows: Sequence[SeriesWindow], step: float, n: int, *, end: int) -> SeriesWindow:
    """``windows`` summed into ``n`` slots of ``step`` seconds ending with slot ``end``.
    A finer slot goes into the coarse slot that holds its start."""
    start = end - n + 1
    sampled = np.zeros(n, dtype=np.bool_)
    data: dict[str, Rows] = {}
    for w in windows:
        at = np.floor(w.slots() * w.step_s / step + _EPS).astype(np.int64) - start
        keep = (at >= 0) & (at < n)
        at = at[keep]
        sampled[at] |= w.sampled[keep]
        same_step = w.step_s == step  # then no two slots land in one
        for key, counts in w.data.items():
            into = data.get(key)
            if into is None:
                into = data[key] = np.zeros((n, w.width), dtype=np.int64)
            if same_step:
                into[at] += counts[keep]
            else:
                np.add.at(into, at, counts[keep])
    return SeriesWindow(step, end, sampled, data, windows[0].bounds)


def _slot_of(slot: int, step: float, to_step: float) -> int:
    return math.floor(slot * step / to_step + _EPS)


# -- what the charts show -----------------------------------------------------------------
def quantiles(hist: Rows, bounds: Sequence[float], q: float) -> npt.NDArray[np.float64]:
    """The ``q``-quantile of each row of bucket counts (upper bounds ``bounds``, then
    +Inf) in seconds, interpolated linearly inside its bucket; NaN for an empty row."""
    n = hist.shape[0]
    cum = np.cumsum(hist, axis=1, dtype=np.float64)
    total = cum[:, -1]
    rank = q * total
    i = np.minimum((cum < (rank - _EPS)[:, None]).sum(axis=1), hist.shape[1] - 1)
    rows = np.arange(n)
    upper = np.asarray([*bounds, bounds[-1]], dtype=np.float64)[i]
    lower = np.asarray([0.0, *bounds], dtype=np.float64)[i]
    before = np.where(i > 0, cum[rows, np.maximum(i - 1, 0)], 0.0)
    inside = hist[rows, i].astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.clip((rank - before) / inside, 0.0, 1.0)
    value: npt.NDArray[np.float64] = lower + (upper - lower) * frac
    value[i == len(bounds)] = bounds[-1]  # above the last bound: "at least" that
    value[total <= 0] = np.nan
    return value


def chart_series(w: SeriesWindow, every: int = 1) -> dict[str, dict[str, list[Any]]]:
    """Per key: ``t`` (each point's end, epoch seconds), ``rps``, ``p50_ms``, ``p99_ms``,
    ``error_rate``, ``fallback_rate``, ``degraded_rate``; a point per ``every`` slots
    (summed, counting back from the newest; rates and percentiles of the sums). A point
    no node sampled is ``None`` throughout; one without requests has ``rps`` 0 and
    ``None`` for the rest."""
    k = max(1, min(every, w.n))
    points, cut = w.n // k, w.n % k  # the oldest slots that make no whole point go
    seconds = w.sampled[cut:].reshape(points, k).sum(axis=1) * w.step_s
    t = ((w.slots()[cut:].reshape(points, k)[:, -1] + 1) * w.step_s).tolist()
    no_data = seconds == 0
    out = {}
    for key, slots in sorted(w.data.items()):
        counts = slots[cut:].reshape(points, k, w.width).sum(axis=1)
        requests = counts[:, 0].astype(np.float64)
        unserved = no_data | (requests == 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            rates = counts[:, 1:N_COUNTS] / requests[:, None]
            rps = requests / seconds
        hist = counts[:, N_COUNTS:]
        out[key] = {
            "t": t,
            "rps": _floats(rps, no_data, 3),
            "p50_ms": _floats(quantiles(hist, w.bounds, 0.5) * 1000, unserved, 3),
            "p99_ms": _floats(quantiles(hist, w.bounds, 0.99) * 1000, unserved, 3),
            "error_rate": _floats(rates[:, 0], unserved, 5),
            "fallback_rate": _floats(rates[:, 1], unserved, 5),
            "degraded_rate": _floats(rates[:, 2], unserved, 5),
        }
    return out


def _floats(
    values: npt.NDArray[np.float64], missing: npt.NDArray[np.bool_], digits: int
) -> list[Any]:
    rounded = np.where(missing, np.nan, np.round(values, digits)).tolist()
    return [None if v != v else v for v in rounded]  # NaN: no value
