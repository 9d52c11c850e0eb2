"""Credentials for tests and tools that drive a node: a user of a role with a fresh API
token, made through the node's control facade (in-process) or read from the token file
that ``prism demo seed`` writes (separate processes)."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from pathlib import Path

from prism_platform.control.facade import Control

_serial = itertools.count(1)


def grant(control: Control, role: str = "admin", name: str | None = None) -> dict[str, str]:
    """``Authorization`` headers of a new token-only user of ``role``."""
    name = name or f"{role.replace('-', '_')}{next(_serial)}"
    control.accounts.add_user(name, role, None, actor="testkit")
    issued = control.accounts.create_token(name, name="testkit", actor="testkit")
    return {"Authorization": f"Bearer {issued.token}"}


def seeded_headers(env: Mapping[str, str]) -> dict[str, str]:
    """The headers of the admin token ``prism demo seed`` saved under ``PRISM_VAR_DIR``."""
    token = (Path(env["PRISM_VAR_DIR"]) / "cli-token").read_text().strip()
    return {"Authorization": f"Bearer {token}"}


def local_admin_headers(env: Mapping[str, str], name: str = "bench") -> dict[str, str]:
    """Make (or reuse) token-only admin ``name`` in the database of ``env`` with the local
    ``prism user``/``prism token`` commands, and return headers with a new token of it."""
    from prism_testkit.cluster import prism

    if f'"name": "{name}"' not in prism(["user", "list"], env):
        prism(["user", "add", name, "--role", "admin", "--no-password"], env)
    token = prism(["token", "create", "--user", name, "--name", "bench"], env).strip()
    return {"Authorization": f"Bearer {token}"}


def local_user(env: Mapping[str, str], name: str, role: str, password: str) -> None:
    """Make user ``name`` of ``role`` with a password in the database of ``env`` through the
    local ``prism user add --password-stdin`` (the password goes on standard input)."""
    from prism_testkit.cluster import prism

    args = ["user", "add", name, "--role", role, "--password-stdin"]
    prism(args, env, timeout=60, stdin=password + "\n")
