"""What a replay REPORT's page says (docs/operators/traffic.md, "Replay"): the verdict table (every
metric the engine judged, on A, A′ and B) and, in :func:`summary`, every table and note
of the page in one mapping. The one place that decides what the report says: the
testkit's HTML report and the workbench's Replay page both render :func:`summary`;
neither formats a number of its own. Pure, like :mod:`.tables`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from prism_platform.replay.tables import (
    ANALYSIS_STATS,
    LATENCY_STATS,
    NONE,
    WORST_COLUMNS,
    analysis_rows,
    arms,
    error_rows,
    fail_if,
    fmt,
    latency_rows,
    section,
    share_tables,
    stage_table,
    worst_rows,
)

HASHED_NOTE = (
    "The sample's user ids are hashed: a hashed sample replays without user features "
    "(every user is a cold user to every arm)."
)
COMPARISONS = {
    "rbo": ("RBO with A (p={rbo_p})", "ratio"),
    "overlap_at_k": ("Overlap with A's top {k}", "share"),
    "new_item_share": ("Share of items A did not return", "share"),
    "position_shift": ("Mean position shift from A", "number"),
    "score_shift": ("Mean score shift from A", "number"),
}
"""Metrics that compare an arm's answer with A's (the diff's top-level means)."""
DISTANCES = {
    "category_mix": "Category mix: distance from A's",
    "shop_mix": "Shop mix: distance from A's",
}
"""Metrics that are a distance from A's mix (0: the same mix, 1: nothing in common)."""
VALUES = {
    "error_rate": ("Error rate", "share"),
    "degraded_rate": ("Degraded answers", "share"),
    "items_per_request": ("Items per request", "number"),
    "p50_ms": ("p50 latency (ms)", "ms"),
    "p90_ms": ("p90 latency (ms)", "ms"),
    "p99_ms": ("p99 latency (ms)", "ms"),
}
"""Metrics measured on each arm."""
CHANNEL_SHARE = "channel_share."


@dataclass(frozen=True, slots=True)
class VerdictRow:
    """A metric on A, A′ (the noise) and B (the candidate); a comparison with A has no
    value on A itself."""

    metric: str
    title: str
    a: str
    a2: str
    b: str
    changed: bool


def _metric_title(name: str, diff: Mapping[str, Any]) -> tuple[str, str]:
    """A judged metric's title and how its values read."""
    names = {"k": diff.get("k", "k"), "rbo_p": diff.get("rbo_p", "p")}
    if name in COMPARISONS:
        title, kind = COMPARISONS[name]
        return title.format(**names), kind
    if name in DISTANCES:
        return DISTANCES[name], "ratio"
    if name in VALUES:
        return VALUES[name]
    if name.startswith(CHANNEL_SHARE):
        return f"Share of channel {name[len(CHANNEL_SHARE) :]}", "share"
    return name, "number"


def verdict_rows(report: Mapping[str, Any]) -> list[VerdictRow]:
    """Each metric the engine judged (``diff.metrics``, in its order) on the three arms,
    and whether it changed beyond the noise (named in ``diff.changed``). A comparison
    with A shows the diff's means (RBO as a similarity); a report without ``metrics``
    shows its comparisons only. A flagged name without values still gets a row."""
    diff = section(report, "diff")
    changed = {str(c) for c in diff.get("changed") or ()}
    judged = section(diff, "metrics")
    rows: list[VerdictRow] = []
    for name in judged or [n for n in COMPARISONS if n in diff]:
        title, kind = _metric_title(str(name), diff)
        values = section(judged, name)
        if name in COMPARISONS:  # A compared with itself: nothing to show
            a, a2, b = NONE, fmt(diff.get(f"noise_{name}"), kind), fmt(diff.get(name), kind)
        elif name in DISTANCES:
            a, a2, b = NONE, fmt(values.get("a2"), kind), fmt(values.get("b"), kind)
        else:
            a, a2, b = (fmt(values.get(arm), kind) for arm in ("a", "a2", "b"))
        rows.append(VerdictRow(str(name), title, a, a2, b, name in changed))
    known = {r.metric for r in rows}
    rows += [VerdictRow(c, c, NONE, NONE, NONE, True) for c in sorted(changed - known)]
    return rows


def summary(report: Mapping[str, Any]) -> dict[str, Any]:
    """What the report's tables and its headline say, in one mapping for a template."""
    diff = section(report, "diff")
    thresholds = section(diff, "thresholds")
    columns, stage_rows = stage_table(report)
    rate = report.get("requests_per_s")
    return {
        "scene": str(report.get("scene", NONE)),
        "requests": fmt(report.get("requests"), "count"),
        "pace": (
            f"in {fmt(report.get('elapsed_s'))} s ({fmt(rate)} requests/s)"
            if isinstance(rate, int | float)
            else ""
        ),
        "hashed_note": HASHED_NOTE if report.get("hashed_users") else "",
        "arms": arms(report),
        "verdict": verdict_rows(report),
        "changed": [str(c) for c in diff.get("changed") or ()],
        "headline": _headline(report),
        "thresholds": _thresholds(thresholds),
        "latency_columns": [*LATENCY_STATS, "errors", "degraded"],
        "latency": latency_rows(report),
        "stage_columns": columns,
        "stages": stage_rows,
        "shares": share_tables(report),
        "analysis_columns": list(ANALYSIS_STATS),
        "analysis": analysis_rows(report),
        "analysis_errors": _analysis_errors(report),
        "errors": error_rows(report),
        "worst_columns": list(WORST_COLUMNS),
        "worst": worst_rows(report),
        "fail_if": fail_if(report),
    }


def _analysis_errors(report: Mapping[str, Any]) -> str:
    failed = section(report, "analysis_errors")
    if not failed:
        return ""
    return (
        f"The analysis function failed on {fmt(failed.get('count'), 'count')} requests, "
        f"e.g.: {failed.get('example') or NONE}"
    )


def _headline(report: Mapping[str, Any]) -> str:
    """The verdict in a sentence."""
    verdict = verdict_rows(report)
    changed = sum(1 for v in verdict if v.changed)
    if not verdict:
        return "The report has no comparison."
    if not changed:
        return f"None of the {len(verdict)} metrics changed beyond the noise."
    return (
        f"{changed} of the {len(verdict)} metrics changed beyond the noise (marked in the table)."
    )


def _thresholds(t: Mapping[str, Any]) -> str:
    """The noise rule's margins in words."""
    if not t:
        return ""
    ms = t.get("absolute_ms")
    return f"by {fmt(t.get('relative'), 'share')} more, plus {fmt(t.get('absolute'))}" + (
        f" ({fmt(ms)} ms for latencies)" if ms is not None else ""
    )
