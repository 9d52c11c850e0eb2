"""SDK test fixtures: private Redis servers for the Redis data backend, and every data
backend holding the same data (``make_backend``)."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
import uvicorn
from fastapi import FastAPI, Request

from prism_platform.api.data import build_data_router
from prism_platform.errors import Unauthenticated
from prism_sdk import DataBackend, LocalBackend, MockBackend, RedisBackend, RemoteBackend
from prism_sdk.data import DataWriter
from prism_testkit.services import RedisServer

REDIS_URL_ENV = "PRISM_TEST_REDIS_URL"
BACKEND_KINDS = ("local", "local-persisted", "mock", "redis", "remote", "remote-over-redis")
Fill = Callable[[DataWriter], object]
MakeBackend = Callable[[str, Fill], DataBackend]


def _shared_token_only(request: Request) -> None:
    raise Unauthenticated("no accounts here: the shared data API token only")


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


@pytest.fixture
def make_backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MakeBackend]:
    """``make_backend(kind, fill)``: a backend of ``kind`` (see ``BACKEND_KINDS``) holding
    what ``fill`` writes, closed after the test. ``local-persisted`` is saved and loaded
    again, ``mock`` answers from a local backend, ``redis`` uses a fresh key prefix on the
    session's Redis, ``remote`` is a local backend behind the real data API (uvicorn),
    ``remote-over-redis`` such a ``redis`` one."""
    made: list[DataBackend] = []

    def make(kind: str, fill: Fill) -> DataBackend:
        if kind in ("redis", "remote-over-redis"):
            url = request.getfixturevalue("redis_url")
            redis = RedisBackend.from_url(url, prefix=f"test-{uuid.uuid4().hex}:")
            fill(redis)
            backend: DataBackend = redis
            if kind == "remote-over-redis":
                made.append(redis)
                backend = serve_backend(redis)
        else:
            local = LocalBackend()
            fill(local)
            if kind == "local-persisted":
                path = tmp_path_factory.mktemp("local") / "data.msgpack"
                local.save(path)
                backend = LocalBackend.load(path)
            elif kind == "mock":
                backend = MockBackend(lambda r: local.read([r])[0])
            elif kind == "remote":
                backend = serve_backend(local)
            else:
                backend = local
        made.append(backend)
        return backend

    yield make
    for backend in made:
        backend.close()


def serve_backend(served: DataBackend) -> RemoteBackend:
    """``served`` through the real data API by uvicorn on a free port."""
    api = FastAPI()
    api.include_router(build_data_router(served, reader=_shared_token_only, legacy_token="s3cret"))
    server = uvicorn.Server(uvicorn.Config(api, log_level="warning", lifespan="off"))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the data API server did not start"
        time.sleep(0.01)
    remote = RemoteBackend(f"http://127.0.0.1:{sock.getsockname()[1]}", "s3cret")

    def close() -> None:
        RemoteBackend.close(remote)
        server.should_exit = True
        thread.join(10)
        sock.close()

    remote.close = close  # type: ignore[method-assign]
    return remote
