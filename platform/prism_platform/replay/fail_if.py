"""``--fail-if`` rules: ``metric<value``, ``metric>value`` (also ``<=``, ``>=``) over a
replay report; a rule that holds fails the replay (CI: a non-zero exit).

The metrics (B's unless named otherwise; docs/operators/traffic.md lists them):
``rbo``, ``noise_rbo``, ``overlap_at_k``, ``new_item_share``, ``position_shift``,
``score_shift``, ``p50_ms``, ``p90_ms``, ``p99_ms``, ``mean_ms``, ``p99_ms_delta`` (B's p99
minus A's), ``errors``, ``error_rate``, ``error_rate_delta`` (B's minus A's),
``degraded_rate``, ``items_per_request``, ``changed`` (how many metrics changed beyond
the noise), ``data_misses`` (B's reads missing from the data snapshot),
``channel_share.<channel>`` (B's; 0 when B served none) and ``analysis.<column>`` (the
mean of an ``--analysis`` column).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from prism_platform.errors import Invalid

METRICS = (
    "rbo",
    "noise_rbo",
    "overlap_at_k",
    "new_item_share",
    "position_shift",
    "score_shift",
    "p50_ms",
    "p90_ms",
    "p99_ms",
    "mean_ms",
    "p99_ms_delta",
    "errors",
    "error_rate",
    "error_rate_delta",
    "degraded_rate",
    "items_per_request",
    "changed",
    "data_misses",
)
PREFIXES = ("channel_share.", "analysis.")
_RULE = re.compile(r"\s*([A-Za-z_][\w.\-]*)\s*(<=|>=|<|>)\s*(\S+)\s*")
_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}


@dataclass(frozen=True)
class Rule:
    metric: str
    op: str
    value: float

    def __str__(self) -> str:
        return f"{self.metric}{self.op}{self.value:g}"

    def holds(self, actual: float) -> bool:
        return _OPS[self.op](actual, self.value)


def parse_rules(texts: Sequence[str]) -> list[Rule]:
    """Each rule of ``texts`` (a text may hold several, separated by commas);
    :class:`Invalid` (field ``fail_if``) names a rule that is not ``metric<value`` or an
    unknown metric."""
    rules = []
    for text in texts:
        for part in text.split(","):
            if not part.strip():
                continue
            m = _RULE.fullmatch(part)
            if m is None:
                raise Invalid(
                    f"fail-if rule {part.strip()!r} is not METRIC<VALUE or METRIC>VALUE",
                    field="fail_if",
                )
            metric, op, raw = m.groups()
            if metric not in METRICS and not (
                metric.startswith(PREFIXES) and metric not in PREFIXES
            ):
                known = ", ".join(METRICS) + ", channel_share.<channel>, analysis.<column>"
                raise Invalid(
                    f"unknown fail-if metric {metric!r} (known: {known})", field="fail_if"
                )
            try:
                value = float(raw)
            except ValueError:
                raise Invalid(
                    f"fail-if rule {part.strip()!r}: {raw!r} is not a number", field="fail_if"
                ) from None
            rules.append(Rule(metric, op, value))
    return rules


def metric_value(report: Mapping[str, Any], metric: str) -> float | None:
    """The value a rule reads from a report; ``None`` when the report has none (no
    request compared, no such analysis column)."""
    diff = report.get("diff") or {}
    latency_b = (report.get("latency_ms") or {}).get("B") or {}
    latency_a = (report.get("latency_ms") or {}).get("A") or {}
    if metric.startswith("channel_share."):
        share = ((diff.get("channel_share") or {}).get("B") or {}).get(metric.split(".", 1)[1])
        return 0.0 if share is None else float(share)
    if metric.startswith("analysis."):
        column = (report.get("analysis") or {}).get(metric.split(".", 1)[1])
        return None if column is None else column.get("mean")
    rates = report.get("error_rate") or {}
    simple: dict[str, Any] = {
        "rbo": diff.get("rbo"),
        "noise_rbo": diff.get("noise_rbo"),
        "overlap_at_k": diff.get("overlap_at_k"),
        "new_item_share": diff.get("new_item_share"),
        "position_shift": diff.get("position_shift"),
        "score_shift": diff.get("score_shift"),
        "p50_ms": latency_b.get("p50"),
        "p90_ms": latency_b.get("p90"),
        "p99_ms": latency_b.get("p99"),
        "mean_ms": latency_b.get("mean"),
        "p99_ms_delta": _minus(latency_b.get("p99"), latency_a.get("p99")),
        "errors": (report.get("errors") or {}).get("B"),
        "error_rate": rates.get("B"),
        "error_rate_delta": _minus(rates.get("B"), rates.get("A")),
        "degraded_rate": (report.get("degraded") or {}).get("B"),
        "items_per_request": (report.get("items_per_request") or {}).get("B"),
        "changed": len(diff.get("changed") or []),
        "data_misses": ((report.get("data") or {}).get("misses") or {}).get("B", 0),
    }
    value = simple[metric]
    return None if value is None else float(value)


def judge(report: Mapping[str, Any], rules: Sequence[Rule]) -> list[str]:
    """The rules that hold (each with the value): the replay fails when any does. A rule
    over a metric the report has no value of fails too (``n/a``)."""
    failed = []
    for rule in rules:
        actual = metric_value(report, rule.metric)
        if actual is None:
            failed.append(f"{rule}: n/a")
        elif rule.holds(actual):
            failed.append(f"{rule}: {actual:g}")
    return failed


def _minus(b: Any, a: Any) -> float | None:
    if b is None or a is None:
        return None
    return float(b) - float(a)
