"""Where logged features are kept, next to the event log and on the same backend:

* :class:`~.sqlite_store.SqliteFeatureStore`: ``var/features.db`` (a file of its own, so
  its writes never wait on the event log's fsyncs);
* :class:`~.redis_store.RedisFeatureStore`: a Redis Stream, ``<prefix>features``.

``read`` pages in order from an opaque offset (``""`` = the start), as the event log
does; ``trim`` drops records older than the event log's retention, ``forget_user`` the
records of one user's requests.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from prism_platform.events.sink import events_backend
from prism_platform.feature_log.record import LoggedRows
from prism_platform.settings import Settings


class FeatureStore(Protocol):
    name: str

    def append(self, records: Sequence[LoggedRows]) -> None:
        """Store a batch of records."""
        ...

    def read(self, after: str, limit: int) -> list[tuple[str, LoggedRows]]:
        """Up to ``limit`` records after offset ``after``, oldest first, with their offsets."""
        ...

    def trim(self, older_than: float) -> int:
        """Drop the records stored before unix time ``older_than``; how many."""
        ...

    def forget_user(self, user_id: str) -> int:
        """Delete the records of the user's requests; how many."""
        ...

    def close(self) -> None: ...


def open_feature_store(settings: Settings) -> FeatureStore:
    """The store beside the event log (``PRISM_EVENTS_BACKEND``)."""
    if events_backend(settings) == "sqlite":
        from prism_platform.feature_log.sqlite_store import SqliteFeatureStore

        return SqliteFeatureStore(settings.var_dir / "features.db")
    from prism_platform.feature_log.redis_store import RedisFeatureStore

    return RedisFeatureStore.from_url(settings.redis_url, settings.redis_prefix)
