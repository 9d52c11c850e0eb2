"""Small line charts rendered on the server as inline SVG: no chart script to load, they
print, and they read the same with JavaScript off. Each chart carries a text title and
description (its last value and range) for screen readers.

``line_chart([Series("A", values), Series("B", values)], title="CTR")`` draws the series
over a shared x axis of equally spaced points (``None`` is a gap)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

PALETTE = ("#0b4f9c", "#b34700", "#1e5e2b", "#7a1f8f", "#9b1c1c", "#4a4a4a")
"""Colours of the series in order; each has at least 4.5:1 contrast on white."""


@dataclass(frozen=True, slots=True)
class Series:
    label: str
    values: Sequence[float | None]


def _plain(v: float) -> str:
    return f"{v:.3g}"


def line_chart(
    series: Sequence[Series],
    *,
    title: str,
    width: int = 320,
    height: int = 90,
    fmt: Callable[[float], str] = _plain,
    y_zero: bool = True,
    x_labels: tuple[str, str] | None = None,
) -> Markup:
    """An inline SVG line chart; the y axis spans the values' range (from 0 when
    ``y_zero``), labelled at its top and bottom (the labels get the room they need);
    ``x_labels`` name the x axis' first and last point (e.g. "30 min ago", "now")."""
    values = [v for s in series for v in s.values if v is not None]
    n = max((len(s.values) for s in series), default=0)
    lo = min([0.0, *values]) if y_zero else min(values, default=0.0)
    hi = max(values, default=1.0)
    if hi <= lo:
        hi = lo + 1.0
    hi_label, lo_label = fmt(hi), fmt(lo)
    pad_l = max(44, _text_width(max(hi_label, lo_label, key=len)) + 8)
    pad_r, pad_t, pad_b = 4, 6, 14
    w, h = width - pad_l - pad_r, height - pad_t - pad_b

    def xy(i: int, v: float) -> str:
        x = pad_l + (w * i / (n - 1) if n > 1 else w / 2)
        y = pad_t + h - (v - lo) / (hi - lo) * h
        return f"{x:.1f},{y:.1f}"

    paths: list[str] = []
    for k, s in enumerate(series):
        colour = PALETTE[k % len(PALETTE)]
        for run in _runs(s.values):
            if len(run) == 1:
                i, v = run[0]
                cx, cy = xy(i, v).split(",")
                paths.append(f'<circle cx="{cx}" cy="{cy}" r="2" fill="{colour}"/>')
            else:
                points = " ".join(xy(i, v) for i, v in run)
                paths.append(
                    f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" '
                    f'points="{points}"/>'
                )
    desc = "; ".join(_describe(s, fmt) for s in series) or "no data"
    legend = "".join(
        f'<tspan fill="{PALETTE[k % len(PALETTE)]}" dx="{0 if k == 0 else 8}">'
        f"■ {escape(s.label)}</tspan>"
        for k, s in enumerate(series)
        if len(series) > 1
    )
    legend_x, x_axis = pad_l, ""
    if x_labels is not None:
        first, last = x_labels
        legend_x += _text_width(first) + 12
        x_axis = (
            f'<text x="{pad_l}" y="{height - 2}" font-size="10" fill="#4a4a4a">'
            f"{escape(first)}</text>"
            f'<text x="{pad_l + w}" y="{height - 2}" text-anchor="end" font-size="10" '
            f'fill="#4a4a4a">{escape(last)}</text>'
        )
    svg = (
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>"
        f'<line x1="{pad_l}" y1="{pad_t + h}" x2="{pad_l + w}" y2="{pad_t + h}" '
        f'stroke="#d0d0d0"/>'
        f'<text x="{pad_l - 4}" y="{pad_t + 8}" text-anchor="end" font-size="10" '
        f'fill="#4a4a4a">{escape(hi_label)}</text>'
        f'<text x="{pad_l - 4}" y="{pad_t + h}" text-anchor="end" font-size="10" '
        f'fill="#4a4a4a">{escape(lo_label)}</text>'
        f'{x_axis}<text x="{legend_x}" y="{height - 2}" font-size="10">{legend}</text>'
        f"{''.join(paths)}</svg>"
    )
    return Markup(svg)  # every label above is escaped


def _text_width(text: str) -> int:
    """About how wide ``text`` is at font size 10 (px)."""
    return round(len(text) * 6)


def _runs(values: Sequence[float | None]) -> list[list[tuple[int, float]]]:
    """The series split into runs of consecutive present values."""
    runs: list[list[tuple[int, float]]] = [[]]
    for i, v in enumerate(values):
        if v is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append((i, float(v)))
    return [r for r in runs if r]


def _describe(s: Series, fmt: Callable[[float], str]) -> str:
    present = [v for v in s.values if v is not None]
    if not present:
        return f"{s.label}: no data"
    return f"{s.label}: last {fmt(present[-1])}, range {fmt(min(present))}–{fmt(max(present))}"
