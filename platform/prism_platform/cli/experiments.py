"""Experiments on a running node: ``prism experiment`` (start one on a scene's layer),
``prism stop-layer`` and ``prism experiments report`` (their results)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import click

from prism_platform.cli.client import call, echo, url_option


def _pairs(values: tuple[str, ...], option: str, shape: str) -> list[tuple[str, str]]:
    out = []
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{value!r} is not {shape}", param_hint=option)
        out.append((key, rest))
    return out


_FROM_NOW = re.compile(r"\+(\d+(?:\.\d+)?)([mhd])")
_UNIT = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}


def _when(value: str | None, option: str) -> str | None:
    """A ``--starts-at``/``--ends-at`` value for the API: ISO-8601 as given (the node
    checks it), or ``+N`` minutes, hours or days from now (``+30m``, ``+12h``, ``+14d``)."""
    if value is None or not value.startswith("+"):
        return value
    match = _FROM_NOW.fullmatch(value)
    if match is None:
        raise click.BadParameter(f"{value!r} is not +N followed by m, h or d", param_hint=option)
    return (datetime.now(UTC) + float(match[1]) * _UNIT[match[2]]).isoformat()


@click.command()
@url_option
@click.argument("scene")
@click.argument("name")
@click.option("--bucket", "buckets", multiple=True, required=True, help="NAME=PERCENT, repeatable")
@click.option("--layer", default="main", show_default=True, help="main: served by deployments")
@click.option("--params", "params", multiple=True, help="BUCKET=JSON overrides, repeatable")
@click.option("--whitelist", "whitelist", multiple=True, help="USER=BUCKET, repeatable")
@click.option("--holdout", type=float, default=None, help="percent of users with no override")
@click.option("--starts-at", default=None, help="ISO-8601 with a timezone, or +N[m|h|d] from now")
@click.option("--ends-at", default=None, help="ISO-8601 with a timezone, or +N[m|h|d] from now")
@click.option("--salt", default=None)
def experiment(
    url: str,
    scene: str,
    name: str,
    buckets: tuple[str, ...],
    layer: str,
    params: tuple[str, ...],
    whitelist: tuple[str, ...],
    holdout: float | None,
    starts_at: str | None,
    ends_at: str | None,
    salt: str | None,
) -> None:
    """Start experiment NAME on a layer of SCENE, splitting traffic into buckets; the
    layer's running experiment stops. Layers other than main override parameters:
    `--layer rank --bucket a=50 --bucket b=50 --params b='{"quota_i2i": 10}'`."""
    overrides: dict[str, Any] = {}
    for bucket, text in _pairs(params, "--params", "BUCKET=JSON"):
        try:
            overrides[bucket] = json.loads(text)
        except json.JSONDecodeError as exc:
            raise click.BadParameter(f"{bucket}: not JSON: {exc}", param_hint="--params") from None
    parsed = []
    for bname, pct in _pairs(buckets, "--bucket", "NAME=PERCENT"):
        try:
            parsed.append({"name": bname, "percent": float(pct)})
        except ValueError:
            raise click.BadParameter(
                f"{bname}={pct} is not NAME=PERCENT", param_hint="--bucket"
            ) from None
        if bname in overrides:
            parsed[-1]["params"] = overrides.pop(bname)
    if overrides:
        raise click.BadParameter(f"no bucket {', '.join(overrides)}", param_hint="--params")
    body = {
        "name": name,
        "buckets": parsed,
        "salt": salt,
        "layer": layer,
        "whitelist": dict(_pairs(whitelist, "--whitelist", "USER=BUCKET")) or None,
        "holdout_percent": holdout,
        "starts_at": _when(starts_at, "--starts-at"),
        "ends_at": _when(ends_at, "--ends-at"),
    }
    echo(call(url, "POST", f"/admin/scenes/{scene}/experiments", json=body))


@click.command("stop-layer")
@url_option
@click.argument("scene")
@click.argument("layer")
def stop_layer(url: str, scene: str, layer: str) -> None:
    """Stop the running experiment of LAYER on SCENE (its users get no overrides)."""
    echo(call(url, "POST", f"/admin/scenes/{scene}/layers/{layer}/stop"))


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
@url_option
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
    params: dict[str, Any] = {"layer": layer, "mde": mde, "alpha": alpha, "power": power}
    params |= {k: v for k, v in (("experiment", experiment), ("control", control)) if v}
    report = call(url, "GET", f"/admin/experiments/{scene}/report", params=params)
    if as_json:
        echo(report)
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
    """The report as a table (``*`` marks significance at alpha; lifts are over users)."""
    exp = r["experiment"]
    layer = "" if r.get("layer", "main") == "main" else f" [{r['layer']}]"
    lines = [
        f"{r['scene']}{layer} / {exp['name']} ({exp['status']}, since {exp['started']}), "
        f"control {r['control']}, alpha {r['params']['alpha']}",
        f"{'bucket':<12}{'%':>6}{'users':>8}{'exposures':>11}{'clicks':>8}{'orders':>8}"
        f"{'CTR':>8}{'CVR':>8}  CTR lift vs control [CI]",
    ]
    for b in r["buckets"]:
        lines.append(
            f"{b['bucket']:<12}{b['percent']:>6g}{b['users']:>8}{b['exposures']:>11}"
            f"{b['clicks']:>8}{b['orders']:>8}{_pct(b['ctr']):>8}{_pct(b['cvr']):>8}  "
            + ("(control)" if b["control"] else _lift(b.get("ctr_vs_control")))
        )
    ss = r["sample_size"]
    need = ss["users_per_bucket"]
    lines.append(
        f"sample size for a {r['params']['mde'] * 100:g}% CTR lift (power {r['params']['power']}): "
        f"{need if need is not None else 'n/a'} users per bucket; smallest has "
        f"{ss['smallest_bucket']}" + ("" if ss["enough"] else " (not enough yet)")
    )
    srm = r["srm"]
    if srm["p_value"] is not None:
        verdict = "WARNING: sample ratio mismatch" if srm["warning"] else "ok"
        lines.append(
            f"sample ratio (users): chi2={srm['chi2']:.2f} p={srm['p_value']:.3g} {verdict}"
        )
    dropped = [
        f"{b['bucket']} " + ", ".join(f"{n} {why}" for why, n in sorted(b["rejected"].items()))
        for b in r["buckets"]
        if b.get("rejected")
    ]
    if dropped:
        lines.append("not counted: " + "; ".join(dropped))
    for b in r["buckets"]:
        g = b.get("guardrails")
        if g and g["requests"]:
            p99 = "> last bound" if g["p99_ms"] is None else f"<= {g['p99_ms']:g} ms"
            lines.append(
                f"guardrails {b['bucket']}: {g['requests']} requests, p99 {p99}, "
                f"degraded {_pct(g['degraded_rate'])}, fallback {_pct(g['fallback_rate'])}"
            )
    return "\n".join(lines)
