"""The item page goes on from the item's category to where its shoppers go next."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from prism_platform.scripts.loader import load_strategy
from prism_platform.scripts.sources import WorkTree
from prism_sdk import Context, DataClient, Item, LocalBackend, Request

ROOT = Path(__file__).resolve().parents[2] / "strategies"


def shop(with_next: bool) -> LocalBackend:
    b = LocalBackend()
    cats = {"shoes": ["s1", "s2", "s3"], "socks": ["k1", "k2"], "hats": ["h1"]}
    b.upsert_items({i: {"category": c, "shop": i} for c, ids in cats.items() for i in ids})
    b.replace_table(
        "popular_cat", {c: [(i, 10.0 - n) for n, i in enumerate(ids)] for c, ids in cats.items()}
    )
    if with_next:  # shoe shoppers go on to socks, a few to hats
        b.replace_table(
            "category_next", {"shoes": [("socks", 0.6), ("shoes", 0.3), ("hats", 0.05)]}
        )
    return b


def page(backend: LocalBackend, item: str) -> list[Item]:
    strategy = load_strategy(WorkTree(ROOT), "item_detail.py")
    req = Request(scene="item_detail", user_id="u", size=10, context={"item_id": item})
    ctx: Context[Any] = Context(
        req, strategy.make_config({}), DataClient(backend), deadline=time.monotonic() + 5
    )
    return list(strategy.check_result(strategy.call(ctx)))


def test_the_categories_shoppers_go_on_to_are_listed_by_their_share() -> None:
    items = page(shop(with_next=True), "s1")
    assert [it.id for it in items] == ["k1", "k2", "s2", "s3", "h1"]  # by share: socks 0.6
    assert all(it.channels == ("category",) for it in items)


def test_without_the_table_the_page_stays_in_the_items_category() -> None:
    assert [it.id for it in page(shop(with_next=False), "s1")] == ["s2", "s3"]
