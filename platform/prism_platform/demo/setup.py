"""The demo's metadata: three scenes, their configs and deployments of the demo scripts
(created through the control facade by ``prism_platform.app.seed_demo``)."""

from __future__ import annotations

from typing import Any

ACTOR = "demo-seed"

DEMO_SCENES: tuple[tuple[str, str, str, dict[str, Any], dict[str, Any]], ...] = (
    # scene, description, script, config params, scene settings
    ("home_feed", "Home feed: guess you like", "home_feed.py", {}, {}),
    # a block on a product page: answer without it rather than wait for slow data
    ("item_detail", "Item detail: similar items", "item_detail.py", {}, {"read_timeout_ms": 20}),
    ("cart", "Cart: bought together", "cart.py", {}, {}),
)
