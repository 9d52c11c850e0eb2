"""The durable event log: a small protocol, two implementations.

* :class:`~.sqlite_sink.SqliteSink` (embedded default): ``var/events.db``;
* :class:`~.redis_sink.RedisSink`: a Redis Stream, when ``PRISM_EVENTS_BACKEND=redis``
  (or, with it unset, when ``PRISM_DATA_BACKEND=redis``).

``append`` returns only once the batch is durable, and is idempotent by ``event_id``:
an id seen before (within the retention) is reported as a duplicate and not stored
again. So is an event whose token already counted for it (:func:`~.event.claims`: one
exposure, click and cart per token, orders per distinct order id up to a cap), checked
and recorded in the same atomic step, so two nodes sharing a log never both count it.
``read`` pages through the log in order from an offset (``""`` = the start); offsets
only grow. ``trim`` drops entries the aggregator has counted once
they are older than :func:`retention_s`: by then a resent copy is rejected as stale (or
its token as expired), so forgetting their ids and keys keeps ingestion idempotent.

Consumers read through a **group** (``join``, ``consume``, ``ack``, ``acked``): each entry
is delivered until some consumer of the group acknowledges it, and an entry a consumer
took but left unacknowledged for ``claim_idle_s`` is delivered again (to whoever asks:
its consumer may have crashed). Delivery is at least once; the aggregator counts once by
entry offset (:mod:`.aggregate`). On Redis a group is a Stream consumer group: its
consumers share the entries (``XREADGROUP``) and take over a crashed one's
(``XAUTOCLAIM``). On SQLite a group is one cursor: every consumer reads from the
group's acknowledged offset (a second consumer does no extra work) and acknowledging an
entry acknowledges those before it. ``trim`` never drops an entry a group has not
acknowledged; ``present`` tells which delivered entries are still there.

Offsets are integers joined by ``-`` (``17``, ``1718000000000-3``):
:func:`~.offset.offset_order` compares them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Protocol, TypeVar

from prism_platform.errors import Invalid
from prism_platform.events.event import FUTURE_S, StoredEvent
from prism_platform.settings import Settings

T = TypeVar("T")
PAGE = 10_000


class EventSink(Protocol):
    name: str
    """Identifies the log; the aggregator keeps its offset under this name."""

    def append(self, events: Sequence[StoredEvent]) -> list[bool]:
        """Store the batch durably; per event, ``True`` if new, ``False`` if a duplicate."""
        ...

    def read(self, after: str, limit: int) -> list[tuple[str, StoredEvent]]:
        """Up to ``limit`` events after offset ``after``, oldest first, with their offsets."""
        ...

    def trim(self, before: str, older_than: float) -> int:
        """Drop entries at or before offset ``before`` that were received before unix time
        ``older_than`` (their ids may be forgotten) and that every group has acknowledged;
        how many were dropped."""
        ...

    def join(self, group: str, start: str, rewind: bool = False) -> None:
        """Create ``group`` unless it exists, to deliver the entries after offset ``start``
        (``""``: every entry); with ``rewind``, an existing group too delivers the
        entries after ``start`` next (again, for those it delivered already)."""
        ...

    def consume(
        self, group: str, consumer: str, limit: int, claim_idle_s: float
    ) -> list[tuple[str, StoredEvent]]:
        """Up to ``limit`` entries for ``consumer`` of ``group``, with their offsets: first
        entries other consumers took and left unacknowledged for ``claim_idle_s``, then new
        ones (entries deleted meanwhile are skipped)."""
        ...

    def ack(self, group: str, offsets: Sequence[str]) -> None:
        """Acknowledge entries ``consume`` delivered: the group never delivers them again."""
        ...

    def present(self, offsets: Sequence[str]) -> set[str]:
        """Which of ``offsets`` the log still holds (``forget_user`` and ``trim`` delete)."""
        ...

    def acked(self, group: str) -> str:
        """The offset at and before which ``group`` has acknowledged every entry (``""``:
        none, or no such group)."""
        ...

    def forget_user(self, user_id: str) -> int:
        """Delete the user's events from the log (their ids and count keys stay until the
        retention, so a resent copy is still a duplicate); how many."""
        ...

    def close(self) -> None: ...


def read_all(read: Callable[[str, int], list[tuple[str, T]]], page: int = PAGE) -> Iterator[T]:
    """Every entry of a log read page by page with ``read(after, limit)``, oldest first."""
    offset = ""
    while entries := read(offset, page):
        yield from (entry for _, entry in entries)
        if len(entries) < page:
            return
        offset = entries[-1][0]


def retention_s(max_age_s: float, token_max_age_s: float = 0.0) -> float:
    """How long an accepted event (its id and its token's count keys) is kept: the
    longer of the event staleness window and the token age limit, plus the clock skew
    tolerated for events stamped in the future. By then a copy is rejected anyway."""
    return max(max_age_s, token_max_age_s) + FUTURE_S


def events_backend(settings: Settings) -> str:
    """``sqlite`` or ``redis``: where the event log (and the feature log beside it) live."""
    kind = settings.events_backend or ("redis" if settings.data_backend == "redis" else "sqlite")
    if kind not in ("sqlite", "redis"):
        raise Invalid(
            f"unknown events backend {kind!r} (available: sqlite, redis)",
            field="PRISM_EVENTS_BACKEND",
        )
    return kind


def log_retention_s(settings: Settings) -> float:
    """:func:`retention_s` of the configured windows."""
    return retention_s(settings.events_max_age_s, settings.acm_max_age_s)


def open_sink(settings: Settings) -> EventSink:
    if events_backend(settings) == "sqlite":
        from prism_platform.events.sqlite_sink import SqliteSink

        return SqliteSink(settings.var_dir / "events.db")
    from prism_platform.events.redis_sink import RedisSink

    return RedisSink.from_url(settings.redis_url, settings.redis_prefix, log_retention_s(settings))
