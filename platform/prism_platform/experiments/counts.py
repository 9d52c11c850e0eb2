"""What an experiment report reads from the aggregates, for the buckets of one layer in
the experiment's window (whole hours, from the hour it started, or its ``starts_at``,
to the hour it stopped, or its ``ends_at``):

* :func:`strategy_counts`: counts per bucket, strategy@version and channel;
* :func:`user_stats`: per bucket, the per-user sums of CTR and CVR (:class:`RatioStats`),
  each user's counts first added up over the window, then over users;
* :func:`rejections`: per bucket, events that did not count, by reason;
* :func:`hourly_counts`: per bucket and hour, exposures, clicks, carts and orders (the
  time series of the workbench's charts).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

import sqlalchemy as sa

from prism_platform.db import ExperimentRecord, MetadataStore
from prism_platform.db.event_schema import (
    COUNT_COLUMNS,
    USER_COLUMNS,
    EventCount,
    EventRejection,
    EventUserCount,
)
from prism_platform.events.fold import hour_of
from prism_platform.experiments.stats import RatioStats

Table = type[EventCount] | type[EventUserCount] | type[EventRejection]
S = TypeVar("S", bound=sa.Select[*tuple[Any, ...]])


def strategy_counts(store: MetadataStore, exp: ExperimentRecord) -> list[dict[str, Any]]:
    t = EventCount
    dims = (t.bucket, t.strategy, t.version, t.channel)
    sums = [sa.func.sum(getattr(t, c)).label(c) for c in (*COUNT_COLUMNS, "order_value")]
    stmt = _window(sa.select(*dims, *sums), t, exp).group_by(*dims).order_by(*dims)
    rows = [dict(r._mapping) for r in _run(store, stmt)]
    for r in rows:  # SUM comes back as Decimal on some dialects
        r.update({c: int(r[c]) for c in COUNT_COLUMNS}, order_value=float(r["order_value"]))
    return rows


def user_stats(
    store: MetadataStore, exp: ExperimentRecord
) -> dict[str, tuple[RatioStats, RatioStats]]:
    """Bucket -> (CTR: clicks over exposures, CVR: orders over clicks), over users."""
    t = EventUserCount
    e, c, o = (sa.func.sum(getattr(t, n)).label(n) for n in ("exposures", "clicks", "orders"))
    per_user = _window(sa.select(t.bucket, e, c, o), t, exp).group_by(t.bucket, t.user_key)
    u = per_user.subquery()
    sums = [
        sa.func.sum(x)
        for x in (
            u.c.exposures, u.c.clicks, u.c.orders,
            u.c.exposures * u.c.exposures, u.c.clicks * u.c.clicks, u.c.orders * u.c.orders,
            u.c.exposures * u.c.clicks, u.c.clicks * u.c.orders,
        )
    ]  # fmt: skip
    stmt = sa.select(u.c.bucket, sa.func.count(), *sums).group_by(u.c.bucket)
    out = {}
    for bucket, n, *raw in _run(store, stmt):
        se, sc, so, see, scc, soo, sec, sco = (float(v or 0) for v in raw)
        out[bucket] = (
            RatioStats(int(n), se, sc, see, scc, sec),
            RatioStats(int(n), sc, so, scc, soo, sco),
        )
    return out


def rejections(store: MetadataStore, exp: ExperimentRecord) -> dict[str, dict[str, int]]:
    """Bucket -> reason -> events (``duplicate`` included)."""
    t = EventRejection
    stmt = _window(sa.select(t.bucket, t.reason, sa.func.sum(t.events)), t, exp)
    out: dict[str, dict[str, int]] = {}
    for bucket, reason, n in _run(store, stmt.group_by(t.bucket, t.reason)):
        out.setdefault(bucket, {})[reason] = int(n)
    return out


def hourly_counts(
    store: MetadataStore, exp: ExperimentRecord, since: datetime
) -> dict[str, dict[datetime, tuple[int, ...]]]:
    """Bucket -> hour -> (exposures, clicks, carts, orders), from the hour ``since`` on
    (read through the ``scene, hour`` index); hours without events are left out."""
    t = EventCount
    sums = [sa.func.sum(getattr(t, c)) for c in USER_COLUMNS]
    stmt = _window(sa.select(t.bucket, t.hour, *sums), t, exp).where(t.hour >= since)
    out: dict[str, dict[datetime, tuple[int, ...]]] = {}
    for bucket, hour, *counts in _run(store, stmt.group_by(t.bucket, t.hour)):
        at = hour if hour.tzinfo else hour.replace(tzinfo=UTC)  # SQLite drops the zone
        out.setdefault(bucket, {})[at] = tuple(int(n or 0) for n in counts)
    return out


def _window(stmt: S, t: Table, exp: ExperimentRecord) -> S:
    names = [b.name for b in exp.buckets]
    start = exp.created_at if exp.starts_at is None else max(exp.created_at, exp.starts_at)
    stmt = stmt.where(t.scene == exp.scene, t.layer == exp.layer, t.bucket.in_(names))
    stmt = stmt.where(t.hour >= hour_of(start.timestamp()))
    ends = [d for d in (exp.stopped_at, exp.ends_at) if d is not None]
    return stmt.where(t.hour <= min(ends)) if ends else stmt


def _run(store: MetadataStore, stmt: sa.Select[*tuple[Any, ...]]) -> list[Any]:
    with store.engine.connect() as conn:
        return list(conn.execute(stmt))
