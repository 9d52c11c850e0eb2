"""The time split: no held-out event reaches the training backend."""

from __future__ import annotations

import pytest

from prism_platform.evaluation.split import Dataset, Split, time_split, training_backend
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
