"""Logged features in Redis: one Stream, ``<prefix>features``, one entry per record.

A batch is one pipeline of ``XADD``s; ``trim`` is ``XTRIM MINID`` (stream ids are the
milliseconds Redis stored them at); ``forget_user`` ``XDEL``s one user's records.
Durability is Redis's configuration, as for events.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from prism_platform.events.redis_sink import forget_entries, redis_client
from prism_platform.feature_log.record import LoggedRows, decode, encode


class RedisFeatureStore:
    def __init__(self, client: Any, prefix: str = "prism:") -> None:
        self.client = client
        self.stream = f"{prefix}features"
        self.name = f"redis:{self.stream}"

    @classmethod
    def from_url(cls, url: str, prefix: str = "prism:") -> RedisFeatureStore:
        return cls(redis_client(url), prefix)

    def append(self, records: Sequence[LoggedRows]) -> None:
        if not records:
            return
        pipe = self.client.pipeline(transaction=False)
        for r in records:
            pipe.xadd(self.stream, {"r": encode(r)})
        pipe.execute()

    def read(self, after: str, limit: int) -> list[tuple[str, LoggedRows]]:
        entries = self.client.xrange(self.stream, min=f"({after}" if after else "-", count=limit)
        return [(eid.decode(), decode(fields[b"r"])) for eid, fields in entries]

    def trim(self, older_than: float) -> int:
        minid = f"{max(0, int(older_than * 1000))}-0"
        return int(self.client.xtrim(self.stream, minid=minid, approximate=False))

    def forget_user(self, user_id: str) -> int:
        """``XDEL`` the user's records, found by one ``XRANGE`` scan of the stream."""
        return forget_entries(self.client, self.stream, b"r", user_id, lambda b: decode(b).user_id)

    def close(self) -> None:
        self.client.close()
