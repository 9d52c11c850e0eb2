"""What is evaluated, each a function ``user id -> ranked item ids`` over the training
backend: recall channels on their own, the most-popular baseline, whole strategies."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from itertools import chain, zip_longest
from typing import Any

from prism_platform.importing.logs import RawLog
from prism_platform.jobs.tables import ENGAGED
from prism_platform.scripts.invoke import invoke_blocking
from prism_platform.scripts.strategy import Strategy
from prism_sdk import DataClient, LocalBackend, Request

Recommender = Callable[[str], list[str]]
MAX_SIZE = 200  # the longest list a request may ask for (Request.size)
SEEDS = 20  # the user's most recent positive training items that seed item-to-item recall


def _seeds(data: DataClient, user_id: str) -> list[str]:
    """The user's most recent distinct positive items, newest first."""
    events = data.events(user_id, ENGAGED)
    return list(dict.fromkeys(ev.item_id for ev in events))[:SEEDS]


def i2i_channel(backend: LocalBackend, k: int) -> Recommender:
    """Items most similar (summed ItemCF cosine) to the user's recent positive items."""
    data = DataClient(backend)

    def recommend(user_id: str) -> list[str]:
        seeds = _seeds(data, user_id)
        scores: dict[str, float] = {}
        for rows in data.tables("i2i", seeds):
            for item_id, score in rows:
                scores[item_id] = scores.get(item_id, 0.0) + score
        for seed in seeds:
            scores.pop(seed, None)
        return sorted(scores, key=lambda i: -scores[i])[:k]

    return recommend


def usercf_channel(backend: LocalBackend, k: int) -> Recommender:
    """The user's ``u2i_usercf`` row: what the most similar users engaged with."""
    data = DataClient(backend)
    return lambda user_id: [i for i, _ in data.table("u2i_usercf", user_id, k)]


def popular_channel(backend: LocalBackend, k: int) -> Recommender:
    """The ``popular`` table (time-decayed, weighted by event type): the same list for all."""
    top = [i for i, _ in DataClient(backend).table("popular", "all", k)]
    return lambda user_id: top


def category_channel(backend: LocalBackend, k: int) -> Recommender:
    """``popular_cat`` of the user's top categories (from training events), interleaved."""
    data = DataClient(backend)

    def recommend(user_id: str) -> list[str]:
        cats = list((data.features("user", user_id) or {}).get("top_categories", []))[:3]
        rows = data.tables("popular_cat", cats, k)
        mixed = chain.from_iterable(zip_longest(*([i for i, _ in r] for r in rows)))
        return list(dict.fromkeys(i for i in mixed if i is not None))[:k]

    return recommend


def recent_channel(backend: LocalBackend, k: int) -> Recommender:
    """The items the user viewed last (newest first, each once): what a shopper often
    clicks or buys next."""
    data = DataClient(backend)

    def recommend(user_id: str) -> list[str]:
        viewed = data.events(user_id, ("view",), None, 5 * k)
        return list(dict.fromkeys(ev.item_id for ev in viewed))[:k]

    return recommend


def emb_channel(backend: LocalBackend, k: int) -> Recommender:
    """The items nearest the user's vector (vector table ``emb``), best first."""
    data = DataClient(backend)
    return lambda user_id: [i for i, _ in data.nearest("emb", user_id, k)]


def item_i2i_channel(backend: LocalBackend, k: int) -> Recommender:
    """The ``i2i`` row of the item an item page would show (:func:`item_context`)."""
    data = DataClient(backend)

    def recommend(user_id: str) -> list[str]:
        item = item_context(data, user_id).get("item_id")
        return [i for i, _ in data.table("i2i", item, k)] if item else []

    return recommend


def item_category_channel(backend: LocalBackend, k: int) -> Recommender:
    """``popular_cat`` of that item's category, the item itself left out."""
    data = DataClient(backend)

    def recommend(user_id: str) -> list[str]:
        item = item_context(data, user_id).get("item_id")
        row = data.items([item])[0] if item else None
        if row is None:
            return []
        rows = data.table("popular_cat", str(row.get("category", "")), k + 1)
        return [i for i, _ in rows if i != item][:k]

    return recommend


def most_popular(train: RawLog, k: int) -> Recommender:
    """The baseline: the items with the most distinct users engaging with them in
    training (no decay, no personalisation)."""
    rows = zip(train.users, train.items, train.types, strict=True)
    pairs = dict.fromkeys((u, i) for u, i, t in rows if t in ENGAGED)  # ordered: stable ties
    top = [i for i, _ in Counter(i for _, i in pairs).most_common(k)]
    return lambda user_id: top


def item_context(data: DataClient, user_id: str) -> dict[str, Any]:
    """The user's latest positive training item as ``item_id`` / ``cart_items``, so
    item-page and cart strategies have something to work from."""
    last = _seeds(data, user_id)[:1]
    return {"item_id": last[0], "cart_items": last} if last else {}


def strategy_recommender(
    strategy: Strategy, config: Any, backend: LocalBackend, k: int, extra: Mapping[str, int]
) -> Recommender:
    """A strategy script called in-process as a node calls it (``size`` K, plus
    ``extra[user]`` when that many items will be filtered out), with
    :func:`item_context`."""
    scene = strategy.name.split("/")[-1]

    def recommend(user_id: str) -> list[str]:
        data = DataClient(backend)
        size = min(k + extra.get(user_id, 0), MAX_SIZE)
        req = Request(scene=scene, user_id=user_id, size=size, context=item_context(data, user_id))
        items = invoke_blocking(strategy, req, config, data)
        return list(dict.fromkeys(it.id for it in items))[:size]

    return recommend


def without_seen(recommend: Recommender, seen: Mapping[str, set[str]], k: int) -> Recommender:
    """``recommend`` with each user's ``seen`` items removed, cut to ``k``."""

    def filtered(user_id: str) -> list[str]:
        drop = seen.get(user_id, set())
        return [i for i in recommend(user_id) if i not in drop][:k]

    return filtered


def run_all(recommend: Recommender, users: Iterable[str]) -> tuple[list[list[str]], list[str]]:
    """Every user's list, and the errors (a failing user gets an empty list)."""
    lists: list[list[str]] = []
    errors: list[str] = []
    for uid in users:
        try:
            lists.append(recommend(uid))
        except Exception as exc:
            errors.append(f"user {uid}: {type(exc).__name__}: {exc}")
            lists.append([])
    return lists, errors
