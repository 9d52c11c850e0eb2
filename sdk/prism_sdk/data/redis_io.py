"""What :class:`~prism_sdk.data.RedisBackend` builds on: its value codecs and its
redis-py clients (RESP2, cluster URLs, the read budget).

Result-table values have two formats, told apart by their first byte:

* format 2 (written since the columnar decode): ``0xC1`` (a byte msgpack never
  uses) then the msgpack pair ``[[item, ...], bin]`` where ``bin`` holds the scores
  as little-endian float64, decoded in one call into a :class:`ScoredRows`;
* format 1 (data loaded before): the msgpack list ``[[item, score], ...]``, still read.
"""

from __future__ import annotations

import secrets
import struct
import sys
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec
import numpy as np

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
    """numpy values as the Python values they hold (an array as a list); nothing else
    that msgspec does not store itself."""
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"cannot store a {type(obj).__name__} in Redis: {obj!r:.60}")


encode = msgspec.msgpack.Encoder(enc_hook=_enc_hook).encode
"""Any value msgspec stores (None, bools, integers in [-2**63, 2**64), floats, strings,
bytes, lists, tuples and dicts of them, and what it writes as strings: datetimes,
decimals, UUIDs…), numpy scalars and arrays (read back as lists, strings…). Anything
else is a ``TypeError``, an integer out of range an ``OverflowError``, a string that is
not UTF-8 (a lone surrogate) a ``UnicodeEncodeError``: refused when written, rather
than stored as something no read can decode."""
decode_any = msgspec.msgpack.Decoder().decode
decode_event = msgspec.msgpack.Decoder(Event).decode

ROWS_V2 = 0xC1
_V2 = bytes((ROWS_V2,))
_decode_columns = msgspec.msgpack.Decoder(tuple[list[str], memoryview]).decode
_decode_pairs = msgspec.msgpack.Decoder(list[tuple[str, float]]).decode
_SWAP = sys.byteorder != "little"


def encode_rows(rows: Iterable[Scored]) -> bytes:
    """One result-table value in format 2. A row whose id is not a string or whose score
    is not a number is a ``TypeError`` here, not an undecodable value at every read."""
    ids: list[str] = []
    scores = array("d")
    for item, score in rows:
        if not isinstance(item, str):
            raise TypeError(
                f"a table's item ids are strings, not {type(item).__name__}: {item!r:.60}"
            )
        ids.append(item)
        try:
            scores.append(score)
        except TypeError:
            raise TypeError(
                f"item {item!r:.60}: a score is a number, not {type(score).__name__}"
            ) from None
    if _SWAP:
        scores.byteswap()
    return _V2 + encode((ids, scores.tobytes()))


def decode_rows(value: bytes) -> ScoredRows:
    """A result-table value of either format."""
    scores = array("d")
    if value[:1] == _V2:  # (an empty value is format 1's decode error)
        ids, packed = _decode_columns(memoryview(value)[1:])
        scores.frombytes(packed)
        if _SWAP:
            scores.byteswap()
        return ScoredRows(ids, scores)
    pairs = _decode_pairs(value)
    scores.fromlist([s for _, s in pairs])
    return ScoredRows([i for i, _ in pairs], scores)


def encode_event(event: Event) -> bytes:
    """An event member's value, ``[ts, item, type]`` (behind the write sequence); an item
    or type that is not a string is a ``TypeError`` here, not an undecodable member."""
    ts, item, kind = event
    if not isinstance(item, str) or not isinstance(kind, str):
        raise TypeError(f"an event's item_id and type are strings: got {item!r:.60}, {kind!r:.60}")
    return encode((float(ts), item, kind))


GLOB_SPECIAL = str.maketrans({c: "\\" + c for c in "*?[]\\"})
"""``str.translate`` table: a literal key prefix as a SCAN ``MATCH`` pattern."""


def new_version(client: Client, counter: str) -> str:
    """A fresh version of a versioned table: its counter, then a random part. A counter
    that went back (a flushed database, a failover to a replica that lagged) never names
    a version a node still holds something under (decoded rows, an index)."""
    return f"{client.incr(counter)}.{secrets.token_hex(4)}"


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


def _hiredis_packer() -> Callable[[Sequence[tuple[Any, ...]]], list[bytes]] | None:
    """Commands as one RESP write by hiredis alone. redis-py's own packing passes every
    argument through its encoder in Python first (~0.7 µs an argument: 70 µs for a
    request's 100 keys); our commands hold only strings and numbers, which hiredis
    writes as that encoder would (UTF-8; ``repr`` of a number)."""
    try:
        from hiredis import pack_command
    except ImportError:  # redis-py then packs without hiredis too
        return None

    def pack(commands: Sequence[tuple[Any, ...]]) -> list[bytes]:
        return [b"".join(map(pack_command, commands))]  # (the chunks that send takes)

    return pack


_pack = _hiredis_packer()


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
        conn.send_packed_command(_pack(commands) if _pack else conn.pack_commands(commands))
        return [conn.read_response() for _ in commands]
    except BaseException:
        conn.disconnect()
        raise
    finally:
        pool.release(conn)


def ping_every_server(client: Client) -> None:
    """One command to each server ``client`` talks to (each node of a cluster), which
    leaves a connection to it in the pool."""
    from redis.cluster import RedisCluster

    if isinstance(client, RedisCluster):
        client.ping(target_nodes=RedisCluster.ALL_NODES)
    else:
        client.ping()


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
