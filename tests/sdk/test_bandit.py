"""Explore/exploit pool over recall channels: state in the data layer, seeded draws."""

import numpy as np
import pytest

from prism_sdk import Context, DataClient, LocalBackend, Request, StrategyConfig, bandit

TRUE_CTR = {"i2i": 0.10, "category": 0.05, "popular": 0.02}


def _ctx(backend: LocalBackend, rid: str) -> Context[StrategyConfig]:
    return Context(
        Request(scene="home", user_id="u1"), StrategyConfig(), DataClient(backend), request_id=rid
    )


@pytest.mark.parametrize("method", ["thompson", "ucb"])
def test_converges_to_the_best_channel_and_keeps_the_floor(method: str) -> None:
    backend = LocalBackend()
    pool = bandit.Pool("home", method=method, floor=0.1)  # type: ignore[arg-type]
    rng = np.random.default_rng(7)
    counts = {ch: (0.0, 0.0) for ch in TRUE_CTR}
    shares = []
    for r in range(300):
        quotas = pool.allocate(_ctx(backend, f"r{r}"), list(TRUE_CTR), total=100)
        assert sum(quotas.values()) == 100 and min(quotas.values()) >= 10
        for ch, q in quotas.items():  # each slot is an exposure, clicked at the channel's CTR
            clicks, shown = counts[ch]
            counts[ch] = (clicks + rng.binomial(q, TRUE_CTR[ch]), shown + q)
        bandit.update_from_counts(backend, "home", counts)  # the periodic job
        shares.append(quotas["i2i"] / 100)
    assert np.mean(shares[-50:]) > 0.7  # the best channel takes most of the budget


def test_deterministic_per_request_id_and_traced() -> None:
    backend = LocalBackend()
    bandit.update_from_counts(backend, "p", {"a": (5, 100), "b": (6, 100)})
    pool = bandit.Pool("p", floor=0.0, seed=3)
    ctx = _ctx(backend, "req-1")
    first = pool.allocate(ctx, ["a", "b"], 50)
    assert pool.allocate(_ctx(backend, "req-1"), ["a", "b"], 50) == first
    assert any(pool.allocate(_ctx(backend, f"x{i}"), ["a", "b"], 50) != first for i in range(10))
    (stage,) = ctx.trace.as_list()
    assert stage["stage"] == "explore.p" and stage["quotas"] == first
    assert backend.features["bandit:p"]["a"] == {"clicks": 5.0, "exposures": 100.0}


def test_no_state_splits_evenly_enough_and_edge_cases() -> None:
    pool = bandit.Pool("empty", method="ucb", floor=0.2)
    quotas = pool.allocate(_ctx(LocalBackend(), "r"), ["a", "b", "c"], 10)
    assert sum(quotas.values()) == 10 and min(quotas.values()) >= 2
    assert pool.allocate(_ctx(LocalBackend(), "r"), [], 10) == {}
    assert pool.allocate(_ctx(LocalBackend(), "r"), ["a"], 0) == {"a": 0}


def test_validates_at_construction_and_on_update() -> None:
    with pytest.raises(ValueError, match="floor"):
        bandit.Pool("x", floor=1.0)
    with pytest.raises(ValueError, match="method"):
        bandit.Pool("x", method="greedy")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="channel 'a'"):
        bandit.update_from_counts(LocalBackend(), "x", {"a": (5, 2)})
