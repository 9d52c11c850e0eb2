"""What :class:`~prism_sdk.data.RedisBackend` builds on: its value codecs and its
redis-py clients (RESP2, cluster URLs, the read budget).

Result-table values have two formats, told apart by their first byte:

* format 2 (written since the columnar decode): ``0xC1`` (a byte msgpack never
  uses) then the msgpack pair ``[[item, ...], bin]`` where ``bin`` holds the scores
  as little-endian float64, decoded in one call into a :class:`ScoredRows`;
* format 1 (data loaded before): the msgpack list ``[[item, score], ...]``, still read.
"""

from __future__ import annotations

import struct
import sys
from array import array
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec

from ._base import Event, Scored
from .scored import ScoredRows

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
decode_event = msgspec.msgpack.Decoder(Event).decode

ROWS_V2 = 0xC1
_decode_columns = msgspec.msgpack.Decoder(tuple[list[str], memoryview]).decode
_decode_pairs = msgspec.msgpack.Decoder(list[tuple[str, float]]).decode
_SWAP = sys.byteorder != "little"


def encode_rows(rows: Iterable[Scored]) -> bytes:
    """One result-table value in format 2."""
    ids: list[str] = []
    scores = array("d")
    for item, score in rows:
        ids.append(item)
        scores.append(score)
    if _SWAP:
        scores.byteswap()
    return bytes((ROWS_V2,)) + encode((ids, scores.tobytes()))


def decode_rows(value: bytes) -> ScoredRows:
    """A result-table value of either format."""
    scores = array("d")
    if value[0] == ROWS_V2:
        ids, packed = _decode_columns(memoryview(value)[1:])
        scores.frombytes(packed)
        if _SWAP:
            scores.byteswap()
        return ScoredRows(ids, scores)
    pairs = _decode_pairs(value)
    scores.fromlist([s for _, s in pairs])
    return ScoredRows([i for i, _ in pairs], scores)


def chunks(it: Iterable[T], n: int = CHUNK) -> Iterator[list[T]]:
    iterator = iter(it)
    while chunk := list(islice(iterator, n)):
        yield chunk


def connect(
    url: str, *, cluster: bool = False, timeout_ms: float | None = None, **kwargs: Any
) -> tuple[Client, Client | None]:
    """The client, and with ``timeout_ms`` a second one for reads: that socket timeout on
    connect, send and receive unless a read budget applies (:mod:`.redis_budget`), and
    no retries (redis-py's default retries with backoff would turn a dead server into
    seconds per read). ``redis+cluster://`` (or ``cluster=True``) uses RedisCluster."""
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

    from .redis_budget import connection_class

    budget = {"socket_timeout": timeout_ms / 1000, "socket_connect_timeout": timeout_ms / 1000}
    reader = {**kwargs, **budget, "retry": Retry(NoBackoff(), 0)}
    return client, open_url(url, **reader, connection_class=connection_class(url))


def round_trip(client: Client, commands: Sequence[tuple[Any, ...]]) -> list[Any]:
    """The raw replies to ``commands``, sent in one write.

    A cluster client runs a pipeline (one round trip per node). A plain client sends
    them on one pooled connection itself: the same wire traffic as a pipeline without
    its per-command bookkeeping. A failure closes that connection (a reply left unread
    would answer the next caller) and raises the first error, like a pipeline.
    """
    from redis.cluster import RedisCluster

    if isinstance(client, RedisCluster):
        pipe: Any = client.pipeline(transaction=False)  # type: ignore[no-untyped-call]
        for command in commands:
            pipe.execute_command(*command)
        replies: list[Any] = pipe.execute()
        return replies
    pool = client.connection_pool
    conn: Any = pool.get_connection()
    try:
        conn.send_packed_command(conn.pack_commands(commands))
        return [conn.read_response() for _ in commands]
    except BaseException:
        conn.disconnect()
        raise
    finally:
        pool.release(conn)


def connection_errors() -> tuple[type[BaseException], ...]:
    """What means "the server is unreachable or slow" (not a bad command); a cluster
    client that cannot reach a node to refresh its slots says so too."""
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import RedisClusterException
    from redis.exceptions import TimeoutError as RedisTimeoutError

    return (RedisConnectionError, RedisTimeoutError, RedisClusterException, OSError)


def timed_out(exc: BaseException) -> bool:
    """Whether a connection error means "slower than the budget" (else: unreachable)."""
    from redis.exceptions import TimeoutError as RedisTimeoutError

    return isinstance(exc, RedisTimeoutError) or isinstance(exc.__cause__, RedisTimeoutError)
