"""Serving guardrails of each bucket of an experiment, from the serving metrics:
requests answered, p99 latency, and the shares of degraded answers and of answers by
the scene fallback.

The figures are the node's (every worker of it) since it started, not the experiment
window's: they come from ``prism_requests_total`` and ``prism_request_latency_seconds``
for the main layer, and from ``prism_layer_requests_total`` and
``prism_layer_request_latency_seconds`` for the other layers. The p99 is the upper bound
of the histogram bucket holding the 99th percentile (``None`` above the last bound).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from prism_platform.db.records import MAIN_LAYER
from prism_platform.metrics.registry import Metrics
from prism_platform.serving.dispatcher import FALLBACK_NAME

Guardrails = dict[str, Any]


def guardrails(
    metrics: Metrics, scene: str, layer: str, buckets: Sequence[str]
) -> dict[str, Guardrails]:
    """Bucket -> ``{requests, p99_ms, degraded_rate, fallback_rate}``."""
    main = layer == MAIN_LAYER
    n = dict.fromkeys(buckets, 0.0)
    degraded, fallback = dict(n), dict(n)
    if main:  # (scene, bucket, strategy, version, outcome)
        for (s, b, strategy, _, outcome), v in metrics.requests.values.items():
            if s == scene and b in n:
                n[b] += v
                degraded[b] += v * (outcome == "degraded")
                fallback[b] += v * (strategy == FALLBACK_NAME)
    else:  # (scene, layer, bucket, outcome)
        for (s, la, b, outcome), v in metrics.layer_requests.values.items():
            if s == scene and la == layer and b in n:
                n[b] += v
                degraded[b] += v * (outcome != "ok")
                fallback[b] += v * (outcome == "fallback")
    hist = metrics.latency if main else metrics.layer_latency
    bounds = hist.buckets
    counts = {b: [0.0] * (len(bounds) + 1) for b in buckets}
    for key, series in hist.series.items():
        b = key[1] if main else key[2]
        if key[0] == scene and (main or key[1] == layer) and b in counts:
            for i, c in enumerate(series[:-1]):
                counts[b][i] += c
    return {
        b: {
            "requests": int(n[b]),
            "p99_ms": _quantile_ms(counts[b], bounds, 0.99),
            "degraded_rate": degraded[b] / n[b] if n[b] else None,
            "fallback_rate": fallback[b] / n[b] if n[b] else None,
        }
        for b in buckets
    }


def _quantile_ms(counts: list[float], bounds: Sequence[float], q: float) -> float | None:
    """The upper bound (ms) of the histogram bucket holding the ``q`` quantile (nearest
    rank); ``None`` when empty or beyond the last bound."""
    total = sum(counts)
    if not total:
        return None
    rank, acc = q * total, 0.0
    for upper, c in zip(bounds, counts, strict=False):
        acc += c
        if acc >= rank:
            return upper * 1000.0
    return None


def with_guardrails(report: dict[str, Any], metrics: Metrics) -> dict[str, Any]:
    """``report`` with each bucket's ``guardrails``."""
    names = [b["bucket"] for b in report["buckets"]]
    found = guardrails(metrics, report["scene"], report["layer"], names)
    for b in report["buckets"]:
        b["guardrails"] = found[b["bucket"]]
    return report
