"""SDK test fixtures: private Redis servers for the Redis data backend."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from prism_testkit.services import ServiceUnavailable, start_redis

REDIS_URL_ENV = "PRISM_TEST_REDIS_URL"


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """The URL of a ``redis-server`` started for this session (exported as PRISM_TEST_REDIS_URL)."""
    try:
        server = start_redis()
    except ServiceUnavailable as exc:
        pytest.fail(f"the Redis tests need a local redis-server: {exc}")
    previous = os.environ.get(REDIS_URL_ENV)
    os.environ[REDIS_URL_ENV] = server.url
    try:
        yield server.url
    finally:
        server.stop()
        if previous is None:
            os.environ.pop(REDIS_URL_ENV, None)
        else:
            os.environ[REDIS_URL_ENV] = previous


@pytest.fixture(scope="session")
def redis_cluster_url() -> Iterator[str]:
    """The ``redis+cluster://`` URL of a one-node Redis Cluster started for this session."""
    try:
        server = start_redis(cluster=True)
    except ServiceUnavailable as exc:
        pytest.fail(f"the Redis Cluster tests need a local redis-server: {exc}")
    try:
        yield server.url
    finally:
        server.stop()
