"""What the aggregator has counted of one event log, in SQL beside the counts: an offset
(``event_offsets``: every entry at or before it) and the entries counted past it
(``event_counted``).

Consumers of a group count entries out of order: they share the log, and one claims the
entries another left unacknowledged, some of which that one may have counted already
(it crashed after its commit, before its ``XACK``). So an entry is new only when it is
past the offset and not recorded; the transaction that counts it records it. The offset
moves up to what the group has acknowledged (every entry there was counted before it
was acknowledged), deleting the records it covers; an entry delivered again after that,
to a consumer that held it all along, is at or before the offset: not new either. The
offset row is locked (``FOR UPDATE``) by every one of these transactions, so they never
interleave.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite

from prism_platform.db.event_schema import EventCounted, EventOffset
from prism_platform.events.offset import offset_order

CHUNK = 500


def lock_offset(conn: Connection, name: str) -> tuple[str, int]:
    """The log's offset and how many entries it counted, its row locked until the
    transaction ends (created for a log never counted before)."""
    row = {"sink": name, "offset": "", "events": 0, "updated_at": datetime.now(UTC)}
    conn.execute(upsert(conn)(EventOffset).values(row).on_conflict_do_nothing())
    stmt = sa.select(EventOffset.offset, EventOffset.events).where(EventOffset.sink == name)
    offset, total = conn.execute(stmt.with_for_update()).one()
    return str(offset), int(total)


def uncounted(conn: Connection, name: str, offset: str, entries: Iterable[str]) -> list[str]:
    """The offsets of ``entries`` past ``offset`` and not recorded, in their order."""
    floor = offset_order(offset)
    past = [(e, key) for e in entries if (key := offset_order(e)) > floor]
    if not past:
        return []
    low, high = min(k for _, k in past)[0], max(k for _, k in past)[0]
    t = EventCounted
    stmt = sa.select(t.major, t.minor).where(t.sink == name, t.major.between(low, high))
    seen = {(int(major), int(minor)) for major, minor in conn.execute(stmt)}
    return [e for e, key in past if key not in seen]


def record(conn: Connection, name: str, offsets: list[str]) -> None:
    """Record entries as counted."""
    rows = [
        {"sink": name, "major": major, "minor": minor}
        for major, minor in map(offset_order, offsets)
    ]
    for start in range(0, len(rows), CHUNK):
        conn.execute(sa.insert(EventCounted), rows[start : start + CHUNK])


def advance(conn: Connection, name: str, acked: str) -> str:
    """Move the log's offset up to ``acked`` (never down) and forget the records it
    covers; the offset."""
    offset, _ = lock_offset(conn, name)
    if offset_order(acked) <= offset_order(offset):
        return offset
    major, minor = offset_order(acked)
    t = EventCounted
    covered = sa.or_(t.major < major, sa.and_(t.major == major, t.minor <= minor))
    conn.execute(sa.delete(t).where(t.sink == name, covered))
    stmt = sa.update(EventOffset).where(EventOffset.sink == name)
    conn.execute(stmt.values(offset=acked, updated_at=datetime.now(UTC)))
    return acked


def add_counted(conn: Connection, name: str, total: int, n: int) -> None:
    """Add ``n`` to the log's count of entries counted (``total`` before)."""
    stmt = sa.update(EventOffset).where(EventOffset.sink == name)
    conn.execute(stmt.values(events=total + n, updated_at=datetime.now(UTC)))


def upsert(conn: Connection) -> Any:
    """The dialect's ``INSERT`` with ``ON CONFLICT``."""
    return postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
