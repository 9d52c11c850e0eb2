"""The served training set joined by Spark equals the one joined in process: the same
rows, labels, times and features (local[2]; about 15 s on an idle two-core box, most
of it the JVM's start)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from prism_platform.events.event import StoredEvent
from prism_platform.feature_log import LoggedRows
from prism_platform.models.served_trainset import ServedStats, build_served_training_set
from prism_platform.models.spark_trainset import (
    EVENT_COLUMNS,
    collect_training_set,
    read_table,
    stage_events,
    stage_logged_rows,
    training_rows,
)
from prism_sdk import Acm
from prism_sdk.ranking import Feature, FeatureSpec

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

SPEC = FeatureSpec((Feature("price", "item", "price"), Feature("age", "user", "age")))
OTHER = FeatureSpec((Feature("price", "item", "price"), Feature("age", "user", "age_band")))
T0 = 1_700_000_000.0


def token(rid: str, pos: int, user: str) -> str:
    acm = Acm("home_feed", "base", "home_feed", "wt-1", ("i2i",), pos, rid, issued=int(T0))
    return acm.sign(b"test-key", user, f"i{pos}")


def world() -> tuple[list[LoggedRows], list[StoredEvent]]:
    """40 requests of 5 items; clicks, carts and orders in and out of the window, by
    token or by user; repeated exposures; a request of another spec; one unlogged."""
    rng = np.random.default_rng(3)
    records, events = [], []
    for r in range(40):
        rid, user, t = f"r{r}", f"u{r % 7}", T0 + r * 100
        items = [f"i{p}" for p in range(1, 6)]
        x = rng.random((5, 2)).astype(np.float32)
        x[rng.random((5, 2)) < 0.1] = np.nan
        spec = OTHER if r == 13 else SPEC
        records.append(
            LoggedRows(rid, t, "feed", user, "ctr", "v1", spec.digest(), items, x.tobytes())
        )
        for p, item in enumerate(items, start=1):
            acm = token(rid, p, user)
            events.append(StoredEvent(f"e{r}-{p}", "exposure", acm, user, item, t, None, t))
            if rng.random() < 0.2:  # reported twice
                events.append(StoredEvent(f"d{r}-{p}", "exposure", acm, user, item, t + 1, None, t))
            kind = rng.choice(["none", "click", "cart", "order", "late", "other-token"])
            if kind in ("click", "cart", "order"):
                events.append(StoredEvent(f"c{r}-{p}", str(kind), acm, user, item, t + 30, None, t))
            elif kind == "late":
                events.append(StoredEvent(f"l{r}-{p}", "click", acm, user, item, t + 900, None, t))
            elif kind == "other-token":
                other = token("rz", 9, user)
                events.append(StoredEvent(f"o{r}-{p}", "cart", other, user, item, t + 60, None, t))
    events.append(StoredEvent("x", "exposure", token("rq", 1, "u1"), "u1", "i1", T0, None, T0))
    return records, events


def test_spark_rows_are_the_in_process_join(spark: SparkSession, tmp_path: Path) -> None:
    records, events = world()
    want, want_stats = build_served_training_set(records, events, SPEC, window_s=600)
    stats = ServedStats()
    stage_logged_rows(records, SPEC, tmp_path / "rows.csv", stats)
    stage_events(events, tmp_path / "events.csv")
    schema = {"request_id": "string", "item_id": "string", "f0": "float", "f1": "float"}
    rows = training_rows(
        read_table(spark, [str(tmp_path / "events.csv")], EVENT_COLUMNS),
        read_table(spark, [str(tmp_path / "rows.csv")], schema),
        600.0,
    )
    got, total = collect_training_set(rows, 2)
    sampled, _ = collect_training_set(rows, 2, max_rows=100)  # whole requests kept
    assert 40 <= len(sampled) <= 160
    assert np.bincount(sampled.group).tolist() == [5] * (len(sampled) // 5)
    assert (stats.logged_rows, stats.other_spec_rows) == (200, 5)
    assert total == len(got) == len(want) == want_stats.rows == 195
    assert 40 < int(got.y.sum()) == int(want.y.sum()) < 150

    def key(data: object, n: int) -> tuple[float, int, bytes]:
        return (data.ts[n], int(data.y[n]), data.x[n].tobytes())  # type: ignore[attr-defined]

    assert sorted(key(got, n) for n in range(len(got))) == sorted(
        key(want, n) for n in range(len(want))
    )
    assert len(np.unique(got.group)) == 39  # one group per request
