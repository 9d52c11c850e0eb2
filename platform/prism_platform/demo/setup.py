"""The demo's metadata: three scenes, their configs and deployments of the demo scripts
(created through the control facade by ``prism_platform.app.seed_demo``)."""

from __future__ import annotations

from typing import Any

ACTOR = "demo-seed"

ITEM_ID = {"type": "str", "max_len": 128}
PAGE = {"page": {"type": "str", "max_len": 64}, "device": {"type": "str", "max_len": 64}}
"""What any placement may say about where it is (other keys are allowed too)."""
SAMPLED = {"sample_rate": 1.0}
"""The demo samples every request into the replay log (production scenes default to 1 %)."""

DEMO_SCENES: tuple[tuple[str, str, str, dict[str, Any], dict[str, Any]], ...] = (
    # scene, description, script, config params, scene settings
    (
        "home_feed",
        "Home feed: guess you like",
        "home_feed.py",
        {},
        # a page that must show something: overloaded, the standby page rather than a 503
        {"context_schema": PAGE, "on_overload": "standby", **SAMPLED},
    ),
    # a block on a product page: answer without it rather than wait for slow data
    (
        "item_detail",
        "Item detail: similar items",
        "item_detail.py",
        {},
        {"read_timeout_ms": 20, "context_schema": {"item_id": ITEM_ID, **PAGE}, **SAMPLED},
    ),
    (
        "cart",
        "Cart: bought together",
        "cart.py",
        {},
        {
            "context_schema": {
                "cart_items": {"type": "list[str]", "max_items": 100, "max_len": 128},
                "item_id": ITEM_ID,
                **PAGE,
            },
            **SAMPLED,
        },
    ),
)
