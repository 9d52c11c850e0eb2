"""``prism cluster up|status|down``: a production-shaped Prism on this machine (three
nodes behind no load balancer, ZooKeeper, Redis Cluster, PostgreSQL), for trying an
upgrade or a deploy across nodes before production does. Registered through the
``prism.cli`` entry points; docs/operators/production.md."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .local_cluster import (
    ADMIN_FILE,
    DEFAULT_POSTGRES,
    TOKEN_FILE,
    ClusterError,
    LocalCluster,
    Plan,
    start,
)

dir_option = click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("var/cluster"),
    show_default=True,
    help="the cluster's state, settings and logs",
)


@click.group()
def cluster() -> None:
    """A small production topology on this machine: ZooKeeper, Redis Cluster, a PostgreSQL
    database and N nodes on consecutive ports, seeded with the demo world."""


@cluster.command("up")
@dir_option
@click.option("--nodes", type=click.IntRange(1, 32), default=3, show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8100, show_default=True,
              help="the first node's port; the others follow")  # fmt: skip
@click.option("--postgres", default=DEFAULT_POSTGRES, show_default=True,
              help="a database of a running server, to create the cluster's through")  # fmt: skip
@click.option("--database", default="prism_cluster", show_default=True,
              help="the metadata database to create (it must not exist)")  # fmt: skip
@click.option("--scale", type=click.FloatRange(0.001, 1), default=0.2, show_default=True,
              help="size of the demo world (1: the full one of make run)")  # fmt: skip
@click.option("--redis", "redis_kind", type=click.Choice(("cluster", "single")),
              default="cluster", show_default=True,
              help="a one-node Redis Cluster (its rules hold) or a plain Redis")  # fmt: skip
@click.option("--timeout", type=click.FloatRange(1), default=180, show_default=True,
              help="seconds for the nodes to be ready")  # fmt: skip
def up(
    folder: Path,
    nodes: int,
    port: int,
    postgres: str,
    database: str,
    scale: float,
    redis_kind: str,
    timeout: float,
) -> None:
    """Start the services and the nodes (they outlive this command) and print the nodes'
    URLs. The nodes read the other PRISM_* variables of this environment, e.g.
    PRISM_STRATEGIES_DIR."""
    plan = Plan(folder, nodes, port, postgres, database, scale, redis_kind == "cluster", timeout)
    try:
        c = start(plan)
    except ClusterError as exc:
        raise click.ClickException(str(exc)) from None
    for record, url in zip(c.nodes, c.urls, strict=True):
        click.echo(f"{record.name}  {url}  (log {record.log})")
    click.echo(f"settings:  {c.env_file}  (set -a; . {c.env_file}; set +a)")
    click.echo(f"admin:     token in {c.folder / TOKEN_FILE}, password in {c.folder / ADMIN_FILE}")
    click.echo(f"stop:      prism cluster down --dir {folder}")


@cluster.command("status")
@dir_option
def status(folder: Path) -> None:
    """Each service and node: running, answering, ready (JSON); exit 1 unless all are."""
    try:
        report = LocalCluster.load(folder).status()
    except ClusterError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(json.dumps(report, indent=2))
    sys.exit(0 if report["ok"] else 1)


@cluster.command("down")
@dir_option
@click.option("--keep", is_flag=True, help="keep the folder (logs) and the database")
def down(folder: Path, keep: bool) -> None:
    """Stop the nodes, ZooKeeper and Redis; drop the database and delete the folder."""
    try:
        stopped = LocalCluster.load(folder).down(keep=keep)
    except ClusterError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"stopped: {', '.join(stopped) or 'nothing was running'}")
