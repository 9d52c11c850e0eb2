"""Scenes of a running node: ``prism scene``, ``scene-set`` and ``recommend``."""

from __future__ import annotations

from typing import Any

import click

from prism_platform.cli.client import call, echo, json_option, url_option

read_timeout_option = click.option(
    "--read-timeout-ms",
    type=int,
    default=None,
    help="budget of a request's data reads [default: PRISM_REDIS_TIMEOUT_MS]",
)
context_schema_option = click.option(
    "--context-schema",
    "context_schema_json",
    default=None,
    metavar="JSON",
    help='the fields a request context may carry, e.g. \'{"item_id": {"type": "str"}}\' '
    "(types: str, int, float, bool, list[str]; see docs/operators/configuration.md)",
)
budgets_option = click.option(
    "--budgets",
    "budgets_json",
    default=None,
    metavar="JSON",
    help="per-request budgets of its strategies, e.g. '{\"candidates\": 5000}' (round_trips, "
    "read_keys, candidates, retained_objects; one not given: the node's setting); "
    "replaces the scene's",
)
sample_rate_option = click.option(
    "--sample-rate",
    type=click.FloatRange(0, 1),
    default=None,
    help="share of the scene's users whose requests go to the replay log "
    "(prism samples export) [default for a new scene: 0.01]",
)

on_overload_option = click.option(
    "--on-overload",
    type=click.Choice(["refuse", "standby"]),
    default=None,
    help="what a request that cannot start in time gets: refuse (503 with Retry-After) or "
    "standby (the scene's standby page, degraded) [default for a new scene: refuse]",
)


@click.command()
@url_option
@click.option("--name", required=True)
@click.option("--description", default="")
@click.option("--deadline-ms", default=80, type=int, show_default=True)
@read_timeout_option
@context_schema_option
@sample_rate_option
@budgets_option
@on_overload_option
def scene(
    url: str,
    name: str,
    description: str,
    deadline_ms: int,
    read_timeout_ms: int | None,
    context_schema_json: str | None,
    sample_rate: float | None,
    budgets_json: str | None,
    on_overload: str | None,
) -> None:
    """Create a scene (with a default experiment of one bucket, `base`)."""
    body: dict[str, Any] = {"name": name, "description": description, "deadline_ms": deadline_ms}
    if read_timeout_ms is not None:
        body["read_timeout_ms"] = read_timeout_ms
    if context_schema_json is not None:
        body["context_schema"] = json_option(context_schema_json, "--context-schema")
    if sample_rate is not None:
        body["sample_rate"] = sample_rate
    if budgets_json is not None:
        body["budgets"] = json_option(budgets_json, "--budgets")
    if on_overload is not None:
        body["on_overload"] = on_overload
    echo(call(url, "POST", "/admin/scenes", json=body))


@click.command("scene-set")
@url_option
@click.argument("name")
@click.option("--description", default=None)
@click.option("--deadline-ms", type=int, default=None)
@click.option("--max-size", type=int, default=None)
@read_timeout_option
@click.option("--default-read-timeout", is_flag=True, help="back to PRISM_REDIS_TIMEOUT_MS")
@context_schema_option
@click.option("--no-context-schema", is_flag=True, help="drop the schema: any context")
@sample_rate_option
@budgets_option
@click.option("--default-budgets", is_flag=True, help="back to the node's settings")
@on_overload_option
@click.option(
    "--protected/--unprotected",
    default=None,
    help="admins: changes to the scene wait for a second operator's approval (or not)",
)
def scene_set(
    url: str,
    name: str,
    default_read_timeout: bool,
    context_schema_json: str | None,
    no_context_schema: bool,
    budgets_json: str | None,
    default_budgets: bool,
    **changes: Any,
) -> None:
    """Change settings of the scene NAME (only the options given)."""
    body = {k: v for k, v in changes.items() if v is not None}
    if default_read_timeout:
        body["read_timeout_ms"] = None
    if context_schema_json is not None:
        body["context_schema"] = json_option(context_schema_json, "--context-schema")
    if no_context_schema:
        body["context_schema"] = None
    if budgets_json is not None:
        body["budgets"] = json_option(budgets_json, "--budgets")
    if default_budgets:
        body["budgets"] = None
    if not body:
        raise click.UsageError("nothing to change: give at least one option")
    echo(call(url, "PATCH", f"/admin/scenes/{name}", json=body))


@click.command()
@url_option
@click.argument("scene")
@click.argument("user_id")
@click.option("--size", default=10, type=int, show_default=True)
@click.option("--context", "context_json", default="{}")
@click.option("--debug", is_flag=True)
def recommend(
    url: str, scene: str, user_id: str, size: int, context_json: str, debug: bool
) -> None:
    """Ask a running node for a recommendation."""
    body = {
        "scene": scene,
        "user_id": user_id,
        "size": size,
        "context": json_option(context_json, "--context"),
        "debug": debug,
    }
    echo(call(url, "POST", "/v1/recommend", json=body))
