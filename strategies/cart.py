"""Cart page: bought-together items for what is in the cart (``context.cart_items``) or,
when the frontend sends none, for the item on show (``context.item_id``) and what the
user carted or ordered recently (else clicked); items similar to them and what is
popular in their categories, each channel scaled to [0, 1] and weighted; topped up with
what is popular overall, so a cart with nothing to go on still shows something, as a
shop would."""

from __future__ import annotations

from prism_sdk import Context, Item, StrategyConfig, stages


class Config(StrategyConfig):
    per_item: int = 30
    recent_carts: int = 10
    similar_weight: float = 0.3  # item-to-item as a weaker second channel
    category_weight: float = 3.0  # what is popular in the cart's categories
    categories: int = 3  # how many of the cart's categories (in cart order)
    top_up: float = 2.0  # popular items fill the list up to this many times the size


def recommend(ctx: Context[Config]) -> list[Item]:
    cfg = ctx.config
    want = max(1, round(ctx.size * cfg.top_up))
    with ctx.stage("source.cart") as st:
        seeds = _seeds(ctx, cfg)
        rows = ctx.data.items(seeds)
        cats = list(dict.fromkeys(str(r.get("category", "")) for r in rows if r is not None))
        with ctx.data.batch() as b:
            together = b.tables("bought_together", seeds, cfg.per_item)
            similar = b.tables("i2i", seeds, cfg.per_item)
            in_cats = b.tables("popular_cat", cats[: cfg.categories], want)
            popular = b.tables("popular", ["all"], want + len(seeds))
        st.counts(len(seeds))
    with ctx.stage("merge") as st:
        channels = {
            "bought_together": (together.value, 1.0),
            "i2i": (similar.value, cfg.similar_weight),
            "popular_cat": (in_cats.value, cfg.category_weight),
        }
        merged = stages.merge(
            {
                name: [it for table_rows in value for it in _scaled(table_rows, name, w)]
                for name, (value, w) in channels.items()
            },
            stage=st,
        )
    with ctx.stage("filter.in_cart") as st:
        kept = stages.drop_ids(merged, set(seeds), "in_cart", stage=st).kept
    if len(kept) >= want:
        return kept
    with ctx.stage("source.popular_top_up") as st:
        # below every item found for the cart, in the order of popularity
        floor = kept[-1].score if kept else 1.0
        seen = {it.id for it in kept} | set(seeds)
        top = [(i, s) for i, s in popular.value[0] if i not in seen][: want - len(kept)]
        best = top[0][1] if top and top[0][1] > 0 else 1.0
        top_up = [Item(i, 0.5 * floor * s / best, ("popular",)) for i, s in top]
        st.counts(len(popular.value[0]), len(top_up))
        st.candidates(top_up)
    return kept + top_up


def _scaled(rows: list[tuple[str, float]], channel: str, weight: float) -> list[Item]:
    """A table row as items of ``channel``, the best scored ``weight``."""
    best = max((s for _, s in rows), default=1.0) or 1.0
    return [Item(i, weight * s / best, (channel,)) for i, s in rows]


def _seeds(ctx: Context[Config], cfg: Config) -> list[str]:
    """The cart's items; else the item on show and the user's recent carts and orders,
    else the user's recent clicks (newest first, each once)."""
    in_cart = ctx.context.get("cart_items")
    if isinstance(in_cart, list) and in_cart:
        return list(dict.fromkeys(str(i) for i in in_cart))
    shown = ctx.context.get("item_id")
    seeds = [shown] if isinstance(shown, str) and shown else []
    with ctx.data.batch() as b:
        bought = b.events([ctx.user_id], ("cart", "order"), limit=cfg.recent_carts)
        clicked = b.events([ctx.user_id], ("click",), limit=cfg.recent_carts)
    seeds += [ev.item_id for ev in bought.value[0]]
    if not seeds:
        seeds = [ev.item_id for ev in clicked.value[0]]
    return list(dict.fromkeys(seeds))
