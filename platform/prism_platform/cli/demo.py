"""``prism demo``: build the embedded demo world and simulate its users' traffic."""

from __future__ import annotations

import click

from prism_platform.cli import client
from prism_platform.cli.client import echo, request, save_token, setup_logging, url_option


@click.group()
def demo() -> None:
    """The embedded demo world."""


@demo.command("seed")
def demo_seed() -> None:
    """Build (or load from var/) the demo data and create the demo scenes if missing."""
    from prism_platform.app import create_app
    from prism_platform.control.local import bootstrap_admin, local_actor
    from prism_platform.settings import Settings

    setup_logging("info")
    app = create_app(Settings())
    snap = app.control.state.snapshot
    first = bootstrap_admin(app.control.accounts, local_actor())
    app.control.close()
    click.echo(f"demo ready: scenes {', '.join(sorted(snap.scenes))}")
    if first is not None:
        path = save_token(first.token)
        click.secho("first start: created user 'admin' (shown once, keep them)", bold=True)
        click.echo(f"  password: {first.password}    (workbench, POST /auth/login)")
        click.echo(f"  token:    {first.token}    (saved to {path} for this CLI)")


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

    from prism_platform.demo.simulate import TrafficSimulator
    from prism_platform.demo.world import generate_world
    from prism_platform.settings import Settings

    world = generate_world(**Settings().demo_sizes)  # the world `prism demo seed` built
    with client.open_client(url) as c:  # looked up now: tests replace open_client
        result = TrafficSimulator(
            world, lambda path, body: request(c, url, "POST", path, json=body), seed=seed
        ).run(scene, users, size)
    echo(dataclasses.asdict(result))
