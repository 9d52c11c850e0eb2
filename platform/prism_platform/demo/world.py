"""A deterministic synthetic shop: categories, shops, items, users with latent tastes and
a month of browsing sessions (view → click → cart → order) generated from those tastes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from prism_sdk import Event

CATEGORIES = (
    "women_dresses",
    "women_tops",
    "women_shoes",
    "men_shirts",
    "men_shoes",
    "kids_clothing",
    "bags",
    "jewelry",
    "watches",
    "sunglasses",
    "phones",
    "phone_cases",
    "laptops",
    "tablets",
    "headphones",
    "cameras",
    "smart_home",
    "kitchen",
    "cookware",
    "bedding",
    "furniture",
    "lighting",
    "skincare",
    "makeup",
    "haircare",
    "fragrance",
    "snacks",
    "coffee_tea",
    "toys",
    "books",
    "stationery",
    "sports",
    "outdoor",
    "fitness",
    "pet_supplies",
    "garden",
    "tools",
    "automotive",
    "baby_care",
    "health",
)
ADJECTIVES = (
    "classic",
    "slim",
    "premium",
    "cozy",
    "vintage",
    "smart",
    "light",
    "bold",
    "soft",
    "urban",
    "essential",
    "deluxe",
    "compact",
    "organic",
    "pro",
    "mini",
)
BRANDS = (
    "Aurora",
    "Bolt",
    "Cedar",
    "Dune",
    "Ember",
    "Fjord",
    "Gala",
    "Halo",
    "Iris",
    "Juno",
    "Koi",
    "Lumen",
    "Mosaic",
    "Nova",
    "Onyx",
    "Pico",
    "Quill",
    "Rhea",
    "Sol",
    "Tide",
)
EVENT_TYPES = ("view", "click", "cart", "order")
EVENT_DELAY_S = (0.0, 5.0, 40.0, 120.0)  # each type's time after the view it follows
DAY = 86400.0


@dataclass(frozen=True, eq=False)
class World:
    """Events are parallel arrays; ``ts`` is seconds relative to the end of the month (≤ 0)."""

    categories: tuple[str, ...]
    item_category: npt.NDArray[np.int64]
    item_shop: npt.NDArray[np.int64]
    item_price: npt.NDArray[np.float64]
    item_on_shelf: npt.NDArray[np.bool_]
    item_quality: npt.NDArray[np.float64]
    item_title: list[str]
    user_taste: npt.NDArray[np.float64]
    user_gender: npt.NDArray[np.int64]
    user_age_band: npt.NDArray[np.int64]
    user_city: npt.NDArray[np.int64]
    ev_user: npt.NDArray[np.int64]
    ev_item: npt.NDArray[np.int64]
    ev_type: npt.NDArray[np.int8]
    ev_ts: npt.NDArray[np.float64]

    @property
    def n_items(self) -> int:
        return len(self.item_category)

    @property
    def n_users(self) -> int:
        return len(self.user_taste)

    @staticmethod
    def item_id(i: int) -> str:
        return str(i + 1)

    @staticmethod
    def user_id(u: int) -> str:
        return str(u + 1)

    def item_ids(self) -> list[str]:
        return [str(i + 1) for i in range(self.n_items)]

    def item_rows(self) -> dict[str, dict[str, Any]]:
        cats, shops, prices = self.item_category.tolist(), self.item_shop.tolist(), self.item_price
        return {
            str(i + 1): {
                "title": self.item_title[i],
                "price": round(float(prices[i]), 2),
                "category": self.categories[cats[i]],
                "shop": f"s{shops[i]}",
                "status": "on" if self.item_on_shelf[i] else "off",
                "image": f"/img/{i + 1}.jpg",
            }
            for i in range(self.n_items)
        }

    def top_categories(self, u: int, n: int = 3) -> list[str]:
        return [self.categories[c] for c in np.argsort(-self.user_taste[u])[:n]]

    def user_feature_rows(self) -> dict[str, dict[str, Any]]:
        genders, ages = ("f", "m", "x"), ("18-24", "25-34", "35-44", "45-54", "55+")
        return {
            str(u + 1): {
                "gender": genders[self.user_gender[u]],
                "age_band": ages[self.user_age_band[u]],
                "city": f"c{self.user_city[u]}",
                "top_categories": self.top_categories(u),
            }
            for u in range(self.n_users)
        }

    def iter_user_events(
        self, now: float, since: float = -np.inf
    ) -> Iterator[tuple[str, list[Event]]]:
        """Each user's events (absolute timestamps, oldest first) not older than ``since``."""
        keep = self.ev_ts + now >= since
        order = np.lexsort((self.ev_ts[keep], self.ev_user[keep]))
        users = self.ev_user[keep][order]
        items, types, ts = (
            self.ev_item[keep][order],
            self.ev_type[keep][order],
            self.ev_ts[keep][order],
        )
        bounds = np.flatnonzero(np.diff(users)) + 1
        for lo, hi in zip(np.r_[0, bounds], np.r_[bounds, len(users)], strict=True):
            if hi > lo:
                yield (
                    str(users[lo] + 1),
                    [
                        Event(float(t) + now, str(i + 1), EVENT_TYPES[k])
                        for t, i, k in zip(
                            ts[lo:hi].tolist(),
                            items[lo:hi].tolist(),
                            types[lo:hi].tolist(),
                            strict=True,
                        )
                    ],
                )


