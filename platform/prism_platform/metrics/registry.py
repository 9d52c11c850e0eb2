"""Prometheus metrics kept cheap enough for the recommend hot path.

A labelled series is a plain list found by one dict lookup on a label tuple;
rendering to the text exposition format happens only when ``/metrics`` is read.
"""

# Kept hand-written rather than prometheus_client: bench/metrics_lib.py times what every
# answered request does (latency.observe + requests.inc): 0.45 us here, and with
# prometheus_client in the multiprocess mode ``prism serve --workers N`` needs, 4.6-5.1 us
# through ``.labels()`` and 2.7-2.9 us even with the label children cached in a dict:
# +2.2-2.4 us a request at best, over the 2 us we allow (single-process mode: 1.4 us
# cached, 3.4 us via .labels(); a failing request's 5 operations: +4.2-4.7 us at best).

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Sequence
from typing import Any

MetricsState = dict[str, list[list[Any]]]
LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0)


class Counter:
    def __init__(self, name: str, help: str, labels: Sequence[str]) -> None:  # noqa: A002
        self.name, self.help, self.labels = name, help, tuple(labels)
        self.values: dict[tuple[str, ...], float] = {}

    def inc(self, key: tuple[str, ...], amount: float = 1.0) -> None:
        self.values[key] = self.values.get(key, 0.0) + amount

    def state(self) -> list[list[Any]]:
        return [[list(k), v] for k, v in self.values.copy().items()]

    def add(self, state: list[list[Any]]) -> None:
        for key, v in state:
            self.inc(_key(key, len(self.labels)), _finite(v))

    def render(self) -> list[str]:
        out = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} counter"]
        for key, v in sorted(self.values.items()):
            out.append(f"{self.name}{_labels(self.labels, key)} {_num(v)}")
        return out


class Histogram:
    def __init__(
        self,
        name: str,
        help: str,  # noqa: A002
        labels: Sequence[str],
        buckets: Sequence[float] = LATENCY_BUCKETS,
    ) -> None:
        self.name, self.help, self.labels = name, help, tuple(labels)
        self.buckets = tuple(buckets)
        # per series: counts per bucket (+Inf last), then sum
        self.series: dict[tuple[str, ...], list[float]] = {}

    def observe(self, key: tuple[str, ...], value: float) -> None:
        s = self.series.get(key)
        if s is None:
            s = self.series[key] = [0.0] * (len(self.buckets) + 2)
        s[bisect_left(self.buckets, value)] += 1
        s[-1] += value

    def state(self) -> list[list[Any]]:
        return [[list(k), list(s)] for k, s in self.series.copy().items()]

    def add(self, state: list[list[Any]]) -> None:
        width = len(self.buckets) + 2
        for key, values in state:
            if len(values) != width:  # another bucket layout: not comparable
                continue
            k, add = _key(key, len(self.labels)), [_finite(v) for v in values]
            s = self.series.get(k)
            if s is None:
                s = self.series[k] = [0.0] * width
            for i, v in enumerate(add):
                s[i] += v

    def render(self) -> list[str]:
        out = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} histogram"]
        for key, s in sorted(self.series.items()):
            acc = 0.0
            for i, upper in enumerate((*self.buckets, float("inf"))):
                acc += s[i]
                le = "+Inf" if upper == float("inf") else repr(upper)
                lbl = _labels((*self.labels, "le"), (*key, le))
                out.append(f"{self.name}_bucket{lbl} {_num(acc)}")
            out.append(f"{self.name}_sum{_labels(self.labels, key)} {s[-1]!r}")
            out.append(f"{self.name}_count{_labels(self.labels, key)} {_num(acc)}")
        return out


