"""The event log on Redis: one Stream (XADD), idempotent by event id.

One Lua script per batch (atomic): forget ids and count keys older than the retention,
then for each event check its id (a sorted set of ids) and its token's claims (a sorted
set of count keys, :func:`~.event.claims`: the key must be new and one of the slots, if
any, free); only then record them and ``XADD`` the event. The keys share the hash tag
``{<prefix>events}``, so this works on a Redis Cluster too. An id or count key is
forgotten only once an event carrying it would be rejected as stale (or its token as
expired) anyway. Durability is Redis's: run it with ``appendonly yes`` and
``appendfsync always`` for an fsync before the reply (``everysec`` risks one second).

Consumers read through Stream consumer groups: ``XREADGROUP`` shares the new entries
among a group's consumers, ``XAUTOCLAIM`` hands an entry left unacknowledged for the
claim idle time to the consumer asking, ``XACK`` acknowledges. ``XTRIM`` never passes
the lowest entry any group has not acknowledged; consumers with nothing pending and idle
for a day are removed by ``trim`` (``XGROUP DELCONSUMER``), so the consumers of restarted
processes do not pile up.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import msgspec
from redis.exceptions import ResponseError

from prism_platform.events.event import StoredEvent, claims
from prism_platform.events.offset import offset_order

_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder(StoredEvent).decode
SCAN_PAGE = 5000
MAX_SEQ = 2**63 - 1  # the sequence part of the offset just before ``<ms>-0``

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


PRESENT = """
local out = {}
for _, id in ipairs(ARGV) do
  if #redis.call('XRANGE', KEYS[1], id, id) > 0 then out[#out + 1] = id end
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
    def __init__(
        self,
        client: Any,
        prefix: str = "prism:",
        keep_ids_s: float = 7 * 86400,
        keep_consumers_s: float = 86400,
    ) -> None:
        self.client = client
        self.stream = f"{{{prefix}events}}"
        self.ids = f"{self.stream}:ids"
        self.keys = f"{self.stream}:keys"
        self.keep_ids_s = keep_ids_s
        self.keep_consumers_s = keep_consumers_s
        self.name = f"redis:{self.stream}"
        self._append = client.register_script(APPEND)
        self._present = client.register_script(PRESENT)
        self._claim_from: dict[str, str] = {}  # the XAUTOCLAIM cursor of each group

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
        the entries below ``before`` + 1, ``older_than`` and every group's lowest
        unacknowledged entry go. The id set forgets ids on its own (on each append, after
        ``keep_ids_s``)."""
        if not before:
            return 0
        ms, seq = offset_order(before)
        lows = self._unacked()
        minid = min((ms, seq + 1), (max(0, int(older_than * 1000)), 0), *lows.values())
        gone = self.client.xtrim(self.stream, minid="-".join(map(str, minid)), approximate=False)
        self._forget_idle_consumers(lows)
        return int(gone)

    def join(self, group: str, start: str, rewind: bool = False) -> None:
        """``XGROUP CREATE … MKSTREAM``; with ``rewind``, ``XGROUP SETID`` (the pending
        entries stay pending)."""
        try:
            self.client.xgroup_create(self.stream, group, id=start or "0", mkstream=True)
        except ResponseError as exc:
            if not str(exc).startswith("BUSYGROUP"):
                raise
            if rewind:
                self.client.xgroup_setid(self.stream, group, id=start or "0")

    def consume(
        self, group: str, consumer: str, limit: int, claim_idle_s: float
    ) -> list[tuple[str, StoredEvent]]:
        """``XAUTOCLAIM`` from where the last one stopped, then ``XREADGROUP >`` for the
        rest of ``limit``."""
        cursor, claimed, *_ = self.client.xautoclaim(
            self.stream,
            group,
            consumer,
            int(claim_idle_s * 1000),
            start_id=self._claim_from.get(group, "0-0"),
            count=limit,
        )
        self._claim_from[group] = _text(cursor)
        gone = [eid for eid, fields in claimed if fields is None]  # deleted (Redis < 7)
        if gone:
            self.client.xack(self.stream, group, *gone)
        entries = [(eid, fields) for eid, fields in claimed if fields is not None]
        if len(entries) < limit:
            streams = {self.stream: ">"}
            for _, new in self.client.xreadgroup(
                group, consumer, streams, count=limit - len(entries)
            ):
                entries += new
        return [(_text(eid), _decode(fields[b"e"])) for eid, fields in entries]

    def ack(self, group: str, offsets: Sequence[str]) -> None:
        for start in range(0, len(offsets), SCAN_PAGE):
            self.client.xack(self.stream, group, *offsets[start : start + SCAN_PAGE])

    def present(self, offsets: Sequence[str]) -> set[str]:
        """One script per 5,000 offsets: an ``XRANGE id id`` each."""
        found: set[str] = set()
        for start in range(0, len(offsets), SCAN_PAGE):
            chunk = offsets[start : start + SCAN_PAGE]
            found.update(map(_text, self._present(keys=[self.stream], args=chunk)))
        return found

    def acked(self, group: str) -> str:
        low = self._unacked().get(group)
        if low is None:
            return ""
        ms, seq = low
        ms, seq = (ms, seq - 1) if seq else (ms - 1, MAX_SEQ)
        return f"{ms}-{seq}" if ms >= 0 and (ms, seq) != (0, 0) else ""

    def _unacked(self) -> dict[str, tuple[int, int]]:
        """Each group's lowest offset not acknowledged: its oldest pending entry, else the
        one after the last it delivered."""
        try:
            groups = self.client.xinfo_groups(self.stream)
        except ResponseError:  # no stream yet
            return {}
        lows: dict[str, tuple[int, int]] = {}
        for info in groups:
            name = _text(info["name"])
            ms, seq = offset_order(_text(info["last-delivered-id"]))
            lows[name] = (ms, seq + 1)
            if info["pending"]:
                oldest = self.client.xpending(self.stream, name)["min"]
                if oldest is not None:  # else acknowledged meanwhile
                    lows[name] = offset_order(_text(oldest))
        return lows

    def _forget_idle_consumers(self, groups: Iterable[str]) -> None:
        for group in groups:
            for info in self.client.xinfo_consumers(self.stream, group):
                if not info["pending"] and info["idle"] >= self.keep_consumers_s * 1000:
                    self.client.xgroup_delconsumer(self.stream, group, info["name"])

    def forget_user(self, user_id: str) -> int:
        """``XDEL`` the user's entries, found by one ``XRANGE`` scan of the stream (the
        id and count-key sets keep their members until the retention)."""
        return forget_entries(self.client, self.stream, b"e", user_id, lambda b: _decode(b).user_id)

    def close(self) -> None:
        self.client.close()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


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
