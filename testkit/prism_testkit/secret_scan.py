"""Look for secrets in logs: API tokens by their shape, acm keys and saved tokens by the
files they live in, and any value a caller names (a database password, say).

``make test`` runs it over the logs of the whole run (``tests/conftest.py``): every node
log the tests' clusters wrote and every record the in-process apps logged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from prism_platform.accounts.credentials import TOKEN_PREFIX

TOKEN = re.compile(r"(?<![\w-])" + re.escape(TOKEN_PREFIX) + r"[\w-]{43}(?![\w-])", re.ASCII)
"""A whole API token (``new_token``: the prefix and 32 random bytes, base64url); the
audit log's short prefix of a token is not one."""

SECRET_FILES = {"acm.key": "acm key", "cli-token": "saved API token"}
"""Files that hold one secret each, by name, under a node's var dir."""

MIN_LENGTH = 12
"""Shorter values are not looked for: a test's ``"s3cret"`` is a word, not a secret."""


@dataclass(frozen=True)
class Leak:
    path: Path
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}"


def secrets_under(root: Path) -> dict[str, str]:
    """The secret held by every acm key and saved-token file under ``root``, with where
    it came from."""
    found: dict[str, str] = {}
    for name, kind in SECRET_FILES.items():
        for path in root.rglob(name):
            value = path.read_text(errors="replace").strip()
            if len(value) >= MIN_LENGTH:
                found[value] = f"{kind} of {path.parent}"
    return found


def leaks(logs: Iterable[Path], secrets: Mapping[str, str]) -> list[Leak]:
    """Each line of ``logs`` that holds a whole API token or one of ``secrets`` (value →
    what it is)."""
    wanted = {value: what for value, what in secrets.items() if len(value) >= MIN_LENGTH}
    found: list[Leak] = []
    for path in logs:
        with path.open(errors="replace") as lines:
            for number, line in enumerate(lines, 1):
                if TOKEN.search(line):
                    found.append(Leak(path, number, "an API token"))
                found.extend(Leak(path, number, what) for v, what in wanted.items() if v in line)
    return found
