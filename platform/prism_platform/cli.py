"""The ``prism`` command line."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import click
import httpx

if TYPE_CHECKING:
    from .settings import Settings

DEFAULT_URL = "http://127.0.0.1:8000"


def _setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )


class _Prism(click.Group):
    """Reports a bad ``PRISM_*`` variable as a one-line error, not a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        from .settings import SettingsError

        try:
            return super().invoke(ctx)
        except SettingsError as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=_Prism)
@click.version_option(package_name="prism-rec")
def main() -> None:
    """Prism: a scenario-scripting recommendation platform."""


# -- serving -------------------------------------------------------------------------
def _prepare_workers(settings: Settings) -> None:
    """Before N workers start: one /metrics directory for them all, and the demo data
    built once (by a seed subprocess) rather than by every worker at the same time."""
    from .demo.seed import demo_cached
    from .metrics_share import run_directory

    if not settings.metrics_dir:
        os.environ["PRISM_METRICS_DIR"] = str(run_directory(settings.var_dir))
    if settings.demo and settings.data_backend == "local":
        if not demo_cached(settings.var_dir, **settings.demo_sizes):
            cmd = [sys.executable, "-m", "prism_platform", "demo", "seed"]
            if subprocess.run(cmd, check=False).returncode:
                raise click.ClickException("building the demo data failed (see above)")


@main.command()
@click.option(
    "--host", default=lambda: os.environ.get("HOST", "127.0.0.1"), show_default="127.0.0.1"
)
@click.option(
    "--port", default=lambda: os.environ.get("PORT", "8000"), type=int, show_default="8000"
)
@click.option("--workers", default=1, type=click.IntRange(min=1), show_default=True)
@click.option("--log-level", default="info", show_default=True)
@click.option("--watch", is_flag=True, help="reload working-tree strategies when they change")
def serve(host: str, port: int, workers: int, log_level: str, watch: bool) -> None:
    """Serve the platform (the embedded demo unless configured otherwise)."""
    import uvicorn

    from .settings import Settings

    _setup_logging(log_level)
    settings = Settings()  # a bad PRISM_* variable stops here, named, before any worker starts
    if workers > 1:
        _prepare_workers(settings)
    if watch:
        os.environ["PRISM_WATCH"] = "1"
    os.environ.setdefault("PRISM_NODE_ADDR", f"{host}:{port}")
    os.environ["PRISM_WORKERS"] = str(workers)
    uvicorn.run(
        "prism_platform.asgi:app",
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        access_log=False,
        loop="uvloop",
        http="httptools",
    )


@main.group()
def db() -> None:
    """The metadata database."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply migrations to PRISM_DATABASE_URL (default: SQLite under var/)."""
    from .db import MetadataStore
    from .settings import Settings

    settings = Settings()
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    MetadataStore(settings.db_url).upgrade()
    click.echo(f"database at head: {settings.db_url}")


@main.group()
def demo() -> None:
    """The embedded demo world."""


@demo.command("seed")
def demo_seed() -> None:
    """Build (or load from var/) the demo data and create the demo scenes if missing."""
    from .app import create_app
    from .settings import Settings

    _setup_logging("info")
    app = create_app(Settings())
    snap = app.platform.state.snapshot
    click.echo(f"demo ready: scenes {', '.join(sorted(snap.scenes))}")


@main.command()
@click.argument("script")
@click.option("--params", default="{}", help="config parameters as JSON")
@click.option(
    "--scene", default=None, help="scene for the sample requests (default: the script's stem)"
)
@click.option("--user", "users", multiple=True, default=("1", "2", "3"), show_default=True)
@click.option("--context", "context_json", default="{}", help="request context as JSON")
def check(
    script: str, params: str, scene: str | None, users: tuple[str, ...], context_json: str
) -> None:
    """Load SCRIPT from the working tree, validate it and run it on sample requests."""
    from .checking import check_script

    ok = check_script(
        script,
        _json_option(params, "--params"),
        scene,
        users,
        _json_option(context_json, "--context"),
    )
    sys.exit(0 if ok else 1)


# -- talking to a running node ---------------------------------------------------------
def _client(url: str) -> httpx.Client:
    return httpx.Client(
        base_url=url, headers={"X-Prism-Actor": os.environ.get("USER", "cli")}, timeout=30
    )


def _call(url: str, method: str, path: str, **kw: Any) -> Any:
    with _client(url) as c:
        return _request(c, url, method, path, **kw)


