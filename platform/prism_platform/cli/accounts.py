"""``prism user``, ``prism token`` (local: on the metadata database, so the first admin
can be made before a node runs), ``prism login`` (asks a node for a session token) and
``prism user forget`` (asks a node to delete an end user's data)."""

from __future__ import annotations

import dataclasses
import re
import sys
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import click

from prism_platform.cli.client import call, echo, save_token, url_option


def _settings() -> Any:
    from prism_platform.settings import Settings

    return Settings()


def _password(from_stdin: bool, confirm: bool = True) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(click.prompt("password", hide_input=True, confirmation_prompt=confirm))


def _duration(text: str | None) -> timedelta | None:
    if text is None:
        return None
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([smhd])", text.strip())
    if m is None:
        raise click.BadParameter("like 30d, 12h, 90m or 3600s", param_hint="--expires")
    unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[m.group(2)]
    return timedelta(**{unit: float(m.group(1))})


def _as_json(record: Any) -> Any:
    return json_ready(dataclasses.asdict(record))


def json_ready(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: json_ready(v) for k, v in obj.items()}
    return obj.isoformat() if hasattr(obj, "isoformat") else obj


@click.group()
def user() -> None:
    """Users of the metadata database (local); ``forget``: an end user's data on a node."""


@user.command("forget")
@url_option
@click.argument("user_id")
def user_forget(url: str, user_id: str) -> None:
    """Delete end user USER_ID's data (as recommend requests and events name them, not an
    account) from every store of the node at --url: events, per-user counts, the data
    backend's events, features, u2i rows and vectors, the feature log, sampled requests,
    replay files. Prints how many entries each store deleted; needs an admin's token.
    Running it again is safe (it deletes nothing more)."""
    path = f"/admin/user-data/{quote(user_id, safe='')}"
    echo(call(url, "DELETE", path))


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["viewer", "operator", "admin", "data-reader"]))
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
@click.option("--no-password", is_flag=True, help="token-only user (no password login)")
def user_add(name: str, role: str, password_stdin: bool, no_password: bool) -> None:
    """Create user NAME with a role (the password is asked for, never an argument)."""
    from prism_platform.control.local import local_accounts, local_actor

    password = None if no_password else _password(password_stdin)
    with local_accounts(_settings()) as accounts:
        echo(_as_json(accounts.add_user(name, role, password, actor=local_actor())))


@user.command("list")
def user_list() -> None:
    """Every user with their role."""
    from prism_platform.control.local import local_accounts

    with local_accounts(_settings()) as accounts:
        echo([_as_json(u) for u in accounts.users()])


@click.group()
def token() -> None:
    """API tokens (local): create one (shown once), list, revoke."""


@token.command("create")
@click.option("--user", "user_name", required=True)
@click.option("--name", default="api", show_default=True, help="a label for the listing")
@click.option("--expires", default=None, help="lifetime, e.g. 30d or 12h (default: none)")
def token_create(user_name: str, name: str, expires: str | None) -> None:
    """Create a token for --user and print it (only its digest is stored)."""
    from prism_platform.control.local import local_accounts, local_actor

    ttl = _duration(expires)
    with local_accounts(_settings()) as accounts:
        issued = accounts.create_token(user_name, name=name, expires_in=ttl, actor=local_actor())
    click.echo(issued.token)
    click.echo(f"token {issued.record.id} of {user_name}: shown once, store it now", err=True)


@token.command("list")
@click.option("--user", "user_name", default=None)
def token_list(user_name: str | None) -> None:
    """Tokens (id, user, label, prefix, expiry, revocation); never the tokens themselves."""
    from prism_platform.control.local import local_accounts

    with local_accounts(_settings()) as accounts:
        echo([_as_json(t) for t in accounts.tokens(user_name)])


@token.command("revoke")
@click.argument("token_id", type=int)
def token_revoke(token_id: int) -> None:
    """Revoke token TOKEN_ID (nodes stop accepting it within 5 seconds)."""
    from prism_platform.control.local import local_accounts, local_actor

    with local_accounts(_settings()) as accounts:
        echo(_as_json(accounts.revoke_token(token_id, actor=local_actor())))


@click.command()
@url_option
@click.option("--user", "user_name", prompt=True)
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
def login(url: str, user_name: str, password_stdin: bool) -> None:
    """Sign in to the node at --url: its 12-hour token goes to the CLI's token file."""
    password = _password(password_stdin, confirm=False)
    answer = call(url, "POST", "/auth/login", json={"user": user_name, "password": password})
    path = save_token(answer["token"])
    click.echo(f"signed in as {user_name} until {answer['expires_at']}; token in {path}")