def generate_world(
    seed: int = 7, n_users: int = 5000, n_items: int = 30000, n_events: int = 400_000
) -> World:
    rng = np.random.default_rng(seed)
    n_cat = len(CATEGORIES)
    cat_weight = 1.0 / np.arange(1, n_cat + 1) ** 0.6
    item_cat = rng.choice(n_cat, n_items, p=cat_weight / cat_weight.sum())
    n_shops = max(n_items // 20, 1)
    shop_cat = rng.integers(0, n_cat, n_shops)
    shop_by_cat = [np.flatnonzero(shop_cat == c) for c in range(n_cat)]
    item_shop = np.array(
        [rng.choice(shop_by_cat[c]) if len(shop_by_cat[c]) else 0 for c in item_cat.tolist()]
    )
    price = np.exp(rng.normal(3.0 + (np.arange(n_cat) % 7) * 0.35, 0.5)[item_cat])
    on_shelf = rng.random(n_items) >= 0.05
    quality = rng.beta(2.0, 5.0, n_items)
    popularity = (1.0 / rng.permutation(np.arange(1, n_items + 1)) ** 0.9) * (0.3 + quality)
    title = [
        f"{ADJECTIVES[a]} {BRANDS[b]} {CATEGORIES[c].replace('_', ' ')}"
        for a, b, c in zip(
            rng.integers(0, len(ADJECTIVES), n_items).tolist(),
            rng.integers(0, len(BRANDS), n_items).tolist(),
            item_cat.tolist(),
            strict=True,
        )
    ]
    taste = rng.dirichlet(np.full(n_cat, 0.08), n_users) * 0.9 + cat_weight / cat_weight.sum() * 0.1
    complement = rng.permutation(n_cat)  # the category shoppers of c also browse

    # sessions: power-law user activity, a category from the user's taste
    p_click, p_cart, p_order = 0.15, 0.3, 0.5
    n_views = int(n_events / (1 + p_click * (1 + p_cart * (1 + p_order))))
    views_per_session = 6
    n_sessions = max(n_views // views_per_session, 1)
    activity = 1.0 / rng.permutation(np.arange(1, n_users + 1)) ** 0.6
    s_user = rng.choice(n_users, n_sessions, p=activity / activity.sum())
    cum = np.cumsum(taste[s_user], axis=1)
    s_cat = (rng.random(n_sessions)[:, None] * cum[:, -1:] < cum).argmax(axis=1)
    s_start = rng.uniform(-30 * DAY, -3600.0, n_sessions)
    v_session = np.sort(rng.integers(0, n_sessions, n_views))
    v_cat = s_cat[v_session].copy()
    cross = rng.random(n_views) < 0.2
    v_cat[cross] = complement[v_cat[cross]]
    v_item = np.empty(n_views, np.int64)
    for c in range(n_cat):
        where = np.flatnonzero(v_cat == c)
        members = np.flatnonzero(item_cat == c)
        if len(where) == 0 or len(members) == 0:
            v_item[where] = rng.integers(0, n_items, len(where))
            continue
        w = popularity[members]
        v_item[where] = members[np.searchsorted(np.cumsum(w) / w.sum(), rng.random(len(where)))]
    v_user = s_user[v_session]
    rank_in_session = np.arange(n_views) - np.searchsorted(v_session, v_session)
    v_ts = s_start[v_session] + rank_in_session * rng.uniform(20, 90, n_views)

    affinity = taste[v_user, item_cat[v_item]] * n_cat
    click = rng.random(n_views) < np.clip(
        p_click * (0.4 + quality[v_item] * 1.5) * np.sqrt(affinity), 0, 0.9
    )
    cart = click & (rng.random(n_views) < p_cart * (0.5 + quality[v_item]))
    order = cart & (rng.random(n_views) < p_order)
    parts = [
        (m, k, EVENT_DELAY_S[k]) for k, m in enumerate((np.ones(n_views, bool), click, cart, order))
    ]
    ev_user = np.concatenate([v_user[m] for m, _, _ in parts])
    ev_item = np.concatenate([v_item[m] for m, _, _ in parts])
    ev_type = np.concatenate([np.full(int(m.sum()), k, np.int8) for m, k, _ in parts])
    ev_ts = np.concatenate([np.minimum(v_ts[m] + d, 0.0) for m, _, d in parts])
    return World(
        categories=CATEGORIES,
        item_category=item_cat.astype(np.int64),
        item_shop=item_shop.astype(np.int64),
        item_price=price,
        item_on_shelf=on_shelf,
        item_quality=quality,
        item_title=title,
        user_taste=taste,
        user_gender=rng.integers(0, 3, n_users),
        user_age_band=rng.integers(0, 5, n_users),
        user_city=rng.integers(0, 50, n_users),
        ev_user=ev_user.astype(np.int64),
        ev_item=ev_item.astype(np.int64),
        ev_type=ev_type,
        ev_ts=ev_ts,
    )
