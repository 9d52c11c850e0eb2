"""Folding log records into the rows the aggregator adds to SQL (pure: no database).

Every event counts once for the main layer and once for each other layer its acm token
names. Three kinds of rows:

* per (scene, layer, bucket, strategy@version, primary channel, hour): exposures,
  requests (exposures at position 1), clicks, carts, orders, order value;
* per (scene, layer, bucket, hour, user): the same per user (``user_key`` hashes the id),
  the unit of the report's statistics;
* per (scene, layer, bucket, hour, reason): events of verified tokens that did not count
  (the log's :data:`~.event.REJECTED` records).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from hashlib import blake2b
from typing import Any

from prism_platform.db.event_schema import COUNT_COLUMNS, USER_COLUMNS
from prism_platform.db.records import MAIN_LAYER
from prism_platform.events.event import REJECTED, StoredEvent
from prism_sdk import Acm, AcmError, parse_acm

log = logging.getLogger("prism.events")

TYPE_COLUMN = {"exposure": "exposures", "click": "clicks", "cart": "carts", "order": "orders"}
Key = tuple[Any, ...]


def hour_of(ts: float) -> datetime:
    return datetime.fromtimestamp(ts - ts % 3600, UTC)


def user_key(user_id: str) -> int:
    """A user's key in the per-user counts: 64 bits of BLAKE2b of the id, signed (the
    range of a SQL BIGINT); collisions are negligible below billions of users."""
    digest = blake2b(user_id.encode(), digest_size=8, person=b"prism-user").digest()
    return int.from_bytes(digest, "big", signed=True)


def layer_buckets(acm: Acm) -> dict[str, str]:
    """Layer -> bucket of every layer a token names, the main layer first."""
    return {MAIN_LAYER: acm.bucket} | {la: b for la, b in acm.layers if la != MAIN_LAYER}


@dataclass
class Folded:
    counts: dict[Key, dict[str, float]] = field(default_factory=dict)
    users: dict[Key, dict[str, float]] = field(default_factory=dict)
    rejections: Counter[Key] = field(default_factory=Counter)


def fold(events: Iterable[StoredEvent]) -> Folded:
    """The rows of a page of the log (records whose token no longer parses are skipped)."""
    out = Folded()
    for ev in events:
        try:
            acm = parse_acm(ev.acm)
        except AcmError:  # verified on accept; only a format change could get here
            log.warning("event=unparsable_acm event_id=%s", ev.event_id)
            continue
        hour = hour_of(ev.ts)
        if ev.type == REJECTED:
            for layer, bucket in layer_buckets(acm).items():
                out.rejections[(acm.scene, layer, bucket, hour, ev.reason)] += int(ev.value or 0)
            continue
        column = TYPE_COLUMN.get(ev.type)
        if column is None:
            continue
        channel = acm.channels[0] if acm.channels else "-"
        value = (ev.value or 0.0) if ev.type == "order" else 0.0
        uk = user_key(ev.user_id)
        for layer, bucket in layer_buckets(acm).items():
            key = (acm.scene, layer, bucket, acm.strategy, acm.version, channel, hour)
            row = _row(out.counts, key, COUNT_COLUMNS)
            row[column] += 1
            row["order_value"] += value
            if ev.type == "exposure" and acm.position == 1:
                row["requests"] += 1
            user = _row(out.users, (acm.scene, layer, bucket, hour, uk), USER_COLUMNS)
            user[column] += 1
            user["order_value"] += value
    return out


def _row(rows: dict[Key, dict[str, float]], key: Key, columns: tuple[str, ...]) -> dict[str, float]:
    row = rows.get(key)
    if row is None:
        row = rows[key] = dict.fromkeys((*columns, "order_value"), 0.0)
    return row
