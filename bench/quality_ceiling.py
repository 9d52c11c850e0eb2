"""How much better than its best channel can any recommender be on the demo world?

The quality issue asks the home feed for 1.2x its best channel (``category``) under the
global split. The demo world (``prism_platform.demo.world``) draws each session's
category from a hidden per-user taste and, within it, an item by popularity; a click
depends on the item's quality and the user's taste for its category. Everything a
recommender can learn about a user's future is therefore an estimate of that taste from
their history. This bench scores, on the split ``prism eval`` uses (same cutoff, users
and truth), estimators that know more than any real recommender can:

(a) ``category`` channel and ``most_popular``: ``prism eval``'s rows, same run;
(b) taste from the user's training views (smoothed towards the global category mix,
    the smoothing chosen on the test users: optimistic), items by their share of
    their category's views in training: what the observable data allows;
(c) as (b), but every item's popularity measured over the whole month (test included)
    and its true quality and the click model of the generator known (clairvoyant items);
(d) the users' true tastes (the generator's hidden variable) with (c)'s items: what no
    history can give.

and, for item pages, (e) the best any recommender that knows only the item on show can
do: the next positive's category from the item's (the category-to-category mix measured
on the held-out positives themselves) times (c)'s item model, against ``item_category``.

Prints recall@20 and NDCG@20 of each and the ratios to ``category`` (``item_category``
for (e)); the targets are 1.2x.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from prism_platform.demo.world import generate_world
from prism_platform.evaluation.metrics import user_scores
from prism_platform.evaluation.run import evaluate
from prism_platform.evaluation.split import demo_dataset, split_data

K = 20
Scores = npt.NDArray[np.float64]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="global", choices=("global", "per-user"))
    args = parser.parse_args()
    world = generate_world()
    data = demo_dataset()
    report = evaluate(data, k=K, split=args.split, resamples=10)
    rows = {r.name: r for r in report.rows}
    cut = split_data(data, args.split, 0.2)
    users = sorted(cut.test)
    u_idx = np.array([int(u) - 1 for u in users])
    cat = world.item_category
    n_cat, n_items = len(world.categories), world.n_items

    tr_user = np.array([int(u) - 1 for u in cut.train.users])
    tr_item = np.array([int(i) - 1 for i in cut.train.items])
    tr_view = np.array([t == "view" for t in cut.train.types])
    views = np.zeros((world.n_users, n_cat))
    np.add.at(views, (tr_user[tr_view], cat[tr_item[tr_view]]), 1.0)
    mix = views.sum(axis=0) / views.sum()

    def item_share(items: npt.NDArray[np.int64]) -> Scores:
        n = np.bincount(items, minlength=n_items).astype(np.float64) + 1e-9
        return n / np.bincount(cat, weights=n, minlength=n_cat)[cat]

    share_train = item_share(tr_item[tr_view])
    share_month = item_share(world.ev_item[world.ev_type == 0])
    quality = world.item_quality

    def taste(beta: float) -> Scores:
        n = views[u_idx]
        return (n + beta * mix) / (n.sum(axis=1, keepdims=True) + beta)

    def click(t: Scores) -> Scores:  # the generator's click model at taste t
        aff = t[:, cat] * n_cat
        return np.minimum(0.15 * (0.4 + 1.5 * quality)[None, :] * np.sqrt(aff), 0.9)

    def figures(score: Callable[[], Scores]) -> tuple[float, float]:
        s = score()
        top = np.argsort(-s, axis=1)[:, :K]
        lists = [[str(i + 1) for i in row] for row in top.tolist()]
        per_user, _ = user_scores(lists, [cut.test[u] for u in users], _pos(n_items), K)
        return float(per_user["recall"].mean()), float(per_user["ndcg"].mean())

    betas = (0.5, 2.0, 5.0, 10.0, 20.0)
    observable = max(
        (figures(lambda b=b: taste(b)[:, cat] * share_train[None, :]) for b in betas),
        key=lambda f: f[0],
    )
    clairvoyant = max(
        (
            figures(lambda b=b: (t := taste(b))[:, cat] * share_month[None, :] * click(t))
            for b in betas
        ),
        key=lambda f: f[0],
    )
    true = world.user_taste[u_idx]
    oracle = figures(lambda: true[:, cat] * share_month[None, :] * click(true))
    follow = _next_category(cut, users, world)
    item_only = figures(lambda: follow[:, cat] * share_month[None, :] * click(follow))

    base = rows["category"]
    print(f"demo world, {args.split} split, {len(users):,} users, @{K}; recall / NDCG")
    table = [
        ("(a) category channel", (base.recall, base.ndcg)),
        ("(a) most_popular", (rows["most_popular"].recall, rows["most_popular"].ndcg)),
        ("(b) observable taste x item share", observable),
        ("(c) + clairvoyant items, click model", clairvoyant),
        ("(d) true taste", oracle),
    ]
    for name, (r, n) in table:
        print(
            f"{name:<40}{r:.4f} / {n:.4f}   {r / base.recall:.2f}x / {n / base.ndcg:.2f}x category"
        )
    page = rows["item_category"]
    print(
        f"{'item_category channel':<40}{page.recall:.4f} / {page.ndcg:.4f}\n"
        f"{'(e) item-only, clairvoyant':<40}{item_only[0]:.4f} / {item_only[1]:.4f}   "
        f"{item_only[0] / page.recall:.2f}x / {item_only[1] / page.ndcg:.2f}x item_category"
    )
    print(
        f"target 1.2x category: recall {1.2 * base.recall:.4f}, NDCG {1.2 * base.ndcg:.4f}; "
        f"best history-based estimate (c) {_meets(clairvoyant[0], 1.2 * base.recall)} it"
    )


def _meets(value: float, target: float) -> str:
    return "meets" if value >= target else "misses"


def _pos(n_items: int) -> dict[str, int]:
    return {str(i + 1): i for i in range(n_items)}


def _next_category(cut: object, users: list[str], world: object) -> Scores:
    """``(users, categories)``: when only the user's latest positive training item is
    known, the category of the held-out positives given that item's, measured on the
    other users' truth (clairvoyant, but not on the user's own)."""
    from prism_platform.demo.world import World
    from prism_platform.evaluation.split import Split

    assert isinstance(cut, Split) and isinstance(world, World)
    cat, n_cat = world.item_category, len(world.categories)
    latest: dict[str, tuple[float, int]] = {}
    tr = cut.train
    for u, i, t, k in zip(tr.users, tr.items, tr.ts, tr.types, strict=True):
        if k != "view" and (u not in latest or t >= latest[u][0]):
            latest[u] = (t, int(i) - 1)
    ctx_cat = np.array([cat[latest[u][1]] if u in latest else -1 for u in users])
    own = np.zeros((len(users), n_cat))
    for row, u in enumerate(users):
        np.add.at(own[row], cat[[int(i) - 1 for i in cut.test[u]]], 1.0)
    known = ctx_cat >= 0
    follow = np.ones((n_cat, n_cat))  # next positive's category given the item's
    np.add.at(follow, ctx_cat[known], own[known])
    others = np.where(known[:, None], follow[np.maximum(ctx_cat, 0)] - own, 1.0)
    out: Scores = others / others.sum(axis=1, keepdims=True)
    return out


if __name__ == "__main__":
    main()
