"""A TCP proxy that injects faults between the platform and a real service (Redis,
PostgreSQL): added latency, dropped connections, refused connections.

Point the platform at :attr:`FaultProxy.url_for` of the service's URL, then change the
fault while it runs::

    with FaultProxy("127.0.0.1", redis.port) as proxy:
        backend = RedisBackend.from_url(proxy.url_for(redis.url))
        proxy.latency_s = 0.2   # every chunk each way waits 200 ms
        proxy.drop()            # cuts every open connection (the client sees a reset)
        proxy.refuse = True     # new connections are closed at once
        proxy.heal()            # no latency, connections accepted again

The proxy runs its own event loop in a daemon thread.
"""

from __future__ import annotations

import asyncio
import threading
from types import TracebackType
from urllib.parse import urlsplit, urlunsplit

from .services import free_port

CHUNK = 65536


class FaultProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.latency_s = 0.0
        self.refuse = False
        self.connections = 0
        """Connections accepted so far (refused ones included)."""
        self._writers: set[asyncio.StreamWriter] = set()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fault-proxy", daemon=True)
        self._server: asyncio.base_events.Server | None = None

    def url_for(self, url: str) -> str:
        """``url`` with its host and port replaced by the proxy's."""
        parts = urlsplit(url)
        auth = parts.netloc.rpartition("@")[0]
        netloc = f"{auth + '@' if auth else ''}127.0.0.1:{self.port}"
        return urlunsplit(parts._replace(netloc=netloc))

    def start(self) -> FaultProxy:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the fault proxy did not start")
        return self

    def drop(self) -> None:
        """Cut every open connection now."""
        self._loop.call_soon_threadsafe(self._drop_all)

    def heal(self) -> None:
        self.latency_s = 0.0
        self.refuse = False

    def stop(self) -> None:
        """Close every connection and the listening socket, then end the loop's thread."""
        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- the loop's side --------------------------------------------------------------
    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._accept, "127.0.0.1", self.port)
        )
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            self._loop.close()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        if self.refuse:
            _reset(writer)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            _reset(writer)
            return
        self._writers.update((writer, up_writer))
        await asyncio.gather(
            self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True
        )
        for w in (writer, up_writer):
            self._writers.discard(w)
            w.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            data = await reader.read(CHUNK)
            if not data:
                break
            if self.latency_s:
                await asyncio.sleep(self.latency_s)
            if writer.is_closing():
                break
            writer.write(data)
            await writer.drain()
        writer.close()

    async def _shutdown(self) -> None:
        assert self._server is not None
        self._server.close()
        self._drop_all()
        me = asyncio.current_task()
        pending = [t for t in asyncio.all_tasks() if t is not me]
        if pending:  # the aborted connections end their pipes by themselves
            _, stuck = await asyncio.wait(pending, timeout=5)
            for t in stuck:
                t.cancel()
        await self._server.wait_closed()
        await asyncio.sleep(0)  # the aborted transports close their sockets

    def _drop_all(self) -> None:
        for w in list(self._writers):
            _reset(w)
        self._writers.clear()


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a reset (``SO_LINGER`` 0), as a crashed peer or a firewall would."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        import socket
        import struct

        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    writer.transport.abort()
