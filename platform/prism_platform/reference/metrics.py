"""The metrics reference: every metric ``Metrics`` exports, read from a fresh instance."""

from __future__ import annotations

from prism_platform.metrics.registry import Counter, Histogram, Metrics


def metrics_md() -> str:
    exported = [m for m in vars(Metrics()).values() if isinstance(m, Counter | Histogram)]
    rows = [
        f"| `{m.name}` | {_kind(m)} | {', '.join(f'`{label}`' for label in m.labels)} | {m.help} |"
        for m in sorted(exported, key=lambda m: m.name)
    ]
    return "\n".join(
        [
            "# Metrics reference",
            "",
            "<!-- Generated from platform/prism_platform/metrics/registry.py by"
            " `prism docs reference`; do not edit. -->",
            "",
            "A node exports these at `GET /metrics` in the Prometheus text format (a viewer's"
            " token is needed when `PRISM_METRICS_PUBLIC=0`). A histogram also exports"
            " `_bucket` (with the label `le`), `_sum` and `_count` series.",
            "",
            "| metric | type | labels | meaning |",
            "|---|---|---|---|",
            *rows,
            "",
        ]
    )


def _kind(metric: Counter | Histogram) -> str:
    if isinstance(metric, Counter):
        return "counter"
    return f"histogram (buckets {', '.join(f'{b:g}' for b in metric.buckets)} s)"
