"""What the Replay pages show of a replay (``Control.replay(id)``, ``Control.replays()``):
the list's rows, the progress, and the report's tables (from
:mod:`prism_platform.replay.summary`, which the testkit's HTML report renders too) with
server-side SVG charts of the latency and RBO distributions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from prism_platform.replay.summary import summary
from prism_platform.replay.tables import ARM_NAMES, NONE, fmt
from prism_workbench.charts import Series, line_chart

BINS = 20


@dataclass(frozen=True, slots=True)
class ReplayRow:
    """One replay in the list."""

    id: int
    scene: str
    candidate: str
    actor: str
    state: str
    started_at: float | None
    progress: str
    rbo: str
    """Mean RBO of A against B, beside A against A′ (the noise)."""
    changed: str


def _options(replay: Mapping[str, Any]) -> Mapping[str, Any]:
    options = replay.get("options")
    return options if isinstance(options, Mapping) else {}


def _report(replay: Mapping[str, Any]) -> Mapping[str, Any]:
    report = replay.get("report")
    return report if isinstance(report, Mapping) else {}


def candidate_of(replay: Mapping[str, Any]) -> str:
    """The candidate as the list names it: ``script@version:config``."""
    options = _options(replay)
    script = str(options.get("script") or NONE)
    version = str(options.get("version") or "worktree")
    config = options.get("config")
    return f"{script}@{version[:12]}" + (f":{config}" if config else "")


def scene_of(replay: Mapping[str, Any]) -> str:
    return str(
        replay.get("scene") or _options(replay).get("scene") or _report(replay).get("scene") or NONE
    )


def progress_of(replay: Mapping[str, Any]) -> tuple[int, int]:
    progress = replay.get("progress")
    if not isinstance(progress, Mapping):
        return 0, 0
    return int(progress.get("done") or 0), int(progress.get("total") or 0)


def row_of(replay: Mapping[str, Any]) -> ReplayRow:
    diff = _report(replay).get("diff")
    diff = diff if isinstance(diff, Mapping) else {}
    done, total = progress_of(replay)
    changed = diff.get("changed")
    return ReplayRow(
        id=int(replay["id"]),
        scene=scene_of(replay),
        candidate=candidate_of(replay),
        actor=str(replay.get("actor") or NONE),
        state=str(replay.get("state") or NONE),
        started_at=replay.get("started_at"),
        progress=f"{done}/{total}",
        rbo=(
            f"{fmt(diff.get('rbo'), 'ratio')} (noise {fmt(diff.get('noise_rbo'), 'ratio')})"
            if "rbo" in diff
            else NONE
        ),
        changed=NONE if changed is None else str(len(changed)),
    )


def _numbers(values: Any) -> list[float]:
    if not isinstance(values, Sequence) or isinstance(values, str):
        return []
    return [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]


def histogram(values: Sequence[float], lo: float, hi: float, bins: int = BINS) -> list[float]:
    """How many values fall in each of ``bins`` equal bins from ``lo`` to ``hi`` (the
    top one closed)."""
    counts = [0.0] * bins
    width = (hi - lo) / bins or 1.0
    for v in values:
        counts[min(bins - 1, max(0, int((v - lo) / width)))] += 1
    return counts


def latency_chart(report: Mapping[str, Any]) -> Markup | None:
    """Each arm's latency distribution (``latency_values``), requests per bin."""
    values = report.get("latency_values")
    if not isinstance(values, Mapping):
        return None
    # B second: the candidate gets the second colour in every chart (the RBO chart's too)
    arms = {a: _numbers(values.get(a)) for a in ("A", "B", "A2")}
    arms = {a: v for a, v in arms.items() if v}
    if not arms:
        return None
    top = max(max(v) for v in arms.values()) or 1.0
    return line_chart(
        [Series(ARM_NAMES[a], histogram(v, 0.0, top)) for a, v in arms.items()],
        title=f"Requests per latency bin, 0 to {top:.1f} ms, per arm",
        width=460,
        height=150,
        fmt=lambda v: f"{v:.0f}",
        x_labels=("0 ms", f"{top:.1f} ms"),
    )


def rbo_chart(report: Mapping[str, Any]) -> Markup | None:
    """Per-request RBO of A against A′ (the noise) and of A against B, requests per bin."""
    diff = report.get("diff")
    if not isinstance(diff, Mapping):
        return None
    noise, candidate = _numbers(diff.get("noise_rbo_values")), _numbers(diff.get("rbo_values"))
    if not noise and not candidate:
        return None
    series = [
        Series(label, histogram(v, 0.0, 1.0))
        for label, v in (("A vs A′ (noise)", noise), ("A vs B", candidate))
        if v
    ]
    return line_chart(
        series,
        title="Requests per RBO bin, 0 to 1",
        width=460,
        height=150,
        fmt=lambda v: f"{v:.0f}",
        x_labels=("RBO 0", "1"),
    )


def report_view(report: Mapping[str, Any]) -> dict[str, Any]:
    """The report's tables and charts for ``_replay_report.html``."""
    charts = [
        ("Latency per arm", latency_chart(report)),
        ("RBO per request: A vs B against the noise", rbo_chart(report)),
    ]
    return {**summary(report), "charts": [(t, c) for t, c in charts if c is not None]}
