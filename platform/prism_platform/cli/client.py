"""What the command modules share: talking to a running node over HTTP (``--url``,
``--wait``), JSON options, JSON output, and logging setup. It imports no command module."""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import Any

import click
import httpx

DEFAULT_URL = "http://127.0.0.1:8000"

url_option = click.option(
    "--url", default=lambda: os.environ.get("PRISM_URL", DEFAULT_URL), show_default=DEFAULT_URL
)

wait_option = click.option(
    "--wait",
    default=10.0,
    type=click.FloatRange(0, 60),
    show_default=True,
    help="seconds to wait until every node serves the change",
)


def open_client(url: str) -> httpx.Client:
    """An HTTP client of the node at ``url`` (tests replace it to call an app in-process)."""
    return httpx.Client(
        base_url=url, headers={"X-Prism-Actor": os.environ.get("USER", "cli")}, timeout=30
    )


def call(url: str, method: str, path: str, **kw: Any) -> Any:
    """One call on a fresh client: the JSON body, or a ClickException saying what failed."""
    with open_client(url) as c:
        return request(c, url, method, path, **kw)


def request(c: httpx.Client, url: str, method: str, path: str, **kw: Any) -> Any:
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


def json_option(text: str, name: str) -> Any:
    """The value of option ``name`` parsed as JSON (a usage error when it is not JSON)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint=name) from None


def echo(obj: Any) -> None:
    """Print ``obj`` as indented JSON."""
    click.echo(json.dumps(obj, indent=2, ensure_ascii=False))


def setup_logging(level: str) -> None:
    """Log records at ``level`` and above to standard error."""
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