def _request(c: httpx.Client, url: str, method: str, path: str, **kw: Any) -> Any:
    """One call on an open client: the JSON body, or a ClickException saying what failed."""
    try:
        r = c.request(method, path, **kw)
    except httpx.HTTPError as exc:
        raise click.ClickException(f"cannot reach {url}: {exc}") from None
    body = r.json() if r.headers.get("content-type", "").startswith("application/json") else r.text
    if r.status_code >= 400:
        msg = body.get("message", body) if isinstance(body, dict) else body
        raise click.ClickException(f"{r.status_code}: {msg}")
    return body


def _json_option(text: str, name: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint=name) from None


url_option = click.option(
    "--url", default=lambda: os.environ.get("PRISM_URL", DEFAULT_URL), show_default=DEFAULT_URL
)


def _echo(obj: Any) -> None:
    click.echo(json.dumps(obj, indent=2, ensure_ascii=False))


wait_option = click.option(
    "--wait",
    default=10.0,
    type=click.FloatRange(0, 60),
    show_default=True,
    help="seconds to wait until every node serves the change",
)


def _rolled_out(result: dict[str, Any]) -> None:
    """Print a deploy/rollback result; fail when not every node serves it in time."""
    _echo(result)
    rollout = result.get("rollout", {})
    if not rollout.get("complete", True):
        late = [n["node"] for n in rollout["nodes"] if n["generation"] < rollout["generation"]]
        raise click.ClickException(
            f"live on some nodes only: {', '.join(late) or 'no node reported'} "
            f"did not report generation {rollout['generation']} in time"
        )


@main.command()
@url_option
def status(url: str) -> None:
    """What the node serves: scenes, buckets, strategy@version, config."""
    _echo(_call(url, "GET", "/admin/status"))


@main.command()
@url_option
@click.option("--scene", required=True)
@click.option("--bucket", default="base", show_default=True)
@click.option("--script", required=True, help="path under strategies/, e.g. home_feed.py")
@click.option("--config", "config_name", default="default", show_default=True)
@click.option("--version", default="worktree", show_default=True)
@click.option("--note", default="")
@click.option(
    "--canary",
    "canary_percent",
    type=click.FloatRange(0, 100, min_open=True, max_open=True),
    default=None,
    help="serve only this percentage of the bucket (the rest keeps the current deployment)",
)
@wait_option
def deploy(
    url: str,
    scene: str,
    bucket: str,
    script: str,
    config_name: str,
    version: str,
    note: str,
    canary_percent: float | None,
    wait: float,
) -> None:
    """Deploy SCRIPT with a named config to a scene bucket; waits until every node serves it."""
    body = {
        "scene": scene,
        "bucket": bucket,
        "script": script,
        "config": config_name,
        "version": version,
        "note": note,
        "wait_s": wait,
        "canary_percent": canary_percent,
    }
    _rolled_out(_call(url, "POST", "/admin/deployments", json=body))


@main.command("config")
@url_option
@click.argument("script")
@click.argument("name")
@click.option("--params", default="{}", help="parameters as JSON")
def config_cmd(url: str, script: str, name: str, params: str) -> None:
    """Create or update the config NAME of SCRIPT (validated against its Config)."""
    body = {"script": script, "name": name, "params": _json_option(params, "--params")}
    _echo(_call(url, "POST", "/admin/configs", json=body))


read_timeout_option = click.option(
    "--read-timeout-ms",
    type=int,
    default=None,
    help="budget of a request's data reads [default: PRISM_REDIS_TIMEOUT_MS]",
)


@main.command()
@url_option
@click.option("--name", required=True)
@click.option("--description", default="")
@click.option("--deadline-ms", default=80, type=int, show_default=True)
@read_timeout_option
def scene(
    url: str, name: str, description: str, deadline_ms: int, read_timeout_ms: int | None
) -> None:
    """Create a scene (with a default experiment of one bucket, `base`)."""
    body = {"name": name, "description": description, "deadline_ms": deadline_ms}
    if read_timeout_ms is not None:
        body["read_timeout_ms"] = read_timeout_ms
    _echo(_call(url, "POST", "/admin/scenes", json=body))


