"""Tables of the event aggregates: hourly counts per serving dimension, per user (the
unit of the experiment statistics) and of rejected events per bucket, and the
aggregator's offset in each durable event log (updated in the same transaction) and the
entries it counted past that offset."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from prism_platform.db.schema import Base, Timestamp

COUNT_COLUMNS = ("exposures", "requests", "clicks", "carts", "orders")
USER_COLUMNS = ("exposures", "clicks", "carts", "orders")


class EventCount(Base):
    """Events of one (scene, layer, bucket, strategy@version, primary channel, hour).

    Every event counts once for the main layer and once for each other layer its acm
    token names (with that layer's bucket). ``requests`` counts exposures at position 1
    (one per response that was seen); ``order_value`` sums the ``value`` of orders.
    """

    __tablename__ = "event_counts"
    __table_args__ = (sa.Index("ix_event_counts_scene_hour", "scene", "hour"),)

    scene: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    layer: Mapped[str] = mapped_column(sa.String(32), primary_key=True, server_default="main")
    bucket: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    strategy: Mapped[str] = mapped_column(sa.String(512), primary_key=True)
    version: Mapped[str] = mapped_column(sa.String(128), primary_key=True)
    channel: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    hour: Mapped[datetime] = mapped_column(Timestamp, primary_key=True)
    exposures: Mapped[int] = mapped_column(sa.BigInteger)
    requests: Mapped[int] = mapped_column(sa.BigInteger)
    clicks: Mapped[int] = mapped_column(sa.BigInteger)
    carts: Mapped[int] = mapped_column(sa.BigInteger)
    orders: Mapped[int] = mapped_column(sa.BigInteger)
    order_value: Mapped[float] = mapped_column(sa.Float)


class EventUserCount(Base):
    """Events of one user in one (scene, layer, bucket, hour): the per-user totals the
    report's ratio statistics need (a user's exposures and clicks are not independent
    trials). ``user_key`` is a 64-bit hash of the user id (``events.fold.user_key``): the
    indexes serve ``prism user forget`` (by user) and the age limit (by hour)."""

    __tablename__ = "event_user_counts"
    __table_args__ = (
        sa.Index("ix_event_user_counts_user_key", "user_key"),
        sa.Index("ix_event_user_counts_hour", "hour"),
    )

    scene: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    layer: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    bucket: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    hour: Mapped[datetime] = mapped_column(Timestamp, primary_key=True)
    user_key: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    exposures: Mapped[int] = mapped_column(sa.BigInteger)
    clicks: Mapped[int] = mapped_column(sa.BigInteger)
    carts: Mapped[int] = mapped_column(sa.BigInteger)
    orders: Mapped[int] = mapped_column(sa.BigInteger)
    order_value: Mapped[float] = mapped_column(sa.Float)


class EventRejection(Base):
    """Events of verified tokens that did not count, per (scene, layer, bucket, hour
    received, reason): a rejection reason, or ``duplicate``."""

    __tablename__ = "event_rejections"

    scene: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    layer: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    bucket: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    hour: Mapped[datetime] = mapped_column(Timestamp, primary_key=True)
    reason: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    events: Mapped[int] = mapped_column(sa.BigInteger)


class EventOffset(Base):
    """How far the aggregator has counted one event log (``sink`` names the log): every
    entry at or before ``offset``; ``events`` is how many it counted in all."""

    __tablename__ = "event_offsets"

    sink: Mapped[str] = mapped_column(sa.String(512), primary_key=True)
    offset: Mapped[str] = mapped_column(sa.String(64))
    events: Mapped[int] = mapped_column(sa.BigInteger)
    updated_at: Mapped[datetime] = mapped_column(Timestamp)


class EventCounted(Base):
    """An entry of one event log counted past its offset (``event_offsets.offset``):
    consumers of a group count entries out of order, so an entry counts only when it is
    past the offset and not here. ``major``, ``minor``: the entry's offset as two
    integers (``events.sink.offset_order``); rows at or before the offset are deleted as
    it moves up."""

    __tablename__ = "event_counted"

    sink: Mapped[str] = mapped_column(sa.String(512), primary_key=True)
    major: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    minor: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
