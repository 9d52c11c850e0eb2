# FROZEN ON PURPOSE: the demo's strategies/home_feed.py as committed at 35e8e45, the version
# issue 18 measured (before issue 16 changed the strategy), kept unchanged so
# bench/recommend_http.py measures later SDK and platform changes against the same strategy
# work. Do not edit or "modernise" it; home_feed_frozen_columnar.py is its twin on
# stages.Candidates (same logic, same results: tests/bench/test_frozen_home_feed.py).
"""Guess-you-like: items similar to what the user just did, items of similar users, and
what is popular in the user's favourite categories and overall, merged with quotas,
ranked by the ``ctr`` model when one is active (`prism job train-ranker --activate`), with
the config's business rules applied and at most ``scatter_max`` of a category in any
``scatter_window``."""

from __future__ import annotations

from prism_sdk import Context, Item, StrategyConfig, ranking, rules, stages
from prism_sdk.rules import Rules

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
        similar: dict[str, float] = {}
        for w, rows in zip(seeds.values(), i2i.value, strict=True):
            for item_id, score in rows:
                similar[item_id] = similar.get(item_id, 0.0) + w * score
        channels = {
            "i2i": stages.top((Item(i, s, "i2i") for i, s in similar.items()), cfg.quota_i2i),
            "usercf": stages.from_scored(usercf.value[0], "usercf"),
            "category": [it for rows in cats.value for it in stages.from_scored(rows, "category")],
            "popular": stages.from_scored(pop.value[0], "popular"),
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
        kept = ranker.score(ctx, kept[: cfg.rank_candidates])

    with ctx.stage("rerank.scatter") as st:
        head = kept[: ctx.size * 4]
        rows = stages.item_rows(ctx.data, head)
        out = rules.apply(
            head,
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
    return out


def _normalised(items: list[Item]) -> list[Item]:
    """Scale a channel's scores to [0, 1] so channel weights are comparable."""
    if not items:
        return items
    best = max(it.score for it in items) or 1.0
    return [it.with_score(it.score / best) for it in items]
