"""An experiment's hourly counts per bucket (the workbench's charts), from the event log
through the aggregation, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from prism_platform.db import MetadataStore
from prism_platform.errors import Invalid, NotFound
from prism_platform.events.aggregate import aggregate_all
from prism_platform.events.event import StoredEvent
from prism_platform.events.sqlite_sink import SqliteSink
from prism_platform.experiments.series import experiment_series
from prism_sdk import Acm

HOUR = timedelta(hours=1)


def _ev(n: int, kind: str, bucket: str, ts: float) -> StoredEvent:
    user = f"u{n}"
    token = Acm("feed", bucket, "home_feed", "v1", ("i2i",), 1, f"r{n}").sign(b"k", user, "i")
    return StoredEvent(f"{bucket}-{kind}-{n}-{ts}", kind, token, user, "i", ts, None, ts)


def test_every_bucket_has_every_hour_of_the_window(store: MetadataStore, tmp_path: Path) -> None:
    store.create_scene("feed", actor="t")
    exp = store.start_experiment("feed", "ab", [("control", 50), ("treat", 50)])
    start = exp.created_at.timestamp()
    sink = SqliteSink(tmp_path / "events.db")
    events = [_ev(i, "exposure", "control", start) for i in range(4)]
    events += [_ev(0, "click", "control", start)]
    events += [_ev(i, "exposure", "treat", start + 2 * 3600) for i in range(3)]
    events += [_ev(i, "click", "treat", start + 2 * 3600) for i in range(2)]
    events += [
        _ev(0, "cart", "treat", start + 2 * 3600),
        _ev(0, "order", "treat", start + 2 * 3600),
    ]
    events += [_ev(9, "exposure", "control", start - 2 * 3600)]  # before it started: not its
    sink.append(events)
    aggregate_all(sink, store.engine)
    sink.close()
    now = exp.created_at + 3 * HOUR

    got = experiment_series(store, "feed", now=now)
    assert got.experiment.id == exp.id
    assert len(got.hours) == 4 and got.hours[1] - got.hours[0] == HOUR
    assert list(got.buckets) == ["control", "treat"]
    control = [(h.exposures, h.clicks, h.carts, h.orders) for h in got.buckets["control"]]
    treat = [(h.exposures, h.clicks, h.carts, h.orders) for h in got.buckets["treat"]]
    assert control == [(4, 1, 0, 0), (0, 0, 0, 0), (0, 0, 0, 0), (0, 0, 0, 0)]
    assert treat == [(0, 0, 0, 0), (0, 0, 0, 0), (3, 2, 1, 1), (0, 0, 0, 0)]

    last_two = experiment_series(store, "feed", since_hours=2, now=now)
    assert last_two.hours == got.hours[2:]
    assert [h.exposures for h in last_two.buckets["treat"]] == [3, 0]

    store.start_experiment("feed", "next", [("only", 100)])  # ab stops now
    again = experiment_series(store, "feed", experiment_id=exp.id, now=now + 48 * HOUR)
    assert again.hours[0] == got.hours[0] and len(again.hours) == 1  # its window closed
    assert again.buckets["control"][0].exposures == 4


def test_bad_arguments_name_their_field(store: MetadataStore) -> None:
    store.create_scene("feed", actor="t")
    exp = store.start_experiment("feed", "ab", [("a", 100)])
    for bad in (0, 24 * 91, 1.5, True):
        with pytest.raises(Invalid) as err:
            experiment_series(store, "feed", since_hours=bad, now=exp.created_at)  # type: ignore[arg-type]
        assert err.value.field == "since_hours"
    with pytest.raises(NotFound) as missing:
        experiment_series(store, "feed", experiment_id=exp.id + 1, now=exp.created_at)
    assert missing.value.field == "experiment_id"
    with pytest.raises(NotFound) as no_layer:
        experiment_series(store, "feed", "ranking", now=exp.created_at)
    assert no_layer.value.field == "layer"
