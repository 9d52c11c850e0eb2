"""``prism canary promote|abort SCENE BUCKET``: end a bucket's canary, one way or the other."""

from __future__ import annotations

import click

from prism_platform.cli.client import call, url_option, wait_option
from prism_platform.cli.deploy import _rolled_out


@click.group()
def canary() -> None:
    """Promote a bucket's canary to all its users, or abort it."""


def _end_canary(url: str, scene: str, bucket: str, how: str, note: str, wait: float) -> None:
    path = f"/admin/scenes/{scene}/buckets/{bucket}/canary/{how}"
    _rolled_out(call(url, "POST", path, json={"note": note, "wait_s": wait}))


@canary.command()
@url_option
@click.argument("scene")
@click.argument("bucket")
@click.option("--note", default="")
@wait_option
def promote(url: str, scene: str, bucket: str, note: str, wait: float) -> None:
    """Serve the canary of SCENE's BUCKET (its script@version and config) to all its users."""
    _end_canary(url, scene, bucket, "promote", note, wait)


@canary.command()
@url_option
@click.argument("scene")
@click.argument("bucket")
@click.option("--note", default="")
@wait_option
def abort(url: str, scene: str, bucket: str, note: str, wait: float) -> None:
    """End the canary of SCENE's BUCKET: all its users go back to the primary deployment."""
    _end_canary(url, scene, bucket, "abort", note, wait)
