"""Item detail page: items similar to the one being viewed (``context.item_id``), by
co-engagement (``i2i``) or, when it has few such neighbours, by content (``content_sim``:
title, category, shop), topped up with what is popular in its category."""

from __future__ import annotations

from prism_sdk import Context, Item, StrategyConfig, stages


class Config(StrategyConfig):
    similar: int = 100
    content_below: int = 5  # with fewer i2i neighbours, content-similar items join in
    content_weight: float = 0.5
    category_top_up: int = 50
    same_shop_max: int = 3  # at most this many items of one shop in any window of 10


def recommend(ctx: Context[Config]) -> list[Item]:
    cfg = ctx.config
    item_id = str(ctx.context.get("item_id", ""))
    current = ctx.data.items([item_id])[0] if item_id else None
    with ctx.stage("source.similar") as st, ctx.data.batch() as b:
        sim = b.tables("i2i", [item_id], cfg.similar)
        content = b.tables("content_sim", [item_id], cfg.similar)
        cat = b.tables(
            "popular_cat", [str((current or {}).get("category", ""))], cfg.category_top_up
        )
    similar = stages.from_scored(sim.value[0], "i2i")
    lookalike = []
    if len(similar) < cfg.content_below:
        lookalike = stages.from_scored(content.value[0], "content", weight=cfg.content_weight)
    top_up = stages.from_scored(cat.value[0], "category", weight=0.01)
    st.counts(count_out=len(similar) + len(lookalike) + len(top_up))
    with ctx.stage("merge") as st:
        merged = stages.merge({"i2i": similar, "content": lookalike, "category": top_up}, stage=st)
    with ctx.stage("filter.current_item") as st:
        kept = stages.drop_ids(merged, {item_id}, "current_item", stage=st).kept
    head = kept[: ctx.size * 3]
    shops = {
        it.id: (row or {}).get("shop")
        for it, row in zip(head, ctx.data.items([it.id for it in head]), strict=True)
    }
    with ctx.stage("rerank.shop_scatter") as st:
        return stages.scatter(
            head,
            lambda it: shops.get(it.id),
            window=10,
            max_per_window=cfg.same_shop_max,
            stage=st,
        )
