"""Platform fixtures shared by the command-line tests, and the documented traffic
assignment worked out independently of ``prism_sdk`` (the oracle of routing tests)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import pytest


@pytest.fixture
def env(tmp_path: Path, strategies_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``PRISM_*`` for a local backend under ``tmp_path/var`` served with PRISM_DEMO=0."""
    var = tmp_path / "var"
    monkeypatch.setenv("PRISM_VAR_DIR", str(var))
    monkeypatch.setenv("PRISM_DEMO", "0")
    monkeypatch.setenv("PRISM_DATA_BACKEND", "local")
    monkeypatch.setenv("PRISM_STRATEGIES_DIR", str(strategies_dir))
    monkeypatch.setenv("PRISM_DATABASE_URL", f"sqlite:///{tmp_path}/prism.db")
    return var


def documented_slot(user_id: str, salt: str) -> int:
    """The user's slot of 1,000 as the SDK documents it (``prism_sdk._assign``), computed
    here with hashlib, not by ``prism_sdk``: the first 8 bytes of md5("<salt>:<user_id>"),
    big-endian, modulo 1000."""
    digest = hashlib.md5(f"{salt}:{user_id}".encode(), usedforsecurity=False).digest()
    return int.from_bytes(digest[:8], "big") % 1000


def documented_bucket(user_id: str, salt: str, buckets: Sequence[tuple[str, float]]) -> str:
    """The bucket that owns the user's slot: a bucket of ``p`` percent owns
    ``round(p * 10)`` consecutive slots, buckets in their configured order."""
    slot, upper = documented_slot(user_id, salt), 0
    for name, percent in buckets:
        upper += round(percent * 10)
        if slot < upper:
            return name
    raise AssertionError(f"{buckets} do not cover slot {slot}")
