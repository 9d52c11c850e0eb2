"""Stress reports: ``<out>/<UTC time>-<scene>.json`` and a self-contained ``.html`` beside
it (the step table and the latency-vs-load plot as an embedded PNG), and the previous
report of the same scene and URL to compare with."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

from jinja2 import Environment

KIND = "prism-stress"
VERSION = 1


class PlotUnavailable(RuntimeError):
    pass


def require_matplotlib() -> None:
    """Fail before a ramp when the plot could not be drawn after it."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise PlotUnavailable(
            "prism stress draws its plot with matplotlib, which is not installed: "
            "pip install 'prism-rec[stress]'"
        ) from None


def plot_png(steps: list[dict[str, Any]], slo_ms: float, title: str) -> bytes:
    """p50 and p99 latency against the step rate, with the SLO as a line."""
    require_matplotlib()
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4.2), dpi=100)
    try:
        counted = sorted((s for s in steps if not s.get("superseded")), key=lambda s: s["rate"])
        answered = [s for s in counted if s["p99_ms"] is not None]
        rates = [s["rate"] for s in answered]
        ax.plot(rates, [s["p50_ms"] for s in answered], marker="o", label="p50")
        ax.plot(rates, [s["p99_ms"] for s in answered], marker="s", label="p99")
        ax.axhline(slo_ms, color="#b00020", linestyle="--", label=f"SLO {slo_ms:g} ms")
        failed = [s for s in answered if not s["passed"]]
        if failed:
            ax.scatter(
                [s["rate"] for s in failed],
                [s["p99_ms"] for s in failed],
                s=120,
                facecolors="none",
                edgecolors="#b00020",
                label="step failed",
            )
        ax.set_xlabel("offered load (requests/s)")
        ax.set_ylabel("latency from schedule (ms)")
        ax.set_yscale("log")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        return buf.getvalue()
    finally:
        plt.close(fig)


_HTML = Environment(autoescape=True).from_string(
    (Path(__file__).parent / "report.html.j2").read_text()
)


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def render_html(report: dict[str, Any], png: bytes) -> str:
    return _HTML.render(r=report, png=base64.b64encode(png).decode(), ms=_ms)


def report_stem(out: Path, started: str, scene: str) -> Path:
    """``out/<started>-<scene>`` with a ``-2``… suffix when that name is taken."""
    stem = out / f"{started}-{scene}"
    n = 1
    while stem.with_suffix(".json").exists():
        n += 1
        stem = out / f"{started}-{scene}-{n}"
    return stem


def write_report(report: dict[str, Any], out: Path, stamp: str) -> tuple[Path, Path]:
    """Write the JSON and the HTML (with the plot); their paths."""
    out.mkdir(parents=True, exist_ok=True)
    png = plot_png(report["steps"], report["slo_ms"], f"{report['scene']} at {report['url']}")
    stem = report_stem(out, stamp, report["scene"])
    json_path, html_path = stem.with_suffix(".json"), stem.with_suffix(".html")
    json_path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    html_path.write_text(render_html(report, png))
    return json_path, html_path


def previous_report(out: Path, scene: str, url: str) -> tuple[Path, dict[str, Any]] | None:
    """The latest report in ``out`` of ``scene`` against ``url`` (files that are not
    stress reports are skipped)."""
    latest: tuple[Path, dict[str, Any]] | None = None
    for path in sorted(out.glob("*.json")) if out.is_dir() else ():
        try:
            report = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if not isinstance(report, dict) or report.get("kind") != KIND:
            continue
        if report.get("scene") != scene or report.get("url") != url:
            continue
        if latest is None or report.get("started_at", "") >= latest[1].get("started_at", ""):
            latest = (path, report)
    return latest
