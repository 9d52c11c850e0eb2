"""Cart page: bought-together items for what is in the cart (``context.cart_items``)
or, when the frontend sends none, for what the user carted or ordered recently."""

from __future__ import annotations

from prism_sdk import Context, Item, StrategyConfig, stages


class Config(StrategyConfig):
    per_item: int = 30
    recent_carts: int = 10
    similar_weight: float = 0.3  # item-to-item as a weaker second channel


def recommend(ctx: Context[Config]) -> list[Item]:
    cfg = ctx.config
    in_cart = [str(i) for i in ctx.context.get("cart_items", [])]
    if not in_cart:
        events = ctx.data.events(ctx.user_id, ("cart", "order"), limit=cfg.recent_carts)
        in_cart = list(dict.fromkeys(ev.item_id for ev in events))
    with ctx.stage("source.cart") as st, ctx.data.batch() as b:
        together = b.tables("bought_together", in_cart, cfg.per_item)
        similar = b.tables("i2i", in_cart, cfg.per_item)
    st.counts(len(in_cart))
    merged = stages.merge(
        {
            "bought_together": [
                it for rows in together.value for it in stages.from_scored(rows, "bought_together")
            ],
            "i2i": [
                it
                for rows in similar.value
                for it in stages.from_scored(rows, "i2i", cfg.similar_weight)
            ],
        }
    )
    return stages.drop_ids(merged, set(in_cart), "in_cart").kept
