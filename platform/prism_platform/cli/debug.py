"""``prism debug``: one request with its full trace, from the live routing, a deployment
or a script version that is not deployed (a dry run)."""

from __future__ import annotations

import json
from typing import Any

import click

from prism_platform.cli.client import call, echo, json_option, url_option

SHOWN = 10
"""Candidates and removed items printed per stage (``--json`` prints everything)."""


@click.command()
@url_option
@click.argument("scene")
@click.option("--user", "user_id", required=True, help="the user id of the request")
@click.option("--context", "context_json", default="{}", metavar="JSON", help="request context")
@click.option("--size", default=20, type=click.IntRange(1, 200), show_default=True)
@click.option(
    "--deployment", "deployment_id", type=int, default=None, help="run this deployment instead"
)
@click.option("--script", default=None, metavar="S[@V]", help="dry-run a script (at version V)")
@click.option("--config", "config_name", default=None, help="the script's named config")
@click.option("--params", "params_json", default=None, metavar="JSON", help="parameter overrides")
@click.option("--json", "as_json", is_flag=True, help="print the whole answer as JSON")
def debug(
    url: str,
    scene: str,
    user_id: str,
    context_json: str,
    size: int,
    deployment_id: int | None,
    script: str | None,
    config_name: str | None,
    params_json: str | None,
    as_json: bool,
) -> None:
    """Run one SCENE request for --user and print its trace: buckets, parameters, every
    stage with its candidates and what it removed, data round trips, the items.

    With --deployment or --script it is a dry run: recorded nowhere, served to nobody."""
    body: dict[str, Any] = {
        "scene": scene,
        "user_id": user_id,
        "size": size,
        "context": json_option(context_json, "--context"),
    }
    if deployment_id is not None:
        body["deployment_id"] = deployment_id
    if script:
        path, _, version = script.partition("@")
        body["script"] = path
        if version:
            body["version"] = version
    if config_name is not None:
        body["config"] = config_name
    if params_json is not None:
        body["params"] = json_option(params_json, "--params")
    answer = call(url, "POST", "/admin/debug/recommend", json=body)
    if as_json:
        echo(answer)
    else:
        click.echo("\n".join(trace_lines(answer)))


def trace_lines(answer: dict[str, Any]) -> list[str]:
    """The answer as text: what served it, then each stage, then the items."""
    trace = answer.get("trace") or {}
    target = answer.get("target") or {}
    strategy = answer.get("strategy") or {}
    exp = answer.get("experiment") or {}
    served = f"{strategy.get('name')}@{strategy.get('version')}:{strategy.get('config', '-')}"
    kind = target.get("kind", "live")
    if kind == "deployment":
        kind = f"deployment #{target.get('deployment_id')}"
    head = f"DRY RUN ({kind})" if answer.get("dry_run") else "live routing"
    lines = [
        f"{head}: {answer.get('scene')} served by {served}",
        f"experiment {exp.get('name')} bucket {exp.get('bucket')}"
        + "".join(f" {k}:{v}" for k, v in (exp.get("layers") or {}).items()),
        f"params {json.dumps(trace.get('params'))}",
    ]
    if trace.get("overrides"):
        lines.append(f"overrides {json.dumps(trace['overrides'])}")
    if trace.get("error"):
        lines.append(f"error {trace['error']}: {trace.get('failure') or ''}".rstrip(": "))
    data = trace.get("data") or {}
    lines.append(
        f"data {data.get('backend')}: {data.get('round_trips')} round trips, "
        f"errors {data.get('errors') or 'none'}; total {trace.get('ms')} ms"
    )
    for st in trace.get("stages") or ():
        lines.append(
            f"  {st['stage']:<28} {st.get('ms', 0):>9.3f} ms  "
            f"in {_count(st.get('in'))}  out {_count(st.get('out'))}"
        )
        for c in (st.get("candidates") or ())[:SHOWN]:
            lines.append(f"      {c['item']:<16} {c['channel']:<24} {c['score']:.6g}")
        if st.get("candidates_total", 0) > SHOWN:
            lines.append(f"      … {st['candidates_total'] - SHOWN} more candidates")
        for r in (st.get("removed") or ())[:SHOWN]:
            lines.append(f"      removed {r['item']:<16} {r['reason']} (by {r['by']})")
        if st.get("removed_total", 0) > SHOWN:
            lines.append(f"      … {st['removed_total'] - SHOWN} more removed")
    lines.append("items")
    for i, it in enumerate(answer.get("items") or (), 1):
        title = (it.get("fields") or {}).get("title", "")
        lines.append(f"  {i:>3}. {it['item_id']:<16} {it['score']:.6g}  {title}")
    return lines


def _count(n: Any) -> str:
    return "-" if n is None else str(n)
