"""Feed the explore/exploit pools from the aggregated events.

After each aggregation pass, every scene's pool (named after the scene:
``prism_sdk.bandit.Pool("home_feed")``) gets the last ``window_h`` hours of clicks and
exposures per recall channel (the main layer's counts, so each event counts once),
written through the data layer where every node reads it.
"""

from __future__ import annotations

import time
from collections import defaultdict

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from prism_platform.db.event_schema import EventCount
from prism_platform.db.records import MAIN_LAYER
from prism_platform.events.fold import hour_of
from prism_sdk.bandit import update_from_counts
from prism_sdk.data import DataWriter

WINDOW_H = 24.0


def feed_bandits(
    engine: Engine, writer: DataWriter, window_h: float = WINDOW_H, now: float | None = None
) -> int:
    """Write each scene's per-channel (clicks, exposures); returns the number of scenes."""
    since = hour_of((time.time() if now is None else now) - window_h * 3600)
    stmt = (
        sa.select(
            EventCount.scene,
            EventCount.channel,
            sa.func.sum(EventCount.clicks),
            sa.func.sum(EventCount.exposures),
        )
        .where(EventCount.layer == MAIN_LAYER, EventCount.hour >= since)
        .group_by(EventCount.scene, EventCount.channel)
    )
    by_scene: dict[str, dict[str, tuple[float, float]]] = defaultdict(dict)
    with engine.connect() as conn:
        for scene, channel, n_clicks, n_shown in conn.execute(stmt):
            clicks = float(n_clicks or 0)
            by_scene[scene][channel] = (clicks, max(float(n_shown or 0), clicks))
    for scene, counts in by_scene.items():
        update_from_counts(writer, scene, counts)
    return len(by_scene)
