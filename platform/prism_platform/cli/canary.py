"""``prism canary promote|abort SCENE BUCKET``: end a bucket's canary, one way or the other."""

from __future__ import annotations

import click

from prism_platform.cli.client import call, url_option, wait_option
from prism_platform.cli.deploy import _rolled_out


@click.group()
def canary() -> None:
    """Promote a bucket's canary to all its users, or abort it."""


def _end_canary_command(how: str, doc: str) -> click.Command:
    """``prism canary HOW SCENE BUCKET``: POST .../canary/HOW and wait for the rollout."""

    @canary.command(how, help=doc)
    @url_option
    @click.argument("scene")
    @click.argument("bucket")
    @click.option("--note", default="")
    @wait_option
    def end(url: str, scene: str, bucket: str, note: str, wait: float) -> None:
        path = f"/admin/scenes/{scene}/buckets/{bucket}/canary/{how}"
        _rolled_out(call(url, "POST", path, json={"note": note, "wait_s": wait}))

    return end


promote = _end_canary_command(
    "promote",
    "Serve the canary of SCENE's BUCKET (its script@version and config) to all its users.",
)
abort = _end_canary_command(
    "abort", "End the canary of SCENE's BUCKET: all its users go back to the primary deployment."
)
