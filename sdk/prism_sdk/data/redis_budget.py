"""Read budgets for redis-py: socket timeouts from the caller's deadline.

The connections of the Redis backend's read client (:func:`connection_class`) take
every socket timeout (connecting, sending, waiting for each reply) from the deadline
that :func:`deadline` set for the calling context: what is left of it, so one round
trip never outlives its budget. Outside a deadline they keep the client's own
timeout (``PRISM_REDIS_TIMEOUT_MS``). A deadline already passed raises redis-py's
``TimeoutError`` without touching the socket.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from time import monotonic
from typing import Any

_DEADLINE: ContextVar[float | None] = ContextVar("prism_redis_read_deadline", default=None)


@contextmanager
def deadline(timeout_s: float) -> Iterator[None]:
    """Reads inside the block give up ``timeout_s`` from now."""
    token = _DEADLINE.set(monotonic() + timeout_s)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def _left(own: float | None) -> float | None:
    end = _DEADLINE.get()
    if end is None:
        return own
    left = end - monotonic()
    if left <= 0:
        from redis.exceptions import TimeoutError as RedisTimeoutError

        raise RedisTimeoutError("read budget spent")
    return left


class ReadBudget:
    """Mixin for a redis-py connection class (see :func:`connection_class`)."""

    socket_timeout: float | None
    socket_connect_timeout: float | None
    _sock: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._own_timeout = self.socket_timeout
        self._own_connect_timeout = self.socket_connect_timeout

    def _set_timeout(self) -> None:
        timeout = _left(self._own_timeout)
        sock = self._sock
        if sock is not None and sock.gettimeout() != timeout:
            sock.settimeout(timeout)

    def connect(self) -> None:
        # only the connect timeout changes: the reply parser keeps the client's own one
        self.socket_connect_timeout = _left(self._own_connect_timeout)
        super().connect()  # type: ignore[misc]

    def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        if self._sock is None:  # (re)connect here, under the budget
            self.connect()
        self._set_timeout()
        super().send_packed_command(command, check_health)  # type: ignore[misc]

    def read_response(self, *args: Any, **kwargs: Any) -> Any:
        self._set_timeout()
        return super().read_response(*args, **kwargs)  # type: ignore[misc]


def connection_class(url: str) -> type[Any]:
    """The budget-aware redis-py connection class for ``url``'s scheme."""
    from redis.connection import Connection, SSLConnection, UnixDomainSocketConnection

    scheme = url.partition("://")[0].removesuffix("+cluster")
    base = {"rediss": SSLConnection, "unix": UnixDomainSocketConnection}.get(scheme, Connection)
    return type(f"Budgeted{base.__name__}", (ReadBudget, base), {})
