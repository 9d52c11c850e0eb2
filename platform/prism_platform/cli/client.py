"""What the command modules share: talking to a running node over HTTP (``--url``,
``--wait``), JSON options, JSON output, and logging setup. It imports no command module."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

import click
import httpx

DEFAULT_URL = "http://127.0.0.1:8000"

url_option = click.option(
    "--url",
    default=lambda: os.environ.get("PRISM_URL", DEFAULT_URL),
    show_default=f"PRISM_URL, else {DEFAULT_URL}",
    help="the node to talk to",
)

wait_option = click.option(
    "--wait",
    default=10.0,
    type=click.FloatRange(0, 60),
    show_default=True,
    help="seconds to wait until every node serves the change",
)


TOKEN_FILE = "cli-token"
_token: list[str] = []  # --token of this invocation


def use_token(token: str | None) -> None:
    """The token given with ``prism --token`` (wins over the environment and the file)."""
    _token[:] = [token] if token else []


def token_file() -> Path:
    """Where ``prism login`` and ``make run`` keep the CLI's token (readable only by the
    user): ``PRISM_TOKEN_FILE``, else ``$PRISM_VAR_DIR/cli-token``."""
    named = os.environ.get("PRISM_TOKEN_FILE")
    return Path(named) if named else Path(os.environ.get("PRISM_VAR_DIR", "var")) / TOKEN_FILE


def current_token() -> str | None:
    """``--token``, else ``PRISM_TOKEN``, else the token file's, else none."""
    if _token:
        return _token[0]
    if os.environ.get("PRISM_TOKEN"):
        return os.environ["PRISM_TOKEN"]
    try:
        return token_file().read_text().strip() or None
    except OSError:
        return None


def save_token(token: str) -> Path:
    """Write the token file, readable and writable by its owner only."""
    path = token_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    path.chmod(0o600)
    return path


def open_client(url: str) -> httpx.Client:
    """An HTTP client of the node at ``url``, sending the CLI's token (tests replace it
    to call an app in-process)."""
    token = current_token()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=url, headers=headers, timeout=30)


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
        if r.status_code == 401:
            msg = f"{msg} (prism login, --token, PRISM_TOKEN or {token_file()})"
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
