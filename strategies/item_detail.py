"""Item detail page: items similar to the one being viewed (``context.item_id``), by
co-engagement (``i2i``) or, when it has few such neighbours, by content (``content_sim``:
title, category, shop), and what is popular in its category and in the categories its
shoppers go on to (``category_next``, each weighted by the share of shoppers who do);
each channel's scores scaled to [0, 1] and weighted."""

from __future__ import annotations

from prism_sdk import Context, Item, StrategyConfig, stages


class Config(StrategyConfig):
    similar: int = 100
    content_below: int = 5  # with fewer i2i neighbours, content-similar items join in
    content_weight: float = 0.5
    next_categories: int = 10  # its category and where its shoppers go on to (category_next)
    per_category: int = 60
    category_weight: float = 10.0  # shoppers on an item page go on within its category
    same_shop_max: int = 3  # at most this many items of one shop in any window of 10


def recommend(ctx: Context[Config]) -> list[Item]:
    cfg = ctx.config
    item_id = str(ctx.context.get("item_id", ""))
    current = ctx.data.items([item_id])[0] if item_id else None
    category = str((current or {}).get("category", ""))
    with ctx.stage("source.similar") as st:
        with ctx.data.batch() as b:
            sim = b.tables("i2i", [item_id], cfg.similar)
            content = b.tables("content_sim", [item_id], cfg.similar)
            onward = b.tables("category_next", [category], cfg.next_categories)
        shares = dict(onward.value[0]) or {category: 1.0}  # no table: its own category
        cats = ctx.data.tables("popular_cat", list(shares), cfg.per_category)
    similar = _scaled(sim.value[0], "i2i", 1.0)
    lookalike = []
    if len(similar) < cfg.content_below:
        lookalike = _scaled(content.value[0], "content", cfg.content_weight)
    top_up = _scaled(_by_share(shares, cats), "category", cfg.category_weight)
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


def _by_share(
    shares: dict[str, float], rows: list[list[tuple[str, float]]]
) -> list[tuple[str, float]]:
    """Each item of a category's popular row scored by the category's share times the
    item's share of the row, best first."""
    scores: dict[str, float] = {}
    for share, row in zip(shares.values(), rows, strict=True):
        total = sum(s for _, s in row) or 1.0
        for i, s in row:
            scores[i] = scores.get(i, 0.0) + share * s / total
    return sorted(scores.items(), key=lambda kv: -kv[1])


def _scaled(rows: list[tuple[str, float]], channel: str, weight: float) -> list[Item]:
    """A table row as items of ``channel``, the best scored ``weight``."""
    best = max((s for _, s in rows), default=1.0) or 1.0
    return [Item(i, weight * s / best, (channel,)) for i, s in rows]
