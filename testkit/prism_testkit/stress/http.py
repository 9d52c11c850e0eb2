"""A minimal HTTP/1.1 client on asyncio streams, for the open-loop sender: persistent
connections, one request at a time on each, bodies with a ``Content-Length`` (or chunked).

A general client (httpx, asyncio) spent ~1.5 ms of CPU on each request here; on a small
machine that, not the node, set the measured capacity (~250 requests/s). This one spends
~0.2 ms, so one Python process drives a node several times harder. It speaks only what a
load test needs: no redirects, no cookies, no proxies."""

from __future__ import annotations

import asyncio
import ssl
import time
from dataclasses import dataclass
from types import TracebackType
from urllib.parse import urlsplit

MAX_IDLE_S = 2.0
"""Reuse a kept-alive connection only this long after its last answer (uvicorn closes one
idle for 5 s)."""


class HTTPFailure(Exception):
    """The connection failed, closed early or answered what this client cannot read."""


class _Stale(Exception):
    """The exchange failed on the connection (it is closed)."""


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.idle_since = 0.0

    async def exchange(self, request: bytes) -> tuple[Response, bool]:
        """Send ``request``; the response and whether the connection may be reused."""
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
            raise HTTPFailure(f"not an HTTP/1.x status line: {lines[0][:80]!r}")
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        keep = headers.get("connection", "").lower() != "close" and parts[0] == "HTTP/1.1"
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body = await self._chunks()
        else:
            body, keep = await self.reader.read(), False  # the body runs to the close
        return Response(int(parts[1]), body), keep

    async def _chunks(self) -> bytes:
        out = bytearray()
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")  # the empty line (no trailers)
                return bytes(out)
            out += await self.reader.readexactly(size)
            await self.reader.readexactly(2)

    def close(self) -> None:
        self.writer.close()


class Client:
    """``async with Client(url, max_connections) as c: await c.post(path, body)``.

    A request takes an idle connection or opens one; the caller keeps at most
    ``max_connections`` requests outstanding (the sender's in-flight cap)."""

    def __init__(self, url: str, max_connections: int, timeout_s: float) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.ssl = ssl.create_default_context() if parts.scheme == "https" else None
        self.prefix = parts.path.rstrip("/")
        self.host_header = parts.netloc
        self.max_connections = max_connections
        self.timeout_s = timeout_s
        self._idle: list[_Connection] = []

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        while self._idle:
            self._idle.pop().close()

    def _request(self, method: str, path: str, body: bytes) -> bytes:
        head = (
            f"{method} {self.prefix}{path} HTTP/1.1\r\nHost: {self.host_header}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        return head.encode("latin-1") + body

    async def request(self, method: str, path: str, body: bytes = b"") -> Response:
        """One exchange; ``HTTPFailure`` when the connection fails, ``TimeoutError`` when
        no full answer came within the timeout. When a kept-alive connection fails (the
        server closed it meanwhile), the request is sent once more on a new one."""
        request = self._request(method, path, body)
        async with asyncio.timeout(self.timeout_s):
            conn = self._reusable()
            try:
                if conn is None:
                    conn = await self._open()
                    response, keep = await self._exchange(conn, request)
                else:
                    try:
                        response, keep = await self._exchange(conn, request)
                    except _Stale:
                        conn = await self._open()
                        response, keep = await self._exchange(conn, request)
            except _Stale as exc:
                raise HTTPFailure(str(exc)) from None
        if keep and len(self._idle) < self.max_connections:
            conn.idle_since = time.monotonic()
            self._idle.append(conn)
        else:
            conn.close()
        return response

    def _reusable(self) -> _Connection | None:
        """The most recently used idle connection, if the server cannot have dropped it
        for idling yet (those idle longer are closed)."""
        horizon = time.monotonic() - MAX_IDLE_S
        while self._idle:
            conn = self._idle.pop()
            if conn.idle_since >= horizon:
                return conn
            conn.close()
        return None

    @staticmethod
    async def _exchange(conn: _Connection, request: bytes) -> tuple[Response, bool]:
        try:
            return await conn.exchange(request)
        except (OSError, EOFError, ValueError, asyncio.LimitOverrunError, HTTPFailure) as exc:
            conn.close()  # IncompleteReadError is an EOFError; a garbled head a ValueError
            raise _Stale(f"{type(exc).__name__}: {exc}") from exc
        except BaseException:  # a timeout or a cancellation mid-answer: not reusable
            conn.close()
            raise

    async def post(self, path: str, body: bytes) -> Response:
        return await self.request("POST", path, body)

    async def get(self, path: str) -> Response:
        return await self.request("GET", path)

    async def _open(self) -> _Connection:
        try:
            reader, writer = await asyncio.open_connection(self.host, self.port, ssl=self.ssl)
        except OSError as exc:
            raise HTTPFailure(f"cannot connect to {self.host}:{self.port}: {exc}") from None
        return _Connection(reader, writer)
