"""Explore/exploit over recall channels: a Thompson-sampling (Beta) or UCB pool.

The per-channel state (clicks and exposures) lives in the data layer, features namespace
``bandit:<pool>`` keyed by channel, so every node reads the same figures; a periodic job
or the events path writes it with :func:`update_from_counts`::

    pool = bandit.Pool("home", floor=0.1)          # at module load
    quotas = pool.allocate(ctx, ["i2i", "category", "popular"], total=300)
    merged = stages.merge(channels, quotas=quotas)
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np

from ._context import Context
from .data._base import DataWriter


def namespace(pool: str) -> str:
    """The features namespace holding a pool's per-channel state."""
    return f"bandit:{pool}"


def update_from_counts(
    writer: DataWriter, pool: str, counts: Mapping[str, tuple[float, float]]
) -> None:
    """Store each channel's (clicks, exposures) totals for ``pool``."""
    rows: dict[str, dict[str, float]] = {}
    for channel, (clicks, exposures) in counts.items():
        if not 0 <= clicks <= exposures:
            raise ValueError(f"bandit {pool!r}, channel {channel!r}: need 0 <= clicks <= exposures")
        rows[channel] = {"clicks": float(clicks), "exposures": float(exposures)}
    writer.upsert_features(namespace(pool), rows)


class Pool:
    """Splits a candidate budget over channels by their click-through.

    ``thompson``: each slot beyond the floors goes to the channel with the highest draw
    from Beta(prior + clicks, prior + misses) (probability matching); ``ucb``: all of
    them to the channel with the highest UCB1 index. Each channel always gets at least
    ``floor * total``. Draws are seeded by the pool, ``seed`` and the request id.
    """

    def __init__(
        self,
        name: str,
        *,
        method: Literal["thompson", "ucb"] = "thompson",
        floor: float = 0.05,
        prior: tuple[float, float] = (1.0, 1.0),
        ucb_c: float = 1.0,
        seed: int = 0,
    ) -> None:
        if method not in ("thompson", "ucb"):
            raise ValueError(f"bandit pool {name!r}: method must be 'thompson' or 'ucb'")
        if not 0.0 <= floor < 1.0:
            raise ValueError(f"bandit pool {name!r}: floor must be within [0, 1)")
        if min(prior) <= 0:
            raise ValueError(f"bandit pool {name!r}: prior must be positive")
        self.name, self.method, self.floor = name, method, floor
        self.prior, self.ucb_c, self.seed = prior, ucb_c, seed

    def allocate(self, ctx: Context[Any], channels: Sequence[str], total: int) -> dict[str, int]:
        """Per-channel quotas summing to ``total``; traced as stage ``explore.<name>``."""
        with ctx.stage(f"explore.{self.name}") as st:
            rows = ctx.data.features_many(namespace(self.name), channels) if channels else []
            clicks = np.array([_num(r, "clicks") for r in rows])
            shown = np.maximum(np.array([_num(r, "exposures") for r in rows]), clicks)
            quotas = self.split(clicks, shown, total, self._rng(ctx.request_id))
            out = dict(zip(channels, (int(q) for q in quotas), strict=True))
            st.note(method=self.method, quotas=out)
            return out

    def split(
        self, clicks: np.ndarray, shown: np.ndarray, total: int, rng: np.random.Generator
    ) -> np.ndarray:
        """Quotas (an int array aligned with the counts) for one draw of ``rng``."""
        k = len(clicks)
        if k == 0 or total <= 0:
            return np.zeros(k, dtype=np.int64)
        base = min(math.ceil(self.floor * total), total // k)
        quotas = np.full(k, base, dtype=np.int64)
        spare = total - base * k
        if self.method == "thompson":
            a, b = self.prior
            draws = rng.beta(a + clicks, b + shown - clicks, size=(spare, k))
            quotas += np.bincount(draws.argmax(axis=1), minlength=k)
        else:
            n = max(float(shown.sum()), 1.0)
            mean = (clicks + 1.0) / (shown + 2.0)
            bonus = self.ucb_c * np.sqrt(2.0 * math.log(n + 1.0) / (shown + 1.0))
            quotas[int(np.argmax(mean + bonus))] += spare
        return quotas

    def _rng(self, request_id: str) -> np.random.Generator:
        if not request_id:
            return np.random.default_rng()
        key = f"{self.name}:{self.seed}:{request_id}".encode()
        return np.random.default_rng(int.from_bytes(hashlib.blake2b(key, digest_size=8).digest()))


def _num(row: Mapping[str, Any] | None, key: str) -> float:
    v = (row or {}).get(key, 0.0)
    return float(v) if isinstance(v, int | float) and v >= 0 else 0.0
