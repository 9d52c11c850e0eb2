"""``stages.drop_engaged``: a filter over the user's own events."""

from __future__ import annotations

import time

from prism_sdk import DataClient, Event, Item, LocalBackend, stages


def test_items_the_user_engaged_with_are_dropped_with_a_reason() -> None:
    now = time.time()
    backend = LocalBackend()
    backend.append_events(
        "u", [Event(now - 7200, "a", "order"), Event(now - 60, "b", "click"),
              Event(now - 30, "c", "view")],
    )  # fmt: skip
    items = [Item(i, 1.0, "x") for i in "abcd"]
    data = DataClient(backend)
    out = stages.drop_engaged(data, "u", items)
    assert [it.id for it in out.kept] == ["c", "d"]  # a view is not engagement
    assert {(it.id, why) for it, why in out.removed} == {
        ("a", "already_engaged"), ("b", "already_engaged")}  # fmt: skip
    recent = stages.drop_engaged(data, "u", items, within_s=3600)
    assert [it.id for it in recent.kept] == ["a", "c", "d"]
    assert stages.drop_engaged(data, "nobody", items).kept == items
