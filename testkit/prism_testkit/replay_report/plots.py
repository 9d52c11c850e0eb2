"""The replay report's plots as small PNGs, drawn on a :class:`matplotlib.figure.Figure`
(no pyplot, no global backend state): latency per arm, the RBO distribution against the
noise's, and channel/category share per arm."""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from prism_platform.replay.tables import ARM_NAMES, ARMS, LATENCY_STATS

DPI = 90
COLORS = {"A": "#0b4f9c", "A2": "#8a8a8a", "B": "#d55e00"}
"""Blue, grey and orange: told apart with colour-blindness too (and labelled)."""


class PlotUnavailable(RuntimeError):
    """matplotlib is not installed (it comes with ``pip install 'prism-rec[stress]'``)."""


@dataclass(frozen=True, slots=True)
class Plot:
    title: str
    alt: str
    png: str
    """Base64 PNG, for ``<img src="data:image/png;base64,…">``."""


def _figure(width: float = 5.4, height: float = 3.2) -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise PlotUnavailable(
            "the replay's HTML report draws its plots with matplotlib, which is not "
            "installed: pip install 'prism-rec[stress]'"
        ) from None
    return Figure(figsize=(width, height), dpi=DPI, layout="tight")


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _numbers(values: Any) -> list[float]:
    if not isinstance(values, Sequence) or isinstance(values, str):
        return []
    return [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]


def latency_plot(report: Mapping[str, Any]) -> Plot | None:
    """Each arm's per-request latency as overlaid step histograms (``latency_values``);
    a report with only percentiles gets grouped p50/p90/p99 bars instead."""
    values = report.get("latency_values") or {}
    series = {a: _numbers(values.get(a)) for a in ARMS} if isinstance(values, Mapping) else {}
    series = {a: v for a, v in series.items() if v}
    if series:
        fig = _figure()
        ax = fig.add_subplot()
        top = max(max(v) for v in series.values())
        bins = [top * i / 40 for i in range(41)] if top > 0 else 10
        for a, v in series.items():
            ax.hist(
                v,
                bins=bins,
                histtype="step",
                linewidth=1.8,
                color=COLORS[a],
                label=f"{ARM_NAMES[a]} ({len(v)} requests)",
            )
        ax.set_xlabel("latency inside the node (ms)")
        ax.set_ylabel("requests")
        ax.legend()
        ax.grid(True, alpha=0.3)
        medians = ", ".join(
            f"{ARM_NAMES[a]} median {sorted(v)[len(v) // 2]:.1f} ms" for a, v in series.items()
        )
        names = ", ".join(ARM_NAMES[a] for a in series)
        alt = f"Histogram of per-request latency for arms {names}: {medians}."
        return Plot("Latency per arm", alt, _png(fig))
    latency = report.get("latency_ms") or {}
    arms = [a for a in ARMS if isinstance(latency.get(a), Mapping)]
    if not arms:
        return None
    stats = [s for s in LATENCY_STATS if s != "mean"]
    fig = _figure()
    ax = fig.add_subplot()
    width = 0.8 / len(arms)
    for i, a in enumerate(arms):
        heights = [float(latency[a].get(s) or 0) for s in stats]
        ax.bar(
            [x + i * width for x in range(len(stats))],
            heights,
            width,
            color=COLORS[a],
            label=ARM_NAMES[a],
        )
    ax.set_xticks([x + width * (len(arms) - 1) / 2 for x in range(len(stats))], stats)
    ax.set_ylabel("latency (ms)")
    ax.legend()
    p99 = ", ".join(f"{ARM_NAMES[a]} {float(latency[a].get('p99') or 0):.1f} ms" for a in arms)
    alt = f"Bars of p50, p90 and p99 latency per arm (no per-request values); p99: {p99}."
    return Plot("Latency per arm", alt, _png(fig))


def rbo_plot(report: Mapping[str, Any]) -> Plot | None:
    """Per-request RBO of A against B over RBO of A against A′ (what no change looks like)."""
    diff = report.get("diff") or {}
    candidate, noise = _numbers(diff.get("rbo_values")), _numbers(diff.get("noise_rbo_values"))
    if not candidate and not noise:
        return None
    fig = _figure()
    ax = fig.add_subplot()
    bins = [i / 20 for i in range(21)]
    if noise:
        ax.hist(noise, bins=bins, color=COLORS["A2"], alpha=0.55, label="A vs A′ (noise)")
    if candidate:
        ax.hist(
            candidate,
            bins=bins,
            histtype="step",
            linewidth=2,
            color=COLORS["B"],
            label="A vs B (candidate)",
        )
    ax.set_xlim(0, 1)
    ax.set_xlabel("RBO per request (1 = the same ranking)")
    ax.set_ylabel("requests")
    ax.legend(loc="upper left")
    ax.grid(True, alpha=0.3)
    means = []
    if noise:
        means.append(f"A vs A′ mean {sum(noise) / len(noise):.3f}")
    if candidate:
        means.append(f"A vs B mean {sum(candidate) / len(candidate):.3f}")
    alt = f"Histogram of per-request rank-biased overlap: {'; '.join(means)}."
    return Plot("RBO distribution", alt, _png(fig))


def share_plot(report: Mapping[str, Any], key: str, what: str) -> Plot | None:
    """``diff[key]`` (arm -> name -> share) as grouped horizontal bars, A against B."""
    shares = (report.get("diff") or {}).get(key) or {}
    arms = [a for a in ARMS if isinstance(shares.get(a), Mapping) and shares[a]]
    if not arms:
        return None
    names = sorted(
        {str(n) for a in arms for n in shares[a]}, key=lambda n: -float(shares[arms[0]].get(n) or 0)
    )[:12]
    fig = _figure(height=max(2.4, 0.45 * len(names) * len(arms) / 2 + 1))
    ax = fig.add_subplot()
    height = 0.8 / len(arms)
    for i, a in enumerate(arms):
        ax.barh(
            [y + i * height for y in range(len(names))],
            [100 * float(shares[a].get(n) or 0) for n in names],
            height,
            color=COLORS[a],
            label=ARM_NAMES[a],
        )
    ax.set_yticks([y + height * (len(arms) - 1) / 2 for y in range(len(names))], names)
    ax.invert_yaxis()
    ax.set_xlabel("share of returned items (%)")
    ax.legend()
    first = names[0]
    alt = (
        f"Bars of each {what}'s share of the returned items per arm "
        f"({', '.join(ARM_NAMES[a] for a in arms)}); largest, {first}: "
        + ", ".join(f"{ARM_NAMES[a]} {100 * float(shares[a].get(first) or 0):.1f}%" for a in arms)
        + "."
    )
    return Plot(f"{what.capitalize()} share", alt, _png(fig))


def plots(report: Mapping[str, Any]) -> list[Plot]:
    drawn = [
        latency_plot(report),
        rbo_plot(report),
        share_plot(report, "channel_share", "channel"),
        share_plot(report, "category_share", "category"),
    ]
    return [p for p in drawn if p is not None]
