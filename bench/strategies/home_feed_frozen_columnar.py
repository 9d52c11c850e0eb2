# FROZEN ON PURPOSE: home_feed_frozen.py (the demo's home_feed at 35e8e45) with its stages on
# stages.Candidates columns instead of lists of items: the same sources, merge, filter,
# model and scatter, the same results (tests/bench/test_frozen_home_feed.py). Kept
# unchanged so bench/recommend_http.py compares the two paths on the same strategy work.
"""Guess-you-like (frozen, columnar): home_feed_frozen.py on ``stages.Candidates``."""

from __future__ import annotations

from prism_sdk import Context, Item, StrategyConfig, ranking, rules, stages
from prism_sdk.rules import Rules
from prism_sdk.stages import Candidates

ranker = ranking.model("ctr")


class Config(StrategyConfig):
    recent_events: int = 20  # how many recent clicks/carts/orders seed item-to-item recall
    recent_window_h: float = 72.0
    i2i_per_seed: int = 30
    quota_i2i: int = 300
    quota_usercf: int = 100  # items of the most similar users (table u2i_usercf)
    quota_category: int = 100
    quota_popular: int = 100
    weight_i2i: float = 1.0
    weight_usercf: float = 0.05  # higher weights cost recall on the demo (README)
    weight_category: float = 0.3
    weight_popular: float = 0.1
    rank_candidates: int = 300  # how many merged candidates the model scores
    scatter_window: int = 5
    scatter_max: int = 2
    rules: Rules = []  # business rules: pin / boost / block (see prism_sdk.rules)


EVENT_WEIGHT = {"order": 3.0, "cart": 2.0, "click": 1.0}


def recommend(ctx: Context[Config]) -> list[Item]:
    cfg = ctx.config
    with ctx.stage("source.recent") as st:
        events = ctx.data.events(
            ctx.user_id, ("click", "cart", "order"), cfg.recent_window_h * 3600, cfg.recent_events
        )
        seeds: dict[str, float] = {}
        for rank, ev in enumerate(events):  # newest first: decay by recency rank
            w = EVENT_WEIGHT.get(ev.type, 1.0) / (1.0 + 0.2 * rank)
            seeds[ev.item_id] = max(seeds.get(ev.item_id, 0.0), w)
        profile = ctx.data.features("user", ctx.user_id) or {}
        st.counts(count_out=len(seeds))

    with ctx.stage("source.tables") as st:
        with ctx.data.batch() as b:
            i2i = b.tables("i2i", list(seeds), cfg.i2i_per_seed)
            usercf = b.tables("u2i_usercf", [ctx.user_id], cfg.quota_usercf)
            cats = b.tables("popular_cat", list(profile.get("top_categories", []))[:3], 50)
            pop = b.tables("popular", ["all"], cfg.quota_popular)
        similar = Candidates.from_rows_summed(i2i.value, list(seeds.values()), "i2i")
        channels = {
            "i2i": stages.top(similar, cfg.quota_i2i),
            "usercf": Candidates.from_rows(usercf.value[0], "usercf"),
            "category": Candidates.from_rows(
                [row for rows in cats.value for row in rows], "category"
            ),
            "popular": Candidates.from_rows(pop.value[0], "popular"),
        }
        st.counts(count_out=sum(len(v) for v in channels.values()))
        st.candidates(it for items in channels.values() for it in items)
    with ctx.stage("merge") as st:
        merged = stages.merge(
            {k: _normalised(v) for k, v in channels.items()},
            quotas={
                "i2i": cfg.quota_i2i,
                "usercf": cfg.quota_usercf,
                "category": cfg.quota_category,
                "popular": cfg.quota_popular,
            },
            weights={
                "i2i": cfg.weight_i2i,
                "usercf": cfg.weight_usercf,
                "category": cfg.weight_category,
                "popular": cfg.weight_popular,
            },
            stage=st,
        )

    with ctx.stage("filter.seen") as st:
        kept = stages.drop_ids(merged, seeds.keys(), "already_interacted", stage=st).kept

    if ranker.ready:  # otherwise: the merged recall scores
        kept = Candidates.from_items(ranker.score(ctx, kept.to_items(cfg.rank_candidates)))

    with ctx.stage("rerank.scatter") as st:
        head = kept[: ctx.size * 4]
        if cfg.rules:  # rules work on items
            items = head.to_items()
            rows = stages.item_rows(ctx.data, items)
            return rules.apply(
                items,
                cfg.rules,
                rows,
                rerank=lambda items: stages.scatter(
                    items,
                    "category",
                    rows=rows,
                    window=cfg.scatter_window,
                    max_per_window=cfg.scatter_max,
                    limit=ctx.size * 2,
                    stage=st,
                ),
                stage=st,
            )
        out = stages.scatter(
            head,
            "category",
            rows=stages.item_fields(ctx.data, head),
            window=cfg.scatter_window,
            max_per_window=cfg.scatter_max,
            limit=ctx.size * 2,
            stage=st,
        )
        st.output(len(head), out)  # as rules.apply records it
    return out.to_items()


def _normalised(c: Candidates) -> Candidates:
    """Scale a channel's scores to [0, 1] so channel weights are comparable."""
    if not len(c):
        return c
    best = float(c.scores.max()) or 1.0
    return c.with_scores(c.scores / best)
