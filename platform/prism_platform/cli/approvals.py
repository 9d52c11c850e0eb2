"""``prism approvals list|show|approve|reject|cancel|wait``: the change requests that
changes to protected scenes wait as; and what ``prism deploy``/``rollback`` do when the
node answers one with ``202`` (print the request, or with ``--wait-approval`` wait for
its decision)."""

from __future__ import annotations

import time
from typing import Any

import click

from prism_platform.cli.client import call, echo, url_option

POLL_S = 1.0
DEFAULT_TIMEOUT_S = 600.0

wait_approval_option = click.option(
    "--wait-approval",
    is_flag=True,
    help="on a protected scene: wait until the change request is decided, then print "
    "the outcome (exit 1 unless approved and made)",
)
timeout_option = click.option(
    "--timeout",
    "approval_timeout",
    type=click.FloatRange(0, min_open=True),
    default=DEFAULT_TIMEOUT_S,
    show_default=True,
    help="with --wait-approval: seconds to wait for the decision",
)


def _path(request_id: int) -> str:
    return f"/admin/change-requests/{request_id}"


def outcome(request: dict[str, Any]) -> str:
    """One line on a decided request."""
    rid, status, by = request["id"], request["status"], request.get("decided_by")
    reason = f" ({request['reason']})" if request.get("reason") else ""
    result = request.get("result") or {}
    if status == "approved":
        made = (
            f"deployment {result['deployment']} serves {result.get('serves', '?')}"
            if "deployment" in result
            else f"experiment {result.get('name')} (id {result.get('experiment')}) runs"
            if "experiment" in result
            else "the change is made"
        )
        return f"change request #{rid} approved by {by}{reason}: {made}"
    if status == "failed":
        return f"change request #{rid} approved by {by} but failed: {result.get('error')}"
    return f"change request #{rid} {status} by {by}{reason}"


def wait_for_decision(url: str, request_id: int, timeout: float) -> dict[str, Any]:
    """Poll the request until it is decided, and an approved one made (its ``result``
    set); a ClickException after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        request: dict[str, Any] = call(url, "GET", _path(request_id))
        status = request["status"]
        if status != "pending" and (status != "approved" or request.get("result") is not None):
            return request
        if time.monotonic() >= deadline:
            raise click.ClickException(
                f"change request #{request_id} still waits for approval after {timeout:g} s"
            )
        time.sleep(min(POLL_S, max(0.0, deadline - time.monotonic())))


def held(url: str, answer: dict[str, Any], *, wait: bool, timeout: float) -> None:
    """The node's ``202``: the change waits as a change request. Say so; with ``wait``,
    wait for the decision and print it (a ClickException unless approved and made)."""
    rid = int(answer["change_request"])
    click.echo(f"change request #{rid} waits for approval (prism approvals show {rid})")
    if not wait:
        return
    request = wait_for_decision(url, rid, timeout)
    if request["status"] != "approved":
        raise click.ClickException(outcome(request))
    click.echo(outcome(request))
    echo(request)


@click.group()
def approvals() -> None:
    """Change requests: changes to protected scenes wait for a second operator."""


@approvals.command("list")
@url_option
@click.option(
    "--status",
    type=click.Choice(["pending", "approved", "rejected", "cancelled", "failed"]),
    default=None,
    help="only requests in this state (default: all)",
)
@click.option("--scene", default=None)
@click.option("--limit", default=50, type=click.IntRange(1, 10_000), show_default=True)
def list_requests(url: str, status: str | None, scene: str | None, limit: int) -> None:
    """Change requests, newest first."""
    params: dict[str, Any] = {"limit": limit}
    if status:
        params["status"] = status
    if scene:
        params["scene"] = scene
    echo(call(url, "GET", "/admin/change-requests", params=params))


@approvals.command()
@url_option
@click.argument("request_id", type=int)
def show(url: str, request_id: int) -> None:
    """A request; a pending one with what approving it would change (``diff``)."""
    echo(call(url, "GET", _path(request_id)))


@approvals.command()
@url_option
@click.argument("request_id", type=int)
@click.option("--reason", default="", help="why (an override needs one)")
@click.option("--override", is_flag=True, help="admins: approve your own request")
@click.option("--wait", default=10.0, type=click.FloatRange(0, 60), show_default=True)
def approve(url: str, request_id: int, reason: str, override: bool, wait: float) -> None:
    """Approve change request REQUEST_ID: the change is made (gated again)."""
    body = {"reason": reason, "override": override, "wait_s": wait}
    request = call(url, "POST", f"{_path(request_id)}/approve", json=body)
    click.echo(outcome(request))
    echo(request)


@approvals.command()
@url_option
@click.argument("request_id", type=int)
@click.option("--reason", required=True, help="why it is turned down")
def reject(url: str, request_id: int, reason: str) -> None:
    """Turn change request REQUEST_ID down."""
    request = call(url, "POST", f"{_path(request_id)}/reject", json={"reason": reason})
    click.echo(outcome(request))


@approvals.command()
@url_option
@click.argument("request_id", type=int)
@click.option("--reason", default="")
def cancel(url: str, request_id: int, reason: str) -> None:
    """Withdraw your change request REQUEST_ID."""
    request = call(url, "POST", f"{_path(request_id)}/cancel", json={"reason": reason})
    click.echo(outcome(request))


@approvals.command()
@url_option
@click.argument("request_id", type=int)
@timeout_option
def wait(url: str, request_id: int, approval_timeout: float) -> None:
    """Wait until change request REQUEST_ID is decided; exit 1 unless approved and made."""
    request = wait_for_decision(url, request_id, approval_timeout)
    if request["status"] != "approved":
        raise click.ClickException(outcome(request))
    click.echo(outcome(request))
