"""``prism events aggregate`` and ``prism experiments report``."""

from __future__ import annotations

import os
from typing import Any

import click

DEFAULT_URL = "http://127.0.0.1:8000"


@click.group()
def events() -> None:
    """The durable event log behind POST /v1/events."""


@events.command("aggregate")
def events_aggregate() -> None:
    """Fold every event not yet counted into the hourly counts, then drop counted events
    older than the retention from the log (one-shot; a running node does the same in
    the background)."""
    from .db import MetadataStore
    from .events.aggregate import aggregate_all, trim_log
    from .events.sink import open_sink, retention_s
    from .settings import Settings

    settings = Settings()
    store = MetadataStore(settings.db_url)
    sink = open_sink(settings)
    try:
        store.upgrade()
        n = aggregate_all(sink, store.engine)
        gone = trim_log(sink, store.engine, retention_s(settings.events_max_age_s))
    finally:
        sink.close()
        store.dispose()
    click.echo(f"aggregated {n} events from {sink.name}; trimmed {gone} old ones")


@click.group()
def experiments() -> None:
    """Experiment results."""


@experiments.command("report")
@click.argument("scene")
@click.option("--layer", default="main", show_default=True, help="experiment layer")
@click.option("--experiment", default=None, help="default: the running (else newest) one")
@click.option("--control", default=None, help="default: bucket 'control', else the first")
@click.option("--mde", default=0.05, show_default=True, help="relative lift to detect")
@click.option("--alpha", default=0.05, show_default=True)
@click.option("--power", default=0.8, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="print the raw report")
@click.option(
    "--url", default=lambda: os.environ.get("PRISM_URL", DEFAULT_URL), show_default=DEFAULT_URL
)
def experiments_report(
    scene: str,
    layer: str,
    experiment: str | None,
    control: str | None,
    mde: float,
    alpha: float,
    power: float,
    as_json: bool,
    url: str,
) -> None:
    """Lift of each bucket of SCENE's experiment on a layer against the control, with
    significance."""
    from .cli import _call, _echo

    params: dict[str, Any] = {"layer": layer, "mde": mde, "alpha": alpha, "power": power}
    params |= {k: v for k, v in (("experiment", experiment), ("control", control)) if v}
    report = _call(url, "GET", f"/admin/experiments/{scene}/report", params=params)
    if as_json:
        _echo(report)
    else:
        click.echo(render(report))


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x * 100:.2f}%"


def _lift(cmp: dict[str, Any] | None) -> str:
    if not cmp or cmp.get("lift") is None:
        return "-"
    lo, hi = cmp["lift_ci"]
    star = " *" if cmp["significant"] else ""
    return (
        f"{cmp['lift'] * 100:+.1f}% [{lo * 100:+.1f}, {hi * 100:+.1f}] p={cmp['p_value']:.3g}{star}"
    )


def render(r: dict[str, Any]) -> str:
    """The report as a table (``*`` marks significance at alpha)."""
    exp = r["experiment"]
    layer = "" if r.get("layer", "main") == "main" else f" [{r['layer']}]"
    lines = [
        f"{r['scene']}{layer} / {exp['name']} ({exp['status']}, since {exp['started']}), "
        f"control {r['control']}, alpha {r['params']['alpha']}",
        f"{'bucket':<12}{'%':>6}{'requests':>10}{'exposures':>11}{'clicks':>8}{'orders':>8}"
        f"{'CTR':>8}{'CVR':>8}  CTR lift vs control [CI]",
    ]
    for b in r["buckets"]:
        lines.append(
            f"{b['bucket']:<12}{b['percent']:>6g}{b['requests']:>10}{b['exposures']:>11}"
            f"{b['clicks']:>8}{b['orders']:>8}{_pct(b['ctr']):>8}{_pct(b['cvr']):>8}  "
            + ("(control)" if b["control"] else _lift(b.get("ctr_vs_control")))
        )
    ss = r["sample_size"]
    need = ss["exposures_per_bucket"]
    lines.append(
        f"sample size for a {r['params']['mde'] * 100:g}% CTR lift (power {r['params']['power']}): "
        f"{need if need is not None else 'n/a'} exposures per bucket; smallest has "
        f"{ss['smallest_bucket']}" + ("" if ss["enough"] else " (not enough yet)")
    )
    srm = r["srm"]
    if srm["p_value"] is not None:
        verdict = "WARNING: sample ratio mismatch" if srm["warning"] else "ok"
        lines.append(
            f"sample ratio (requests): chi2={srm['chi2']:.2f} p={srm['p_value']:.3g} {verdict}"
        )
    return "\n".join(lines)
