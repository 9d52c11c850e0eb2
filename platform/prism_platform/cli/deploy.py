"""What a running node serves: ``prism status``, ``deploy``, ``rollback`` and ``history``."""

from __future__ import annotations

from typing import Any

import click

from prism_platform.cli.approvals import (
    DEFAULT_TIMEOUT_S,
    held,
    timeout_option,
    wait_approval_option,
)
from prism_platform.cli.canary_options import analysis_body, analysis_options
from prism_platform.cli.client import call, echo, url_option, wait_option


def _rolled_out(
    result: dict[str, Any],
    url: str = "",
    wait_approval: bool = False,
    approval_timeout: float = DEFAULT_TIMEOUT_S,
) -> None:
    """Print a deploy/rollback result; fail when not every node serves it in time. On a
    protected scene the change waits as a change request: say so (and wait for it)."""
    if "change_request" in result:
        held(url, result, wait=wait_approval, timeout=approval_timeout)
        return
    echo(result)
    rollout = result.get("rollout", {})
    if rollout.get("pending_publish"):
        raise click.ClickException(
            f"recorded, and live on {rollout.get('node') or 'the node that answered'} only: "
            "the coordinator (ZooKeeper) did not take it, so no other node serves it yet; "
            "it is published by itself when ZooKeeper answers (prism status: pending_publish)"
        )
    if not rollout.get("complete", True):
        late = [n["node"] for n in rollout["nodes"] if n["generation"] < rollout["generation"]]
        why = [
            f"{n['node']} could not load {where} (it serves its previous version): {error}"
            for n in rollout["nodes"]
            for where, error in n.get("errors", {}).items()
        ]
        if late or not why:
            why.insert(
                0,
                f"{', '.join(late) or 'no node reported'} "
                f"did not report generation {rollout['generation']} in time",
            )
        raise click.ClickException("live on some nodes only: " + "; ".join(why))


@click.command()
@url_option
def status(url: str) -> None:
    """What the node serves: scenes, buckets, strategy@version, config."""
    echo(call(url, "GET", "/admin/status"))


@click.command()
@url_option
@click.option("--scene", required=True)
@click.option("--bucket", default="base", show_default=True)
@click.option("--script", required=True, help="path under strategies/, e.g. home_feed.py")
@click.option(
    "--config",
    "config_name",
    default="default",
    show_default=True,
    help="a named config (prism config); 'default', if the script has none: its Config defaults",
)
@click.option("--version", default="worktree", show_default=True)
@click.option("--note", default="")
@click.option(
    "--canary",
    "canary_percent",
    type=click.FloatRange(0, 100, min_open=True, max_open=True),
    default=None,
    help="serve only this percentage of the bucket (the rest keeps the current deployment)",
)
@analysis_options
@wait_option
@wait_approval_option
@timeout_option
def deploy(
    url: str,
    scene: str,
    bucket: str,
    script: str,
    config_name: str,
    version: str,
    note: str,
    canary_percent: float | None,
    abort_if: tuple[str, ...],
    min_requests: int | None,
    min_exposures: int | None,
    promote_after: str | None,
    wait: float,
    wait_approval: bool,
    approval_timeout: float,
) -> None:
    """Deploy SCRIPT with a named config to a scene bucket; waits until every node serves it.
    A canary may carry an analysis: e.g. --canary 10 --abort-if error_rate>0.02
    --abort-if p99_ms>100 --promote-after 30m. On a protected scene it waits as a
    change request (--wait-approval: until decided)."""
    analysis = analysis_body(canary_percent, abort_if, min_requests, min_exposures, promote_after)
    body: dict[str, Any] = {
        "scene": scene,
        "bucket": bucket,
        "script": script,
        "config": config_name,
        "version": version,
        "note": note,
        "wait_s": wait,
        "canary_percent": canary_percent,
    }
    if analysis is not None:
        body["analysis"] = analysis
    answer = call(url, "POST", "/admin/deployments", json=body)
    _rolled_out(answer, url, wait_approval, approval_timeout)


@click.command()
@url_option
@click.argument("deployment_id", required=False, type=int)
@click.option(
    "--scene", default=None, help="with --bucket: roll back to the bucket's previous deployment"
)
@click.option("--bucket", default="base", show_default=True)
@click.option(
    "--emergency",
    is_flag=True,
    help="on a protected scene: roll back now, without approval (audited as an emergency)",
)
@wait_option
@wait_approval_option
@timeout_option
def rollback(
    url: str,
    deployment_id: int | None,
    scene: str | None,
    bucket: str,
    emergency: bool,
    wait: float,
    wait_approval: bool,
    approval_timeout: float,
) -> None:
    """Serve an earlier deployment again: by DEPLOYMENT_ID, or the previous one of a bucket.
    On a protected scene it waits as a change request, unless --emergency."""
    if deployment_id is not None:
        path = f"/admin/deployments/{deployment_id}/rollback"
    elif scene:
        path = f"/admin/scenes/{scene}/buckets/{bucket}/rollback"
    else:
        raise click.UsageError("give a DEPLOYMENT_ID or --scene (and --bucket)")
    answer = call(url, "POST", path, json={"wait_s": wait, "emergency": emergency})
    _rolled_out(answer, url, wait_approval, approval_timeout)


@click.command()
@url_option
@click.option("--scene", default=None)
@click.option("--limit", default=20, type=int, show_default=True)
def history(url: str, scene: str | None, limit: int) -> None:
    """Deployments, newest first."""
    params: dict[str, Any] = {"limit": limit}
    if scene:
        params["scene"] = scene
    echo(call(url, "GET", "/admin/deployments", params=params))
