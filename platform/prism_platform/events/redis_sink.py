"""The event log on Redis: one Stream (XADD), idempotent by event id.

One Lua script per batch (atomic): forget ids and count keys older than the retention,
then for each event check its id (a sorted set of ids) and its token's claims (a sorted
set of count keys, :func:`~.event.claims`: the key must be new and one of the slots, if
any, free); only then record them and ``XADD`` the event. The keys share the hash tag
``{<prefix>events}``, so this works on a Redis Cluster too. An id or count key is
forgotten only once an event carrying it would be rejected as stale (or its token as
expired) anyway. Durability is Redis's: run it with ``appendonly yes`` and
``appendfsync always`` for an fsync before the reply (``everysec`` risks one second).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from prism_platform.events.event import StoredEvent, claims

_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder(StoredEvent).decode
SCAN_PAGE = 5000

APPEND = """
local now = tonumber(ARGV[1])
local oldest = now - tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', oldest)
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', oldest)
local out = {}
for i = 3, #ARGV, 4 do
  local id, key, slots = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local new = not redis.call('ZSCORE', KEYS[2], id)
  local claim = nil
  if new and key ~= '' then
    new = not redis.call('ZSCORE', KEYS[3], key)
    if new and slots ~= '' then
      new = false
      for slot in string.gmatch(slots, '%S+') do
        if not redis.call('ZSCORE', KEYS[3], slot) then
          claim, new = slot, true
          break
        end
      end
    end
  end
  if new then
    redis.call('ZADD', KEYS[2], now, id)
    if key ~= '' then redis.call('ZADD', KEYS[3], now, key) end
    if claim then redis.call('ZADD', KEYS[3], now, claim) end
    redis.call('XADD', KEYS[1], '*', 'e', ARGV[i + 3])
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
return out
"""


def redis_client(url: str) -> Any:
    """A client for ``redis://`` or ``redis+cluster://`` (as :meth:`RedisBackend.from_url`
    reads)."""
    scheme, sep, rest = url.partition("://")
    if scheme.endswith("+cluster"):
        from redis.cluster import RedisCluster

        return RedisCluster.from_url(f"{scheme.removesuffix('+cluster')}{sep}{rest}")
    from redis import Redis

    return Redis.from_url(url)


class RedisSink:
    def __init__(self, client: Any, prefix: str = "prism:", keep_ids_s: float = 7 * 86400) -> None:
        self.client = client
        self.stream = f"{{{prefix}events}}"
        self.ids = f"{self.stream}:ids"
        self.keys = f"{self.stream}:keys"
        self.keep_ids_s = keep_ids_s
        self.name = f"redis:{self.stream}"
        self._append = client.register_script(APPEND)

    @classmethod
    def from_url(cls, url: str, prefix: str = "prism:", keep_ids_s: float = 7 * 86400) -> RedisSink:
        return cls(redis_client(url), prefix, keep_ids_s)

    def append(self, events: Sequence[StoredEvent]) -> list[bool]:
        if not events:
            return []
        args: list[Any] = [time.time(), self.keep_ids_s]
        for ev in events:
            key, slots = claims(ev)
            args += [ev.event_id, key, " ".join(slots), _encode(ev)]
        flags = self._append(keys=[self.stream, self.ids, self.keys], args=args)
        return [bool(f) for f in flags]

    def read(self, after: str, limit: int) -> list[tuple[str, StoredEvent]]:
        entries = self.client.xrange(self.stream, min=f"({after}" if after else "-", count=limit)
        return [(eid.decode(), _decode(fields[b"e"])) for eid, fields in entries]

    def trim(self, before: str, older_than: float) -> int:
        """``XTRIM MINID``: stream ids are ``<ms>-<seq>`` of the time Redis added them, so
        the entries below both ``before`` + 1 and ``older_than`` go. The id set forgets
        ids on its own (on each append, after ``keep_ids_s``)."""
        if not before:
            return 0
        ms, _, seq = before.partition("-")
        minid = min((int(ms), int(seq or 0) + 1), (max(0, int(older_than * 1000)), 0))
        return int(
            self.client.xtrim(self.stream, minid="-".join(map(str, minid)), approximate=False)
        )

    def forget_user(self, user_id: str) -> int:
        """``XDEL`` the user's entries, found by one ``XRANGE`` scan of the stream (the
        id and count-key sets keep their members until the retention)."""
        return forget_entries(self.client, self.stream, b"e", user_id, lambda b: _decode(b).user_id)

    def close(self) -> None:
        self.client.close()


def forget_entries(
    client: Any,
    stream: str,
    field: bytes,
    user_id: str,
    user_of: Callable[[bytes], str],
    needle: bytes | None = None,
) -> int:
    """Delete the entries of ``stream`` whose ``field`` names ``user_id`` (a page of
    ``XRANGE`` at a time; a value without ``needle``, the id as encoded in it (default:
    its UTF-8 bytes, as msgpack stores it), is not decoded); how many."""
    needle = user_id.encode() if needle is None else needle
    start, done = "-", 0
    while True:
        entries = client.xrange(stream, min=start, count=SCAN_PAGE)
        gone = [
            eid
            for eid, fields in entries
            if needle in fields[field] and user_of(fields[field]) == user_id
        ]
        if gone:
            done += int(client.xdel(stream, *gone))
        if len(entries) < SCAN_PAGE:
            return done
        start = f"({entries[-1][0].decode()}"
