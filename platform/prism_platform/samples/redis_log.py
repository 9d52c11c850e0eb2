"""Sampled requests in Redis: one Stream per scene, ``<prefix>samples:<scene>``, capped
with ``XADD ... MAXLEN ~ max_len`` (Redis trims whole nodes, so a stream may hold a
little more than ``max_len``; never fewer once it got there).

A batch is one pipeline of ``XADD``s. Stream ids are the milliseconds Redis stored an
entry at, never before the request was served, so ``read(since=...)`` starts at the id
of ``since`` and filters by serving time; ``trim`` (the age limit) is ``XTRIM MINID``,
``forget_user`` an ``XDEL`` of one user's entries.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import msgspec

from prism_platform.events.redis_sink import forget_entries, redis_client
from prism_platform.samples.log import window
from prism_platform.samples.record import Sample, decode, encode

PAGE = 1000
_GLOB_SPECIAL = str.maketrans({c: "\\" + c for c in "*?[]\\"})
json_encode = msgspec.json.Encoder().encode


def _user_of(value: bytes) -> str:
    return decode(value).user_id


class RedisSampleLog:
    def __init__(self, client: Any, prefix: str = "prism:", *, max_len: int) -> None:
        if max_len < 1:
            raise ValueError(f"max_len must be at least 1, got {max_len}")
        self.client = client
        self.key_prefix = f"{prefix}samples:"
        self.max_len = max_len
        self.name = f"redis:{self.key_prefix}*"

    @classmethod
    def from_url(cls, url: str, prefix: str = "prism:", *, max_len: int) -> RedisSampleLog:
        return cls(redis_client(url), prefix, max_len=max_len)

    def key(self, scene: str) -> str:
        return f"{self.key_prefix}{scene}"

    def append(self, samples: Sequence[Sample]) -> None:
        if not samples:
            return
        pipe = self.client.pipeline(transaction=False)
        for s in samples:
            pipe.xadd(self.key(s.scene), {"s": encode(s)}, maxlen=self.max_len, approximate=True)
        pipe.execute()

    def read(
        self, scene: str, *, since: float | None = None, limit: int | None = None
    ) -> Iterator[Sample]:
        return window(self._scan(scene, since), since, limit)

    def scenes(self) -> list[str]:
        """The scenes with a stream of samples."""
        glob = self.key_prefix.translate(_GLOB_SPECIAL)
        keys = self.client.scan_iter(match=f"{glob}*", count=PAGE)
        return sorted({k.decode()[len(self.key_prefix) :] for k in keys})

    def forget_user(self, user_id: str) -> int:
        """``XDEL`` the user's samples, found by one ``XRANGE`` scan of each scene's stream."""
        needle = b'"user_id":' + json_encode(user_id)
        return sum(
            forget_entries(self.client, self.key(scene), b"s", user_id, _user_of, needle)
            for scene in self.scenes()
        )

    def trim(self, older_than: float) -> int:
        """``XTRIM MINID`` each scene's stream: an entry's id is when Redis stored it,
        never before its request was served."""
        minid = f"{max(0, int(older_than * 1000))}-0"
        return sum(
            int(self.client.xtrim(self.key(scene), minid=minid, approximate=False))
            for scene in self.scenes()
        )

    def close(self) -> None:
        self.client.close()

    def _scan(self, scene: str, since: float | None) -> Iterator[Sample]:
        start = "-" if since is None else str(max(0, int(since * 1000)))
        while True:
            entries = self.client.xrange(self.key(scene), min=start, count=PAGE)
            for _, fields in entries:
                yield decode(fields[b"s"])
            if len(entries) < PAGE:
                return
            start = f"({entries[-1][0].decode()}"
