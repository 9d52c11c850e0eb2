"""A strategy author's tests of ``strategies/home_feed.py`` with the testkit's pytest
plugin (the example of docs/strategies/testing.md, "Testing a strategy"): no node, database or
coordinator; the script runs on a small demo world as the scene's bucket serves it."""

from __future__ import annotations

from typing import Any


def popular_in_top(result: Any, n: int = 10) -> int:
    return sum("popular" in it.channels for it in result.items[:n])


def test_home_feed_mixes_every_recall_channel(prism_context: Any, prism_run: Any) -> None:
    result = prism_run(prism_context("home_feed", user_id="1", size=10))
    assert len(result.items) >= 10
    assert {"i2i", "usercf", "category", "popular"} <= result.channels
    assert result.stage("merge").count_out and result.round_trips <= 4


def test_a_layer_override_changes_the_feed(prism_context: Any, prism_run: Any) -> None:
    base = prism_run(prism_context("home_feed", user_id="1", size=10))
    boosted = prism_run(
        prism_context(
            "home_feed", user_id="1", size=10, layers={"ranking": {"weight_popular": 50.0}}
        )
    )
    assert boosted.config.weight_popular == 50.0
    assert boosted.ids != base.ids
    assert popular_in_top(boosted) > popular_in_top(base)
