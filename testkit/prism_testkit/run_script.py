"""``prism run-script``: one request of a script run on this machine, with its trace
(registered through the ``prism.cli`` entry point group)."""

from __future__ import annotations

import json
import sys
import traceback

import click

from prism_testkit.lab_cli import (
    data_option,
    json_object,
    layer_choices,
    open_lab,
    scenes_option,
    split_ref,
)


@click.command("run-script")
@click.argument("script", metavar="SCRIPT[@VERSION]")
@click.option("--scene", required=True, help="the request's scene")
@click.option("--user", "user_id", required=True, help="the request's user id")
@click.option("--context", "context_json", default="{}", metavar="JSON", help="request context")
@click.option("--size", default=20, type=click.IntRange(1, 200), show_default=True)
@click.option("--bucket", default=None, help="run with this bucket's config (default: the first)")
@click.option("--config", "config_name", default=None, help="the script's named config instead")
@click.option("--params", "params_json", default=None, metavar="JSON", help="parameters on top")
@click.option("--layer", "layers", multiple=True, metavar="LAYER=BUCKET", help="a layer's override")
@data_option
@scenes_option
@click.option("--json", "as_json", is_flag=True, help="print the run as JSON")
def run_script(
    script: str,
    scene: str,
    user_id: str,
    context_json: str,
    size: int,
    bucket: str | None,
    config_name: str | None,
    params_json: str | None,
    layers: tuple[str, ...],
    data_source: str,
    scenes_file: str | None,
    as_json: bool,
) -> None:
    """Run SCRIPT (the working tree's, or at VERSION: a commit, branch or tag) for one
    request of --scene and --user on this machine, and print its trace: the config and
    overrides, every stage with its time, counts and candidates, the data-source calls and
    round trips, and the items recommend returned (before the node's dedupe and cut).

    The config is what the scene's bucket serves, as a node would build it: the bucket's
    named config (or --config), then --params, then each --layer's override."""
    from prism_platform.cli.debug import trace_lines

    path, version = split_ref(script)
    context = json_object(context_json, "--context") or {}
    params = json_object(params_json, "--params")
    lab = open_lab(data_source, scenes_file)
    strategy = lab.strategy(path, version)
    ctx = lab.context(
        scene,
        user_id,
        strategy=strategy,
        bucket=bucket,
        config=config_name,
        params=params,
        layers=layer_choices(layers),
        context=context,
        size=size,
    )
    try:
        run = lab.run(ctx)
    except Exception as exc:
        for st in ctx.trace.stages:
            click.echo(json.dumps(st.as_dict()), err=True)
        click.secho(f"{strategy.ref} raised {type(exc).__name__}: {exc}", fg="red", err=True)
        click.echo("".join(traceback.format_exception(exc)[-3:]), err=True)
        sys.exit(1)
    answer = run.as_answer(lab.item_rows(run.ids))
    if as_json:
        click.echo(json.dumps(answer, indent=2, ensure_ascii=False, default=str))
        return
    lines = trace_lines(answer)
    calls = ", ".join(f"{k} {n}" for k, n in sorted(run.calls.items())) or "none"
    lines.insert(lines.index("items"), f"data-source calls: {calls}")
    click.echo("\n".join(lines))
