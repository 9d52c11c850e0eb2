"""Guess-you-like: items similar to what the user just did, items of similar users, what
is popular in the user's categories (each weighted by the user's share of it) and
overall, what the user viewed last and the items nearest the user's vector (``emb``),
merged with quotas, cut to ``coarse_keep`` (the ``coarse_head`` best by recall score,
the rest by the user–item inner product: the coarse stage), ranked by the ``ctr`` model
when one is active (trained on these candidates by `prism eval --train-ranker`), with the
config's business rules applied and at most ``scatter_max`` of a category in any
``scatter_window``. What the user just ordered is dropped; other items the user engaged
with stay in (shoppers come back to them: dropping them all costs a third of the recall
on the demo, see docs/strategies/evaluation.md) unless ``exclude_engaged``. Candidates
travel as ``stages.Candidates`` columns; items are made for the ranker's candidates only."""

from __future__ import annotations

from typing import Any

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
    quota_category: int = 200
    quota_popular: int = 100
    quota_recent: int = 10  # the items the user viewed last
    quota_emb: int = 500  # the items nearest the user's vector (vector table emb)
    categories: int = 6  # how many of the user's categories (by share) feed recall
    per_category: int = 60
    weight_i2i: float = 0.3
    weight_usercf: float = 0.05  # higher weights cost recall on the demo (evaluation docs)
    weight_category: float = 1.0
    weight_popular: float = 0.1
    weight_recent: float = 0.3
    weight_emb: float = 0.3
    coarse_keep: int = 300  # candidates the coarse stage keeps for the fine ranker
    coarse_head: int = 150  # of which the best by recall score, kept whatever their vectors
    drop_recent: tuple[str, ...] = ("order",)  # recent events whose items are dropped
    exclude_engaged: bool = False  # drop everything the user ever clicked, carted or ordered
    rank_candidates: int = 300  # how many merged candidates the model scores
    scatter_window: int = 5
    scatter_max: int = 2
    rules: Rules = []  # business rules: pin / boost / block (see prism_sdk.rules)


EVENT_WEIGHT = {"order": 3.0, "cart": 2.0, "click": 1.0}


def recommend(ctx: Context[Config]) -> list[Item]:
    cfg = ctx.config
    with ctx.stage("source.recent") as st:
        with ctx.data.batch() as b:
            engaged = b.events(
                [ctx.user_id], ("click", "cart", "order"), cfg.recent_window_h * 3600,
                cfg.recent_events,
            )  # fmt: skip
            viewed = b.events(
                [ctx.user_id], ("view",), cfg.recent_window_h * 3600, cfg.quota_recent
            )
            user = b.features_many("user", [ctx.user_id])
        events = engaged.value[0]
        seeds: dict[str, float] = {}
        for rank, ev in enumerate(events):  # newest first: decay by recency rank
            w = EVENT_WEIGHT.get(ev.type, 1.0) / (1.0 + 0.2 * rank)
            seeds[ev.item_id] = max(seeds.get(ev.item_id, 0.0), w)
        profile = user.value[0] or {}
        done = {ev.item_id for ev in events if ev.type in cfg.drop_recent}  # just bought
        st.counts(count_out=len(seeds))

    with ctx.stage("source.tables") as st:
        with ctx.data.batch() as b:
            i2i = b.tables("i2i", list(seeds), cfg.i2i_per_seed)
            usercf = b.tables("u2i_usercf", [ctx.user_id], cfg.quota_usercf)
            shares = _category_shares(profile, cfg.categories)
            cats = b.tables("popular_cat", list(shares), cfg.per_category)
            pop = b.tables("popular", ["all"], cfg.quota_popular)
            emb = b.nearest("emb", [ctx.user_id], cfg.quota_emb, exclude=done)
        channels = {
            "i2i": stages.top(
                Candidates.from_rows_summed(i2i.value, list(seeds.values()), "i2i"),
                cfg.quota_i2i,
            ),
            "usercf": Candidates.from_rows(usercf.value[0], "usercf"),
            "category": stages.top(  # each item scored by its share of its category
                Candidates.from_rows_summed(
                    cats.value,
                    [
                        share / (sum(s for _, s in rows) or 1.0)
                        for share, rows in zip(shares.values(), cats.value, strict=True)
                    ],
                    "category",
                ),
                cfg.quota_category,
            ),  # fmt: skip
            "popular": Candidates.from_rows(pop.value[0], "popular"),
            "recent": Candidates.from_rows(  # what the user just looked at: often bought next
                [
                    (i, 1.0 / (1.0 + r))
                    for r, i in enumerate(dict.fromkeys(ev.item_id for ev in viewed.value[0]))
                ],
                "recent",
            ),
            "emb": Candidates.from_rows(emb.value[0], "emb"),
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
                "recent": cfg.quota_recent,
                "emb": cfg.quota_emb,
            },
            weights={
                "i2i": cfg.weight_i2i,
                "usercf": cfg.weight_usercf,
                "category": cfg.weight_category,
                "popular": cfg.weight_popular,
                "recent": cfg.weight_recent,
                "emb": cfg.weight_emb,
            },
            stage=st,
        )

    with ctx.stage("filter.seen") as st:
        kept = merged
        if cfg.drop_recent:  # what the user just bought (of the events that seed i2i)
            kept = stages.drop_ids(kept, done, "already_interacted", stage=st).kept
        if cfg.exclude_engaged:
            kept = stages.drop_engaged(ctx.data, ctx.user_id, kept, stage=st).kept

    with ctx.stage("coarse") as st:  # the user's vector against every candidate's
        kept = stages.coarse(
            ctx.data, ctx.user_id, kept, cfg.coarse_keep, head=cfg.coarse_head, stage=st
        )

    if ranker.ready:  # otherwise: the merged recall scores
        items = ranker.score(ctx, kept.to_items(cfg.rank_candidates))
    else:
        items = kept.to_items(ctx.size * 4)

    with ctx.stage("rerank.scatter") as st:
        head = items[: ctx.size * 4]
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


def _category_shares(profile: dict[str, Any], n: int) -> dict[str, float]:
    """The user's ``n`` biggest categories and their share of the user's events (the
    ``category_share`` feature), else ``top_categories`` weighted 1 / (1 + rank)."""
    shares = profile.get("category_share")
    if isinstance(shares, dict) and shares:
        best = sorted(shares.items(), key=lambda kv: -float(kv[1]))[:n]
        return {str(c): float(s) for c, s in best}
    return {
        str(c): 1.0 / (1 + r) for r, c in enumerate(list(profile.get("top_categories", []))[:n])
    }


def _normalised(c: Candidates) -> Candidates:
    """Scale a channel's scores to [0, 1] so channel weights are comparable."""
    if not len(c):
        return c
    best = float(c.scores.max())
    if best <= 0:
        return c
    return c.with_scores(c.scores / best)
