"""Strategy scripts on a running node: ``prism config``, ``fetch`` and ``versions``."""

from __future__ import annotations

import click

from prism_platform.cli.client import call, echo, json_option, url_option


@click.command("config")
@url_option
@click.argument("script")
@click.argument("name")
@click.option("--params", default="{}", help="parameters as JSON")
@click.option(
    "--version", default=None, help="validate against the script at this commit, branch or tag"
)
def config_cmd(url: str, script: str, name: str, params: str, version: str | None) -> None:
    """Create or update the config NAME of SCRIPT (validated against its Config, as in the
    working tree or at --version)."""
    body = {"script": script, "name": name, "params": json_option(params, "--params")}
    if version is not None:
        body["version"] = version
    echo(call(url, "POST", "/admin/configs", json=body))


@click.command()
@url_option
@click.option("--remote", default="origin", show_default=True)
def fetch(url: str, remote: str) -> None:
    """Fetch the strategies repository's remote: its new commits become deployable."""
    echo(call(url, "POST", "/admin/scripts/fetch", json={"remote": remote}))


@click.command()
@url_option
@click.argument("script")
@click.option("--limit", default=20, type=int, show_default=True)
def versions(url: str, script: str, limit: int) -> None:
    """Commits that changed SCRIPT, newest first: commit, author, date, message."""
    for c in call(url, "GET", "/admin/scripts/versions", params={"path": script, "limit": limit}):
        click.echo(f"{c['commit'][:12]}  {c['date']}  {c['author']}  {c['message']}")
