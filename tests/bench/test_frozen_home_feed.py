"""The frozen home_feed of the HTTP bench and its columnar twin recommend the same items
(ids, scores, channels, order) and trace the same stages, on the demo world."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from prism_platform.scripts.loader import load_strategy
from prism_platform.scripts.sources import WorkTree
from prism_sdk import Context, DataClient, Item, LocalBackend, Request, Tracer

from ..conftest import build_demo_backend

FROZEN = Path(__file__).resolve().parents[2] / "bench" / "strategies"


@pytest.fixture(scope="module")
def world() -> LocalBackend:
    return build_demo_backend()  # its own: the platform tests' world is written to


def serve(script: str, backend: LocalBackend, user: str, params: dict[str, Any]) -> Any:
    strategy = load_strategy(WorkTree(FROZEN), script)
    trace = Tracer(detail=True)
    ctx: Context[Any] = Context(
        Request(scene="s", user_id=user, size=10),
        strategy.make_config(params),
        DataClient(backend),
        deadline=time.monotonic() + 5,
        trace=trace,
    )
    items: list[Item] = strategy.check_result(strategy.call(ctx))
    stages = trace.as_list()
    for st in stages:
        st.pop("ms")
    return [(it.id, it.score, it.channels) for it in items], stages


@pytest.mark.parametrize(
    "params",
    [
        {},
        {
            "rules": [
                {"type": "block", "where": {"category": "books"}},
                {"type": "boost", "where": {"category": "cameras"}, "factor": 3.0},
            ]
        },
        {"quota_i2i": 20, "scatter_max": 1},
    ],
    ids=["defaults", "rules", "small-quota"],
)
def test_the_columnar_twin_recommends_what_the_frozen_home_feed_does(
    world: LocalBackend, params: dict[str, Any]
) -> None:
    users = sorted(world.events)[::25][:16] + ["no-such-user"]
    for user in users:
        items, stages = serve("home_feed_frozen.py", world, user, params)
        col_items, col_stages = serve("home_feed_frozen_columnar.py", world, user, params)
        assert items, user
        assert col_items == items, user
        assert col_stages == stages, user