class Metrics:
    """Every metric the platform exports."""

    def __init__(self) -> None:
        sbv = ("scene", "bucket", "strategy", "version")
        self.requests = Counter(
            "prism_requests_total", "Recommend requests answered.", (*sbv, "outcome")
        )
        self.latency = Histogram(
            "prism_request_latency_seconds", "Recommend latency inside the app.", sbv
        )
        self.strategy_errors = Counter(
            "prism_strategy_errors_total",
            "Strategy failures by kind: exception, deadline, bad_result, budget.",
            (*sbv, "kind"),
        )
        self.fallbacks = Counter(
            "prism_fallbacks_total", "Requests answered by the scene fallback.", ("scene", "reason")
        )
        self.breaker_transitions = Counter(
            "prism_breaker_transitions_total",
            "Circuit breaker changes of a strategy version (to open, half_open, closed).",
            (*sbv, "state"),
        )
        self.strategy_leaks = Counter(
            "prism_strategy_leaks_total",
            "Windows of sampled requests in which a strategy version kept more objects alive "
            "per request than its scene's retained_objects budget, once it did in 2 in a row.",
            sbv,
        )
        self.data_errors = Counter(
            "prism_data_errors_total", "Requests with failed data-source reads.", ("scene",)
        )
        self.rejected = Counter(
            "prism_rejected_requests_total",
            "Recommend requests refused: 4xx, and 503 when the node is overloaded.",
            ("status",),
        )
        self.feature_rows_logged = Counter(
            "prism_feature_log_rows_total", "Served feature rows stored, by model.", ("model",)
        )
        self.feature_log_dropped = Counter(
            "prism_feature_log_dropped_total",
            "Sampled requests whose served features were not stored.",
            ("reason",),
        )
        self.samples_stored = Counter(
            "prism_samples_stored_total", "Sampled requests stored in the replay log.", ("scene",)
        )
        self.samples_dropped = Counter(
            "prism_samples_dropped_total",
            "Sampled requests not stored (buffer_full: the queue was full; store_error).",
            ("reason",),
        )
        layer = ("scene", "layer", "bucket")
        self.layer_requests = Counter(
            "prism_layer_requests_total",
            "Recommend requests by bucket of the experiment layers other than main "
            "(outcome ok, degraded, or fallback: answered by the scene fallback, degraded too).",
            (*layer, "outcome"),
        )
        self.layer_latency = Histogram(
            "prism_layer_request_latency_seconds",
            "Recommend latency inside the app by bucket of the layers other than main.",
            layer,
        )
        self.events = Counter(
            "prism_events_total",
            "Reported events by outcome (accepted, duplicate, rejected) and rejection reason.",
            ("outcome", "reason"),
        )
        self.login_failures = Counter(
            "prism_login_failures_total", "Failed password logins, by reason.", ("reason",)
        )
        self.database_unavailable = Counter(
            "prism_database_unavailable_total",
            "Times the metadata database could not be reached: at start (each try of a node "
            "that waits for it, not ready) and by admin requests (answered 503).",
            ("at",),
        )
        self.gc_pause = Histogram(
            "prism_gc_pause_seconds",
            "How long each cyclic garbage collection stopped the process, by generation.",
            ("generation",),
        )
        self._all: tuple[Counter | Histogram, ...] = (
            self.gc_pause,
            self.login_failures,
            self.database_unavailable,
            self.requests,
            self.latency,
            self.strategy_errors,
            self.fallbacks,
            self.breaker_transitions,
            self.strategy_leaks,
            self.data_errors,
            self.rejected,
            self.feature_rows_logged,
            self.feature_log_dropped,
            self.samples_stored,
            self.samples_dropped,
            self.layer_requests,
            self.layer_latency,
            self.events,
        )

    def state(self) -> MetricsState:
        """Every series' values by metric name (JSON-ready), e.g. for another process."""
        return {m.name: m.state() for m in self._all}

    def add(self, state: MetricsState) -> None:
        """Add another process's :meth:`state` (counts and sums add up). A malformed
        state raises ValueError and adds nothing."""
        for m in Metrics()._all:  # into an empty copy first: all or nothing
            m.add(state.get(m.name, []))
        for m in self._all:
            m.add(state.get(m.name, []))

    def render(self) -> str:
        lines: list[str] = []
        for m in self._all:
            lines.extend(m.render())
        return "\n".join(lines) + "\n"


def _key(key: Any, arity: int) -> tuple[str, ...]:
    if not isinstance(key, list) or len(key) != arity or not all(isinstance(v, str) for v in key):
        raise ValueError(f"a series key must be {arity} strings, got {key!r}")
    return tuple(key)


def _finite(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise ValueError(f"a metric value must be a finite number, got {v!r}")
    return float(v)


def _labels(names: Sequence[str], values: Sequence[str]) -> str:
    inner = ",".join(f'{n}="{_escape(v)}"' for n, v in zip(names, values, strict=True))
    return "{" + inner + "}"


def _escape(v: str) -> str:
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _num(v: float) -> str:
    return str(int(v)) if v == int(v) else repr(v)
