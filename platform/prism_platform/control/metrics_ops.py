"""The metrics part of :class:`~prism_platform.control.facade.Control`: requests, latency,
error, fallback and degraded rates per scene over the last minutes, summed over every
live node."""

from __future__ import annotations

import math
from typing import Any

from prism_platform.deploy.node import ServingNode
from prism_platform.errors import Invalid
from prism_platform.metrics.series import MetricsSampler
from prism_platform.metrics.series_window import PeerWindows, chart_series, merge


class MetricsOps:
    node: ServingNode
    series: MetricsSampler | None = None
    """This node's sampler (set by the app; none when the node keeps no series)."""
    _peers: PeerWindows | None = None

    def metrics_series(
        self, window_s: float = 1800.0, step_s: float | None = None
    ) -> dict[str, dict[str, list[Any]]]:
        """``{scene: {"t", "rps", "p50_ms", "p99_ms", "error_rate", "fallback_rate",
        "degraded_rate"}}`` over the last ``window_s`` seconds, summed over this node (its
        live buffer) and every other live node (their last publication, up to ~15 s old),
        aligned on time slots; ``t`` holds each point's end (epoch seconds). A point per
        sampling interval, or per ``step_s`` (a multiple of it: the slots are summed; a
        step longer than the window is the window, one point).
        Latency percentiles come from the nodes' summed histograms. A point no node
        sampled is ``None``; a point without requests has ``None`` rates and percentiles."""
        if self.series is None:
            return {}
        if not (math.isfinite(window_s) and 0 < window_s <= self.series.window_s):
            raise Invalid(
                f"window_s must be a number of seconds in (0, {self.series.window_s:g}]",
                field="window_s",
            )
        if step_s is not None and not (math.isfinite(step_s) and 0 < step_s):
            raise Invalid("step_s must be a positive number of seconds", field="step_s")
        if self._peers is None:
            self._peers = PeerWindows()
        peers = self._peers.read(self.node.coordinator.peer_metrics())
        total = merge([self.series.window(window_s), *peers], window_s)
        every = 1 if step_s is None else max(1, round(min(step_s, window_s) / total.step_s))
        return chart_series(total, every)
