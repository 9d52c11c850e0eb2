"""Popular items only, shuffled within the top of the table: a deliberately weak,
taste-blind baseline for experiments and the demo's traffic simulator."""

import random

from prism_sdk import Context, Item, StrategyConfig


class Config(StrategyConfig):
    pool: int = 300  # how many of the most popular items to draw from
    shuffle: bool = True


def recommend(ctx: Context[Config]) -> list[Item]:
    cfg = ctx.config
    with ctx.stage("source.popular") as st:
        rows = ctx.data.tables("popular", ["all"], max(cfg.pool, ctx.size))[0]
        items = [Item(i, s, "popular") for i, s in rows]
        st.counts(count_out=len(items))
        st.candidates(items)
    if cfg.shuffle:
        with ctx.stage("rerank.shuffle") as st:
            random.Random(ctx.request_id or ctx.user_id).shuffle(items)
            st.output(len(items), items)
    return items[: ctx.size * 2]
