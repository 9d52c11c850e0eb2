"""Measure scripts on sampled requests (``prism bench-script``): per-request total and
per-stage times, data-source calls and round trips, and memory.

Times come from a pass without tracing overhead: a warm-up, then ``repeat`` rounds over
the samples, each request run by every version back to back, the order alternating
between requests so drift (CPU frequency, caches, other processes) falls on both alike.
Memory comes from a second pass under ``tracemalloc``, which slows Python down several
times: per request, the peak of traced memory above what was allocated when it started
(the request's high-water mark) and the bytes and blocks still allocated when it
returned (its result, and whatever it cached or leaked)."""

from __future__ import annotations

import tracemalloc
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from prism_platform.control.script_lab import Strategy
from prism_sdk import Context
from prism_testkit.lab import LocalRun, StrategyLab
from prism_testkit.sample_file import SampleRequest


@dataclass
class Measured:
    """What one version did over the bench's requests."""

    strategy: Strategy
    total_ms: list[float] = field(default_factory=list)
    stage_ms: dict[str, list[float]] = field(default_factory=dict)
    """Per stage: its time in each request that ran it (a stage run twice: summed)."""
    round_trips: list[int] = field(default_factory=list)
    calls: Counter[str] = field(default_factory=Counter)
    items: list[int] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    peak_bytes: list[int] = field(default_factory=list)
    retained_bytes: list[int] = field(default_factory=list)
    retained_blocks: list[int] = field(default_factory=list)

    def add(self, run: LocalRun) -> None:
        self.total_ms.append(run.ms)
        per_stage: dict[str, float] = {}
        for st in run.stages:
            per_stage[st.name] = per_stage.get(st.name, 0.0) + st.ms
        for name, ms in per_stage.items():
            self.stage_ms.setdefault(name, []).append(ms)
        self.round_trips.append(run.round_trips)
        self.calls.update(run.calls)
        self.items.append(len(run.items))

    def summary(self) -> dict[str, Any]:
        n = len(self.total_ms)
        return {
            "strategy": self.strategy.ref,
            "requests": n,
            "errors": dict(self.errors),
            "total_ms": {q: percentile(self.total_ms, p) for q, p in QUANTILES.items()}
            | {"mean": mean(self.total_ms)},
            "stages_ms": {
                name: {"p50": percentile(v, 50), "mean": mean(v)}
                for name, v in self.stage_ms.items()
            },
            "round_trips": mean(self.round_trips),
            "calls": {k: v / n for k, v in sorted(self.calls.items())} if n else {},
            "items": mean(self.items),
            "memory": {
                "peak_kib": {
                    "p50": percentile(self.peak_bytes, 50) / 1024,
                    "max": max(self.peak_bytes, default=0) / 1024,
                },
                "retained_kib": percentile(self.retained_bytes, 50) / 1024,
                "retained_blocks": percentile(self.retained_blocks, 50),
            },
        }


QUANTILES = {"p50": 50, "p90": 90, "p99": 99}


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))  # ceil(n * p / 100)
    return float(ordered[int(rank) - 1])


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def bench(
    lab: StrategyLab,
    versions: Sequence[Strategy],
    samples: Sequence[SampleRequest],
    *,
    config: str | None = None,
    params: Mapping[str, Any] | None = None,
    repeat: int = 3,
    warmup: int = 20,
    memory: bool = True,
) -> list[Measured]:
    """Run every sample ``repeat`` times with each version (see the module's doc)."""
    out = [Measured(s) for s in versions]

    def prepare(m: Measured, sample: SampleRequest) -> Context[Any]:
        req = sample.request
        return lab.context(
            req.scene,
            req.uid,
            strategy=m.strategy,
            config=config,
            params=params,
            context=req.context,
            size=req.size,
            exclude=req.exclude,
            detail=False,
        )

    def run(m: Measured, ctx: Context[Any]) -> LocalRun | None:
        try:
            return lab.run(ctx)
        except Exception as exc:
            m.errors[f"{type(exc).__name__}: {exc}"[:200]] += 1
            return None

    for i in range(min(warmup, len(samples) * repeat)):
        for m in out:
            run(m, prepare(m, samples[i % len(samples)]))
    for r in range(repeat):
        for i, sample in enumerate(samples):
            for m in out if (r + i) % 2 == 0 else out[::-1]:
                done = run(m, prepare(m, sample))
                if done is not None:
                    m.add(done)
    if memory:
        tracemalloc.start()
        try:
            for sample in samples:
                for m in out:
                    _measure_memory(m, lab, prepare(m, sample))
        finally:
            tracemalloc.stop()
    return out


def _measure_memory(m: Measured, lab: StrategyLab, ctx: Context[Any]) -> None:
    """One request under tracemalloc (its errors were counted in the timed pass)."""
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    blocks = len(tracemalloc.take_snapshot().traces)
    try:
        done: LocalRun | None = lab.run(ctx)
    except Exception:
        done = None
    current, peak = tracemalloc.get_traced_memory()
    if done is not None:
        m.peak_bytes.append(peak - before)
        m.retained_bytes.append(current - before)
        m.retained_blocks.append(len(tracemalloc.take_snapshot().traces) - blocks)
