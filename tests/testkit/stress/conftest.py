"""Targets for the stress tests: a tiny asyncio HTTP server that answers after a known
delay, one request at a time (so its capacity is known), and a real demo node with a
sample of its own traffic (``prism samples export``)."""

from __future__ import annotations

import asyncio
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from prism_testkit.cluster import Cluster, demo_env, prism, seed_demo

REPO = Path(__file__).resolve().parents[3]


@dataclass
class DelayServer:
    """``POST`` answers ``{"degraded": false}`` after ``delay_s``, serving one request at a
    time over all connections: it holds ``1 / delay_s`` requests a second. ``GET`` answers
    the same after ``get_delay_s`` (default at once: a trivial endpoint, as ``/healthz``).
    ``close_after_answer``: drop each connection after its answer without saying so (as a
    server that closes an idle keep-alive connection does)."""

    delay_s: float
    close_after_answer: bool = False
    get_delay_s: float = 0.0
    body: bytes = b'{"degraded": false}'
    port: int = 0
    served: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def serve(self, ready: threading.Event, stop: asyncio.Event) -> None:
        lock = asyncio.Lock()
        handlers: set[asyncio.Task[None]] = set()

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            handlers.add(task)
            try:
                while True:
                    head = await reader.readuntil(b"\r\n\r\n")
                    length = 0
                    for line in head.split(b"\r\n"):
                        if line.lower().startswith(b"content-length:"):
                            length = int(line.split(b":")[1])
                    await reader.readexactly(length)
                    async with lock:
                        await asyncio.sleep(
                            self.delay_s if head.startswith(b"POST") else self.get_delay_s
                        )
                    self.served += 1
                    writer.write(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        b"Content-Length: %d\r\n\r\n%s" % (len(self.body), self.body)
                    )
                    await writer.drain()
                    if self.close_after_answer:
                        break
            except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
                pass
            finally:
                writer.close()
                handlers.discard(task)

        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
        self.port = server.sockets[0].getsockname()[1]
        ready.set()
        async with server:
            await stop.wait()
            for task in list(handlers):
                task.cancel()
            await asyncio.gather(*handlers, return_exceptions=True)


@pytest.fixture
def delay_server() -> Iterator[Callable[..., DelayServer]]:
    """``delay_server(delay_s, close_after_answer=False, get_delay_s=0, body=...)``: a
    started DelayServer."""
    started: list[tuple[threading.Thread, asyncio.AbstractEventLoop, asyncio.Event]] = []

    def start(
        delay_s: float,
        close_after_answer: bool = False,
        get_delay_s: float = 0.0,
        body: bytes = DelayServer.body,
    ) -> DelayServer:
        server = DelayServer(delay_s, close_after_answer, get_delay_s, body)
        loop = asyncio.new_event_loop()
        stop = asyncio.Event()
        ready = threading.Event()
        thread = threading.Thread(
            target=loop.run_until_complete, args=(server.serve(ready, stop),), daemon=True
        )
        thread.start()
        assert ready.wait(5), "the delay server did not start"
        started.append((thread, loop, stop))
        return server

    yield start
    for thread, loop, stop in started:
        loop.call_soon_threadsafe(stop.set)
        thread.join(5)
        loop.close()


@dataclass(frozen=True)
class SampledNode:
    url: str
    env: dict[str, str]
    sample: Path
    """``prism samples export`` of the node's ``home_feed`` traffic."""


@pytest.fixture(scope="session")
def sampled_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SampledNode]:
    """A demo node (``prism serve``) that served some ``home_feed`` requests, and their
    sample. The tests only read from it."""
    work = tmp_path_factory.mktemp("stress-node")
    strategies = work / "strategies"
    shutil.copytree(REPO / "strategies", strategies, ignore=shutil.ignore_patterns("__pycache__"))
    env = demo_env(work, strategies, scale=0.04)
    seed_demo(env)
    cluster = Cluster(work, env)
    try:
        url = cluster.start_node().url
        env = {**env, "PRISM_URL": url}
        with httpx.Client(base_url=url, timeout=10) as c:
            for n in range(200):
                body = {"scene": "home_feed", "user_id": str(n % 90), "size": 10}
                assert c.post("/v1/recommend", json=body).status_code == 200
        sample = work / "home_feed.jsonl"
        prism(["samples", "export", "--scene", "home_feed", "--out", str(sample)], env)
        yield SampledNode(url, env, sample)
    finally:
        cluster.stop()
