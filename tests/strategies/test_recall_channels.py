"""The demo strategies' table-driven channels: content similarity on item pages with few
co-engagement neighbours, and UserCF in the home feed."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from prism_platform.scripts.loader import load_strategy
from prism_platform.scripts.sources import WorkTree
from prism_sdk import Context, DataClient, Item, LocalBackend, Request

ROOT = Path(__file__).resolve().parents[2] / "strategies"


def serve(
    script: str, backend: LocalBackend, user: str = "1", params: dict[str, Any] | None = None,
    **context: Any,
) -> list[Item]:  # fmt: skip
    strategy = load_strategy(WorkTree(ROOT), script)
    req = Request(scene="s", user_id=user, size=10, context=context)
    ctx: Context[Any] = Context(
        req, strategy.make_config(params or {}), DataClient(backend),
        deadline=time.monotonic() + 5,
    )  # fmt: skip
    return strategy.check_result(strategy.call(ctx))


def test_item_pages_with_few_neighbours_show_content_similar_items(
    demo_backend: LocalBackend,
) -> None:
    tables = demo_backend.tables
    cold = next(i for i in tables["content_sim"] if i not in tables["i2i"])
    items = serve("item_detail.py", demo_backend, item_id=cold)
    lookalikes = {i for i, _ in tables["content_sim"][cold]}
    assert [it for it in items if "content" in it.channels]
    assert all(it.id in lookalikes for it in items if "content" in it.channels)
    warm = next(i for i, row in tables["i2i"].items() if len(row) >= 10)
    assert not [it for it in serve("item_detail.py", demo_backend, item_id=warm)
                if "content" in it.channels]  # fmt: skip


def test_the_home_feed_reads_the_users_usercf_row(demo_backend: LocalBackend) -> None:
    user, row = next(iter(demo_backend.tables["u2i_usercf"].items()))
    items = serve("home_feed.py", demo_backend, user, {"weight_usercf": 100.0})
    best = {item for item, score in row if score == row[0][1]}  # the row may open with ties
    assert items[0].id in best and "usercf" in items[0].channels
    off = serve("home_feed.py", demo_backend, user, {"quota_usercf": 0})
    assert not [it for it in off if "usercf" in it.channels]
