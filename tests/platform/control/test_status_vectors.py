"""``prism status`` (``GET /admin/status``) shows the vector tables a node serves and a
version it failed to load, and the Redis table rows it keeps."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import numpy as np
import pytest
import redis
from fastapi.testclient import TestClient

from prism_platform.app import PrismApp
from prism_sdk import DataClient, Read, RedisBackend
from prism_sdk.data.vectors import Vectors, VectorTable
from prism_testkit.services import RedisServer


def table(seed: int) -> VectorTable:
    rng = np.random.default_rng(seed)
    ids = [f"i{n}" for n in range(50)]
    return VectorTable(
        Vectors.of(["u1"], rng.normal(size=(1, 4))), Vectors.of(ids, rng.normal(size=(50, 4)))
    )


@pytest.fixture
def backend(
    app: PrismApp, redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[RedisBackend]:
    """The app's data backend: a Redis one, on a fresh prefix."""
    backend = RedisBackend.from_url(redis_server.url, prefix=f"test-{uuid.uuid4().hex}:")
    monkeypatch.setattr(app.control.deployer, "backend", backend)
    yield backend
    backend.close()


def test_status_shows_the_served_version_and_the_one_that_failed(
    backend: RedisBackend, client: TestClient, redis_server: RedisServer
) -> None:
    backend.replace_vectors("emb", table(0))
    data = DataClient(backend)
    assert len(data.nearest("emb", "u1", 5)) == 5
    old = backend.vectors.status()["emb"]["version"]
    backend.replace_vectors("emb", table(1))
    new = backend.client.get(backend.vectors.head("emb") + "p").decode()  # type: ignore[union-attr]
    redis.Redis.from_url(redis_server.url).delete(f"{backend.vectors.head('emb')}{new}:i:0")
    data.nearest("emb", "u1", 5)  # notices version 2; its build fails
    backend.vectors.wait(30)
    vectors = client.get("/admin/status").json()["vectors"]
    assert vectors["emb"]["version"] == old and vectors["emb"]["items"] == 50
    assert f"version {new}" in vectors["emb"]["error"] and "missing" in vectors["emb"]["error"]


def test_status_shows_the_table_rows_the_node_keeps(
    backend: RedisBackend, client: TestClient
) -> None:
    backend.replace_table("i2i", {"1": [("2", 1.0), ("3", 0.5)]})
    for _ in range(2):
        backend.read([Read("table", ["1", "9"], "i2i")])
    kept = client.get("/admin/status").json()["row_cache"]
    assert kept["keys"] == 2 and kept["rows"] == 3 and kept["hits"] == 2
    assert kept["max_rows"] == 500_000
