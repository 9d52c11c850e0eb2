"""``prism samples export``: a scene's sampled requests from a node, as a JSONL file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click
import httpx

from prism_platform.cli import client
from prism_platform.cli.client import echo, url_option


@click.group()
def samples() -> None:
    """Sampled traffic: the replay log each node keeps (a scene's sample_rate of its users)."""


@samples.command("export")
@url_option
@click.option("--scene", required=True)
@click.option(
    "--since",
    default=None,
    help="only requests served since: a duration back from now (30s, 15m, 1h, 2d) "
    "or an ISO-8601 time with a timezone [default: all kept]",
)
@click.option("--limit", type=click.IntRange(1), default=None, help="at most N, oldest first")
@click.option(
    "--hash-users",
    is_flag=True,
    help="replace user ids by a hash keyed for this export only (a replay of the file then "
    "finds no user features)",
)
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
def export(
    url: str, scene: str, since: str | None, limit: int | None, hash_users: bool, out: Path
) -> None:
    """Write the node's sampled requests of SCENE to --out, one JSON object a line (the
    request, the buckets, strategy@version, the items and scores returned, latency)."""
    params: dict[str, Any] = {"scene": scene, "hash_users": hash_users}
    if since is not None:
        params["since"] = since
    if limit is not None:
        params["limit"] = limit
    partial = out.with_name(f".{out.name}.part")
    count = 0
    with client.open_client(url) as c:
        try:
            with c.stream("GET", "/admin/samples", params=params) as r:
                if r.status_code >= 400:
                    r.read()
                    _fail(r)
                out.parent.mkdir(parents=True, exist_ok=True)
                with open(partial, "wb") as f:
                    for line in r.iter_lines():
                        if line:
                            f.write(line.encode() + b"\n")
                            count += 1
        except httpx.HTTPError as exc:
            partial.unlink(missing_ok=True)
            raise click.ClickException(f"cannot reach {url}: {exc}") from None
    os.replace(partial, out)
    echo({"scene": scene, "samples": count, "hashed_users": hash_users, "out": str(out)})


def _fail(r: httpx.Response) -> None:
    body = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
    msg = body.get("message", r.text) if isinstance(body, dict) else r.text
    field = f" ({body['field']})" if isinstance(body, dict) and body.get("field") else ""
    if r.status_code == 401:
        msg = f"{msg} (prism login, --token, PRISM_TOKEN or {client.token_file()})"
    raise click.ClickException(f"{r.status_code}: {msg}{field}")
