"""The demo's metadata: three scenes, their configs and deployments of the demo scripts."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..service import Platform

log = logging.getLogger("prism.demo")

ACTOR = "demo-seed"

DEMO_SCENES: tuple[tuple[str, str, str, dict[str, Any], dict[str, Any]], ...] = (
    # scene, description, script, config params, scene settings
    ("home_feed", "Home feed: guess you like", "home_feed.py", {}, {}),
    # a block on a product page: answer without it rather than wait for slow data
    ("item_detail", "Item detail: similar items", "item_detail.py", {}, {"read_timeout_ms": 20}),
    ("cart", "Cart: bought together", "cart.py", {}, {}),
)


def seed_demo_metadata(platform: Platform) -> None:
    """Create the demo scenes with a ``default`` config each, served from the working tree."""
    for scene, description, script, params, settings in DEMO_SCENES:
        platform.create_scene(scene, description=description, actor=ACTOR, **settings)
        platform.put_config(script, "default", params, actor=ACTOR)
        # the first start also builds caches and may share the CPU with the demo build:
        # the gate still runs every check but does not hold the demo to its latency budget
        platform.deploy(
            scene, "base", script, "default", actor=ACTOR, note="demo", check_latency=False
        )
        log.info("event=demo_scene scene=%s script=%s", scene, script)
