"""Every script in strategies/ loads, validates its default config and serves on the demo."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from prism_platform.scripts.loader import load_strategy
from prism_platform.scripts.sources import WorkTree
from prism_sdk import Context, DataClient, LocalBackend, Request

ROOT = Path(__file__).resolve().parents[2] / "strategies"
SCRIPTS = sorted(p.relative_to(ROOT).as_posix() for p in ROOT.rglob("*.py") if "__" not in p.name)
CONTEXTS: dict[str, dict[str, Any]] = {
    "item_detail.py": {"item_id": "ITEM"},
    "cart.py": {"cart_items": ["ITEM"]},
}


@pytest.mark.parametrize("script", SCRIPTS)
def test_strategy_serves_the_demo(script: str, demo_backend: LocalBackend) -> None:
    strategy = load_strategy(WorkTree(ROOT), script)
    config = strategy.make_config({})
    item = next(iter(demo_backend.tables["bought_together"]))
    context = {
        k: ([item] if isinstance(v, list) else item) for k, v in CONTEXTS.get(script, {}).items()
    }
    served = 0
    for uid in ("1", "2", "3", "50", "unknown-user"):
        req = Request(scene="s", user_id=uid, size=10, context=context)
        ctx: Context[Any] = Context(
            req, config, DataClient(demo_backend), deadline=time.monotonic() + 5
        )
        items = strategy.check_result(strategy.call(ctx))
        assert len({it.id for it in items}) == len(items), "duplicate ids"
        assert all(it.channels for it in items), "every item names its recall channel"
        served += bool(items)
    assert served >= 4
