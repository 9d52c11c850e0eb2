"""The time split: no held-out event reaches the training backend."""

from __future__ import annotations

import pytest

from prism_platform.evaluation.split import (
    Dataset,
    Split,
    per_user_split,
    split_data,
    time_split,
    training_backend,
)
from prism_platform.importing.logs import RawLog

DAY = 86400.0
T0 = 1_700_000_000.0


def _dataset() -> Dataset:
    """Users 1-4 share items a, b, c early on; items x and y are only ever seen late."""
    log = RawLog()
    for n, (user, item, kind) in enumerate(
        [(u, i, "click") for u in "1234" for i in "abc"]
        + [("1", "a", "view"), ("2", "b", "order"), ("3", "c", "view"), ("4", "a", "cart")]
        + [("1", "x", "click"), ("2", "x", "order"), ("3", "y", "view"), ("4", "y", "cart")]
    ):
        log.users.append(user)
        log.items.append(item)
        log.ts.append(T0 + n * DAY)
        log.types.append(kind)
    catalogue = {i: {"title": i, "category": "late" if i in "xy" else "early"} for i in "abcxy"}
    return Dataset("tiny", log, catalogue, 30.0)


def test_split_holds_out_the_latest_events_and_keeps_only_positives() -> None:
    split = time_split(_dataset(), 0.25)  # 20 events: the last 5 are held out
    assert len(split.train.ts) == 15 and max(split.train.ts) < split.cutoff
    assert split.test == {"4": {"a", "y"}, "1": {"x"}, "2": {"x"}}  # views are not positives
    assert split.n_test_events == 4


def test_training_backend_never_sees_held_out_events() -> None:
    data = _dataset()
    split: Split = time_split(data, 0.25)
    now = 2_000_000_000.0
    backend = training_backend(data, split, now=now)
    events = [(u, e) for u, evs in backend.events.items() for e in evs]
    assert len(events) == len(split.train.ts)
    assert all(e.ts < now for _, e in events)  # shifted: the cutoff is "now"
    assert not any(e.item_id in "xy" for _, e in events)
    tables = backend.tables
    from_events = [t for name, t in tables.items() if name != "content_sim"]  # (the catalogue)
    listed = {i for table in from_events for rows in table.values() for i, _ in rows}
    assert listed and not listed & {"x", "y"}
    assert not set(tables["i2i"]) & {"x", "y"} and "late" not in tables["popular_cat"]
    assert set(backend.items) == set("abcxy")  # the catalogue itself is not an event
    top = {u: f["top_categories"] for u, f in backend.features["user"].items()}
    assert all(cats == ["early"] for cats in top.values())


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1])
def test_bad_fraction_is_refused(fraction: float) -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        time_split(_dataset(), fraction)


def test_per_user_split_holds_out_each_users_latest_interactions() -> None:
    data = _dataset()  # users 1-4: five events each, in time order
    split = per_user_split(data, 0.2)  # one of five per user
    assert split.protocol == "per-user" and len(split.train.ts) == 16
    assert split.test == {"1": {"x"}, "2": {"x"}, "4": {"y"}}  # user 3's last is a view
    for user in "1234":
        own = [t for u, t in zip(data.log.users, data.log.ts, strict=True) if u == user]
        kept = [t for u, t in zip(split.train.users, split.train.ts, strict=True) if u == user]
        assert kept == sorted(own)[:4] and split.cutoffs[user] == max(own)
    assert split.cutoff == max(split.train.ts)
    assert split.seen()["2"] == {"a", "b", "c"}


def test_per_user_training_backend_has_each_users_earlier_events_only() -> None:
    data = _dataset()
    split = per_user_split(data, 0.2)
    now = 2_000_000_000.0
    backend = training_backend(data, split, now=now)
    for user, events in backend.events.items():
        assert len(events) == 4 and all(e.ts < now for e in events)
        # shifted by the user's own cutoff: the held-out event would have been "now"
        gap = split.cutoffs[user] - max(t for u, t in zip(
            split.train.users, split.train.ts, strict=True) if u == user)  # fmt: skip
        assert now - events[-1].ts == pytest.approx(gap)
    assert not {i for t in ("i2i", "popular") for r in backend.tables[t].values() for i, _ in r} & {
        "x", "y"}  # fmt: skip
    shares = backend.features["user"]["1"]["category_share"]
    assert shares == {"early": 1.0}


def test_split_data_names_the_protocols() -> None:
    assert split_data(_dataset(), "global", 0.25).protocol == "global"
    with pytest.raises(ValueError, match="per-user"):
        split_data(_dataset(), "leave-one-out", 0.25)
