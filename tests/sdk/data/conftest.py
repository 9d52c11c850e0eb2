"""Redis servers for the data tests: each test gets a plain Redis, then a one-node
Redis Cluster, a fresh key prefix, and a writer and a serving node on it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis

from prism_sdk import RedisBackend


@pytest.fixture(params=["single", "cluster"])
def url(request: pytest.FixtureRequest) -> str:
    """A plain Redis, then a one-node Redis Cluster."""
    name = "redis_url" if request.param == "single" else "redis_cluster_url"
    return str(request.getfixturevalue(name))


@pytest.fixture
def admin(url: str) -> redis.Redis:
    """A plain client of the same server (a one-node cluster owns every slot)."""
    return redis.Redis.from_url(url.replace("redis+cluster://", "redis://"))


@pytest.fixture
def prefix() -> str:
    return f"test-{uuid.uuid4().hex}:"


@pytest.fixture
def writer(url: str, prefix: str) -> Iterator[RedisBackend]:
    backend = RedisBackend.from_url(url, prefix=prefix)
    yield backend
    backend.close()


@pytest.fixture
def node(url: str, prefix: str) -> Iterator[RedisBackend]:
    """A serving node of its own (its own copy of the set), as another process is."""
    backend = RedisBackend.from_url(url, prefix=prefix)
    yield backend
    backend.close()
