"""``prism experiment`` (start an experiment on a scene's layer) and ``prism stop-layer``."""

from __future__ import annotations

import json
import os
from typing import Any

import click

DEFAULT_URL = "http://127.0.0.1:8000"
url_option = click.option(
    "--url", default=lambda: os.environ.get("PRISM_URL", DEFAULT_URL), show_default=DEFAULT_URL
)


def _pairs(values: tuple[str, ...], option: str, shape: str) -> list[tuple[str, str]]:
    out = []
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{value!r} is not {shape}", param_hint=option)
        out.append((key, rest))
    return out


@click.command()
@url_option
@click.argument("scene")
@click.argument("name")
@click.option("--bucket", "buckets", multiple=True, required=True, help="NAME=PERCENT, repeatable")
@click.option("--layer", default="main", show_default=True, help="main: served by deployments")
@click.option("--params", "params", multiple=True, help="BUCKET=JSON overrides, repeatable")
@click.option("--whitelist", "whitelist", multiple=True, help="USER=BUCKET, repeatable")
@click.option("--holdout", type=float, default=None, help="percent of users with no override")
@click.option("--starts-at", default=None, help="ISO-8601 with a timezone")
@click.option("--ends-at", default=None, help="ISO-8601 with a timezone")
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
    from .cli import _call, _echo

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
        "starts_at": starts_at,
        "ends_at": ends_at,
    }
    _echo(_call(url, "POST", f"/admin/scenes/{scene}/experiments", json=body))


@click.command("stop-layer")
@url_option
@click.argument("scene")
@click.argument("layer")
def stop_layer(url: str, scene: str, layer: str) -> None:
    """Stop the running experiment of LAYER on SCENE (its users get no overrides)."""
    from .cli import _call, _echo

    _echo(_call(url, "POST", f"/admin/scenes/{scene}/layers/{layer}/stop"))
