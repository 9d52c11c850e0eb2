"""Traffic simulator: the demo world's users ask for recommendations, look at them and
click by their latent tastes; their events flow back through ``POST /v1/events``.

The click model is the world's own (:func:`~.world.generate_world`): an exposed item is
clicked with probability ``0.15 · (0.4 + 1.5 · quality) · sqrt(40 · taste[category])``
(at most 0.9), discounted by position (``1 / (1 + 0.15 · (position − 1))``); a click
becomes a cart with ``0.3 · (0.5 + quality)`` and a cart an order with 0.5. A strategy
that matches tastes better earns truly more clicks.

Users come back: with ``visits`` > 1 each simulated user requests a Poisson number of
times (at least once, ``visits`` on average), the way a few users make much of real
traffic. Every response's items get an exposure; clicks, carts and orders (with an
order id) follow, each reported once per acm token.

:func:`aa_split_p_values` is the cheap in-process check of the statistics: many random
50/50 splits of the same users seeing the same lists, clicks drawn anew, one p-value
each, by the report's per-user test (or, to compare, the two-proportion z-test that
treats exposures as independent).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from prism_platform.demo.world import EVENT_DELAY_S, EVENT_TYPES, World
from prism_platform.experiments.stats import RatioStats, compare, compare_ratio
from prism_sdk import slot_of, slot_table

Post = Callable[[str, dict[str, Any]], dict[str, Any]]
"""``post(path, json_body) -> json reply`` against the app (TestClient, httpx…)."""

P_CLICK, P_CART, P_ORDER, POSITION_DECAY = 0.15, 0.3, 0.5, 0.15
DELAY_S = dict(zip(("exposure", *EVENT_TYPES[1:]), EVENT_DELAY_S, strict=True))
"""When each event happens after the request (as in the world's history)."""


@dataclass
class ClickModel:
    world: World

    def p_click(self, user: int, item_ids: Sequence[str]) -> npt.NDArray[np.float64]:
        """Click probability of each item at its position (1-based order of ``item_ids``)."""
        w = self.world
        idx = np.array([int(i) - 1 for i in item_ids], dtype=np.int64)
        affinity = w.user_taste[user, w.item_category[idx]] * len(w.categories)
        base = P_CLICK * (0.4 + w.item_quality[idx] * 1.5) * np.sqrt(affinity)
        position = 1.0 / (1.0 + POSITION_DECAY * np.arange(len(idx)))
        return np.asarray(np.clip(base, 0.0, 0.9) * position, dtype=np.float64)

    def p_cart(self, item_id: str) -> float:
        return P_CART * (0.5 + float(self.world.item_quality[int(item_id) - 1]))


@dataclass
class SimulationResult:
    requests: int = 0
    exposures: int = 0
    clicks: int = 0
    orders: int = 0
    accepted: int = 0
    rejected: int = 0
    by_bucket: dict[str, int] = field(default_factory=dict)


class TrafficSimulator:
    """Simulated users of ``world`` requesting ``scene`` through ``post``."""

    def __init__(self, world: World, post: Post, seed: int = 0, batch: int = 500) -> None:
        self.world = world
        self.model = ClickModel(world)
        self.post = post
        self.rng = np.random.default_rng(seed)
        self.batch = batch

    def run(self, scene: str, users: int, size: int = 10, visits: float = 1.0) -> SimulationResult:
        """Requests by ``users`` random distinct users (``visits`` each on average, at
        least one); events posted back."""
        out = SimulationResult()
        pending: list[dict[str, Any]] = []
        chosen = self.rng.choice(self.world.n_users, min(users, self.world.n_users), replace=False)
        times = 1 + self.rng.poisson(max(0.0, visits - 1.0), len(chosen))
        for u, n in zip(chosen.tolist(), times.tolist(), strict=True):
            uid = self.world.user_id(u)
            for _ in range(n):
                body = {"scene": scene, "user_id": uid, "size": size}
                reply = self.post("/v1/recommend", body)
                out.requests += 1
                bucket = reply["experiment"]["bucket"]
                out.by_bucket[bucket] = out.by_bucket.get(bucket, 0) + 1
                pending += self._events(u, uid, reply["items"], time.time(), out)
                if len(pending) >= self.batch:
                    self._flush(pending, out)
        self._flush(pending, out)
        return out

    def _events(
        self, u: int, uid: str, items: list[dict[str, Any]], now: float, out: SimulationResult
    ) -> list[dict[str, Any]]:
        if not items:
            return []
        clicked = self.rng.random(len(items)) < self.model.p_click(
            u, [it["item_id"] for it in items]
        )
        events = []
        for it, click in zip(items, clicked.tolist(), strict=True):
            kinds = ["exposure"]
            if click:
                kinds.append("click")
                if self.rng.random() < self.model.p_cart(it["item_id"]):
                    kinds.append("cart")
                    if self.rng.random() < P_ORDER:
                        kinds.append("order")
            for kind in kinds:
                ev = {"event_id": uuid.uuid4().hex, "type": kind, "acm": it["acm"]}
                ev |= {"user_id": uid, "item_id": it["item_id"], "ts": now + DELAY_S[kind]}
                if kind == "order":
                    ev["value"] = float(it["fields"].get("price", 0.0))
                    ev["order_id"] = uuid.uuid4().hex
                events.append(ev)
            out.exposures += 1
            out.clicks += "click" in kinds
            out.orders += "order" in kinds
        return events

    def _flush(self, pending: list[dict[str, Any]], out: SimulationResult) -> None:
        for start in range(0, len(pending), 1000):
            reply = self.post("/v1/events", {"events": pending[start : start + 1000]})
            out.accepted += int(reply["accepted"])
            out.rejected += int(reply["rejected"])
        pending.clear()


def aa_split_p_values(
    model: ClickModel,
    lists: dict[int, Sequence[Sequence[str]]],
    runs: int,
    seed: int = 0,
    unit: str = "user",
) -> list[float]:
    """p-values of ``runs`` A/A experiments: the same users seeing the same lists (each
    user's responses), split 50/50 by a fresh salt each run (the platform's assignment),
    clicks drawn anew. ``unit``: ``user`` (the report's per-user test) or ``exposure``
    (the two-proportion z-test, exposures as independent trials)."""
    rng = np.random.default_rng(seed)
    users = list(lists)
    probs = [np.concatenate([model.p_click(u, items) for items in lists[u]]) for u in users]
    p = np.concatenate(probs)
    owner = np.repeat(np.arange(len(users)), [len(x) for x in probs])  # user of each exposure
    shown = np.bincount(owner, minlength=len(users)).astype(float)
    bounds = slot_table([50.0, 50.0])
    out = []
    for run in range(runs):
        salt = f"aa-{seed}-{run}"
        treat = np.array([slot_of(model.world.user_id(u), salt) >= bounds[0] for u in users])
        clicks = np.bincount(owner, weights=rng.random(len(p)) < p, minlength=len(users))
        if unit == "user":
            ctl, trt = (
                RatioStats.of(shown[m].tolist(), clicks[m].tolist()) for m in (~treat, treat)
            )
            pv = compare_ratio(ctl, trt)["p_value"]
        else:
            x_c, n_c = int(clicks[~treat].sum()), int(shown[~treat].sum())
            x_t, n_t = int(clicks[treat].sum()), int(shown[treat].sum())
            pv = compare(x_c, n_c, x_t, n_t)["p_value"]
        out.append(1.0 if pv is None else float(pv))
    return out
