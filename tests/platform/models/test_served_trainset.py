"""Joining logged feature rows with events through the acm token: exposures with a
logged row are the candidates, clicks within the window label them, rows of another
spec are skipped and counted."""

from __future__ import annotations

import numpy as np

from prism_platform.events.event import StoredEvent
from prism_platform.feature_log import LoggedRows
from prism_platform.models.served_trainset import build_served_training_set
from prism_sdk import Acm
from prism_sdk.ranking import Feature, FeatureSpec

SPEC = FeatureSpec((Feature("price", "item", "price"), Feature("age", "user", "age")))
OTHER = FeatureSpec((Feature("price", "item", "price"), Feature("age", "user", "age_band")))
KEY = b"test-key"
T0 = 1_700_000_000.0


def token(rid: str, pos: int) -> str:
    acm = Acm("home_feed", "base", "home_feed", "wt-1", ("i2i",), pos, rid, issued=int(T0))
    return acm.sign(KEY, "u1", f"{rid}-{pos}")


def logged(rid: str, items: list[str], spec: FeatureSpec = SPEC) -> LoggedRows:
    x = np.array([[float(len(i)), ord(rid[-1])] for i in items], np.float32)
    x[0, 1] = np.nan
    return LoggedRows(rid, T0, "home_feed", "u1", "ctr", "v1", spec.digest(), items, x.tobytes())


def event(kind: str, rid: str, pos: int, item: str, dt: float, user: str = "u1") -> StoredEvent:
    eid = f"{kind}-{rid}-{item}-{dt}"
    return StoredEvent(eid, kind, token(rid, pos), user, item, T0 + dt, None, T0 + dt)


def test_exposures_with_logged_rows_are_labelled_by_what_followed() -> None:
    records = [logged("ra", ["a", "bb", "ccc", "dddd"]), logged("rb", ["a", "ee"])]
    events = [
        event("exposure", "ra", 1, "a", 0),
        event("click", "ra", 1, "a", 30),  # same token, within the window: 1
        event("exposure", "ra", 2, "bb", 0),
        event("click", "ra", 2, "bb", 700),  # too late: 0
        event("exposure", "ra", 3, "ccc", 0),
        event("exposure", "ra", 4, "dddd", 0),
        event("order", "ra", 4, "dddd", 20),  # ordered: 1 (and ccc, next to it, stays 0)
        event("exposure", "rb", 1, "a", 1000),
        event("exposure", "rb", 1, "a", 1001),  # the same exposure reported twice
        event("cart", "rz", 7, "a", 1100),  # same user and item, another token: 1
        event("exposure", "rb", 2, "ee", 1000),
        event("click", "rb", 2, "ee", 990),  # before the exposure: 0
        event("exposure", "rc", 1, "zz", 5),  # no logged row
    ]
    data, stats = build_served_training_set(records, events, SPEC, window_s=600)
    assert data.y.tolist() == [1, 0, 0, 1, 1, 0]
    assert data.ts.tolist() == [T0, T0, T0, T0, T0 + 1000, T0 + 1000]
    assert data.group.tolist() == [0, 0, 0, 0, 1, 1]
    expected = np.concatenate([records[0].matrix()[[0, 1, 2, 3]], records[1].matrix()[[0, 1]]])
    assert data.x.dtype == np.float32 and data.x.tobytes() == expected.tobytes()
    assert (stats.rows, stats.positives, stats.exposures) == (6, 3, 8)
    assert (stats.unlogged_exposures, stats.repeated_exposures) == (1, 1)
    assert stats.logged_rows == 6 and stats.other_spec_rows == 0


def test_rows_of_another_spec_are_skipped_and_counted() -> None:
    records = [logged("ra", ["a", "b"]), logged("rb", ["c", "d", "e"], spec=OTHER)]
    events = [event("exposure", r, p, i, 0) for r, p, i in (("ra", 1, "a"), ("rb", 1, "c"))]
    data, stats = build_served_training_set(records, events, SPEC)
    assert len(data) == 1 and data.x.tobytes() == records[0].matrix()[:1].tobytes()
    assert (stats.logged_rows, stats.other_spec_rows, stats.unlogged_exposures) == (5, 3, 1)
    assert stats.other_specs == {f"ctr@v1:{OTHER.digest()}": 3}


def test_nothing_logged_gives_an_empty_set_of_the_spec_width() -> None:
    data, stats = build_served_training_set([], [event("exposure", "ra", 1, "a", 0)], SPEC)
    assert data.x.shape == (0, 2) and len(data) == 0
    assert stats.unlogged_exposures == 1
