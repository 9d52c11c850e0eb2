"""SDK test fixtures: private Redis servers for the Redis data backend."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from prism_testkit.services import RedisServer

from ..conftest import start_redis_or_fail

REDIS_URL_ENV = "PRISM_TEST_REDIS_URL"


@pytest.fixture(scope="session")
def redis_url(redis_server: RedisServer) -> Iterator[str]:
    """The URL of the session's ``redis-server`` (exported as PRISM_TEST_REDIS_URL)."""
    previous = os.environ.get(REDIS_URL_ENV)
    os.environ[REDIS_URL_ENV] = redis_server.url
    try:
        yield redis_server.url
    finally:
        if previous is None:
            os.environ.pop(REDIS_URL_ENV, None)
        else:
            os.environ[REDIS_URL_ENV] = previous


@pytest.fixture(scope="session")
def redis_cluster_url() -> Iterator[str]:
    """The ``redis+cluster://`` URL of a one-node Redis Cluster started for this session."""
    server = start_redis_or_fail(cluster=True)
    try:
        yield server.url
    finally:
        server.stop()