@main.command("scene-set")
@url_option
@click.argument("name")
@click.option("--description", default=None)
@click.option("--deadline-ms", type=int, default=None)
@click.option("--max-size", type=int, default=None)
@read_timeout_option
@click.option("--default-read-timeout", is_flag=True, help="back to PRISM_REDIS_TIMEOUT_MS")
def scene_set(url: str, name: str, default_read_timeout: bool, **changes: Any) -> None:
    """Change settings of the scene NAME (only the options given)."""
    body = {k: v for k, v in changes.items() if v is not None}
    if default_read_timeout:
        body["read_timeout_ms"] = None
    if not body:
        raise click.UsageError("nothing to change: give at least one option")
    _echo(_call(url, "PATCH", f"/admin/scenes/{name}", json=body))


@main.command()
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
        "context": _json_option(context_json, "--context"),
        "debug": debug,
    }
    _echo(_call(url, "POST", "/v1/recommend", json=body))


@main.command()
@url_option
@click.argument("deployment_id", required=False, type=int)
@click.option(
    "--scene", default=None, help="with --bucket: roll back to the bucket's previous deployment"
)
@click.option("--bucket", default="base", show_default=True)
@wait_option
def rollback(
    url: str, deployment_id: int | None, scene: str | None, bucket: str, wait: float
) -> None:
    """Serve an earlier deployment again: by DEPLOYMENT_ID, or the previous one of a bucket."""
    if deployment_id is not None:
        path = f"/admin/deployments/{deployment_id}/rollback"
    elif scene:
        path = f"/admin/scenes/{scene}/buckets/{bucket}/rollback"
    else:
        raise click.UsageError("give a DEPLOYMENT_ID or --scene (and --bucket)")
    _rolled_out(_call(url, "POST", path, json={"wait_s": wait}))


@main.command()
@url_option
@click.option("--remote", default="origin", show_default=True)
def fetch(url: str, remote: str) -> None:
    """Fetch the strategies repository's remote: its new commits become deployable."""
    _echo(_call(url, "POST", "/admin/scripts/fetch", json={"remote": remote}))


@main.command()
@url_option
@click.argument("script")
@click.option("--limit", default=20, type=int, show_default=True)
def versions(url: str, script: str, limit: int) -> None:
    """Commits that changed SCRIPT, newest first: commit, author, date, message."""
    for c in _call(url, "GET", "/admin/scripts/versions", params={"path": script, "limit": limit}):
        click.echo(f"{c['commit'][:12]}  {c['date']}  {c['author']}  {c['message']}")


@main.command()
@url_option
@click.option("--scene", default=None)
@click.option("--limit", default=20, type=int, show_default=True)
def history(url: str, scene: str | None, limit: int) -> None:
    """Deployments, newest first."""
    params: dict[str, Any] = {"limit": limit}
    if scene:
        params["scene"] = scene
    _echo(_call(url, "GET", "/admin/deployments", params=params))


@demo.command("simulate")
@click.option("--users", default=1000, show_default=True, help="distinct simulated users")
@click.option("--scene", default="home_feed", show_default=True)
@click.option("--size", default=10, show_default=True, help="items per request")
@click.option("--seed", default=0, show_default=True, help="seed of the users' choices")
@url_option
def demo_simulate(users: int, scene: str, size: int, seed: int, url: str) -> None:
    """Demo users request SCENE from the node at --url, click by their latent tastes and
    report exposures, clicks, carts and orders to /v1/events (the node logs the features
    its models scored: `prism job train-ranker` then trains on them)."""
    import dataclasses

    from .demo.simulate import TrafficSimulator
    from .demo.world import generate_world
    from .settings import Settings

    world = generate_world(**Settings().demo_sizes)  # the world `prism demo seed` built
    with _client(url) as c:
        result = TrafficSimulator(
            world, lambda path, body: _request(c, url, "POST", path, json=body), seed=seed
        ).run(scene, users, size)
    _echo(dataclasses.asdict(result))


from .cli_data import data  # noqa: E402  (the `prism data` commands)
from .cli_eval import eval_  # noqa: E402  (`prism eval`)
from .cli_events import events, experiments  # noqa: E402  (`prism events`, `prism experiments`)
from .cli_experiments import experiment, stop_layer  # noqa: E402  (`prism experiment`)
from .cli_jobs import JOB_COMMANDS  # noqa: E402  (`prism job itemcf|usercf|popular|content|all`)
from .cli_models import job, models  # noqa: E402  (`prism models`, `prism job`)

for _command in JOB_COMMANDS:
    job.add_command(_command)

main.add_command(data)
main.add_command(models)
main.add_command(job)
main.add_command(events)
main.add_command(experiments)
main.add_command(experiment)
main.add_command(stop_layer)
main.add_command(eval_)
