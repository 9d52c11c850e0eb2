"""Platform fixtures shared by the command-line tests, and the documented traffic
assignment worked out independently of ``prism_sdk`` (the oracle of routing tests)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import make_url

from prism_testkit.faults import FaultProxy
from prism_testkit.postgres import PostgresServer

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


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


@pytest.fixture
def proxied_postgres(postgres: PostgresServer) -> Iterator[tuple[str, FaultProxy]]:
    """A fresh database on the test PostgreSQL server reached through a fault proxy: its
    URL through the proxy, and the proxy. The URL carries a password (trust
    authentication ignores it) for a test to look for in logs and answers."""
    url = make_url(postgres.create_database())
    with FaultProxy(url.host or "127.0.0.1", url.port or 5432) as proxy:
        password = "db-password-" + secrets.token_hex(8)
        through = url.set(host="127.0.0.1", port=proxy.port, password=password)
        yield through.render_as_string(hide_password=False), proxy


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


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    """One local Spark (``local[2]``, tuned for tiny data) for every Spark test of the run:
    the JVM starts once. ``make test`` installs the ``[spark]`` extra: its absence fails."""
    from prism_platform.jobs.spark.session import SparkMissing, open_session

    try:
        session = open_session(
            "local[2]",
            {
                "spark.sql.shuffle.partitions": "4",
                "spark.default.parallelism": "2",
                "spark.driver.memory": "1g",
                "spark.sql.adaptive.enabled": "false",  # tiny data: planning is the cost
            },
        )
    except SparkMissing as exc:
        pytest.fail(str(exc))
    yield session
    session.stop()
