"""What :class:`~prism_sdk.data.RedisBackend` builds on: its value codecs and its
redis-py clients (RESP2, cluster URLs, the read budget)."""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec

from ._base import Event

if TYPE_CHECKING:
    from redis import Redis
    from redis.cluster import RedisCluster

    Client = Redis | RedisCluster

T = TypeVar("T")

CHUNK = 1000
SEQ = struct.Struct(">Q")
"""The 8-byte write sequence that prefixes an event member."""


def _enc_hook(obj: Any) -> Any:
    if hasattr(obj, "item"):  # numpy scalars
        return obj.item()
    raise NotImplementedError(f"cannot store {type(obj).__name__}")


encode = msgspec.msgpack.Encoder(enc_hook=_enc_hook).encode
decode_any = msgspec.msgpack.Decoder().decode
decode_rows = msgspec.msgpack.Decoder(list[tuple[str, float]]).decode
decode_event = msgspec.msgpack.Decoder(Event).decode


def chunks(it: Iterable[T], n: int = CHUNK) -> Iterator[list[T]]:
    iterator = iter(it)
    while chunk := list(islice(iterator, n)):
        yield chunk


def connect(
    url: str, *, cluster: bool = False, timeout_ms: float | None = None, **kwargs: Any
) -> tuple[Client, Client | None]:
    """The client, and with ``timeout_ms`` a second one for reads: that socket timeout on
    connect, send and receive, and no retries (redis-py's default retries with backoff
    would turn a dead server into seconds per read). ``redis+cluster://`` (or
    ``cluster=True``) uses RedisCluster."""
    from redis import Redis
    from redis.cluster import RedisCluster

    scheme, sep, rest = url.partition("://")
    if scheme.endswith("+cluster"):
        url, cluster = f"{scheme.removesuffix('+cluster')}{sep}{rest}", True
    kwargs.setdefault("protocol", 2)
    open_url = RedisCluster.from_url if cluster else Redis.from_url
    client: Client = open_url(url, **kwargs)
    if timeout_ms is None:
        return client, None
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    budget = {"socket_timeout": timeout_ms / 1000, "socket_connect_timeout": timeout_ms / 1000}
    return client, open_url(url, **{**kwargs, **budget, "retry": Retry(NoBackoff(), 0)})


def connection_errors() -> tuple[type[BaseException], ...]:
    """What means "the server is unreachable or slow" (not a bad command)."""
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    return (RedisConnectionError, RedisTimeoutError, OSError)
