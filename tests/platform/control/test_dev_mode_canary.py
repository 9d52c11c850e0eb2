"""Dev mode (``prism serve --watch``) redeploys an edited canary as it was deployed: the
same share of the bucket and the same analysis (its abort thresholds still judge it)."""

from __future__ import annotations

from pathlib import Path

from prism_platform.app import PrismApp
from prism_platform.control.dev_mode import redeploy_edited

SCRIPT = (
    "from prism_sdk import Item\n\n\n"
    "def recommend(ctx):\n    return [Item(str(i), 1.0, {channel!r}) for i in range(1, 40)]\n"
)
ANALYSIS = {"max_error_rate": 0.05, "min_requests": 50}


def test_an_edited_canary_keeps_its_analysis(app: PrismApp, strategies_dir: Path) -> None:
    control = app.control
    script = strategies_dir / "dev.py"
    script.write_text(SCRIPT.format(channel="first"))
    control.put_config("dev.py", "default", {}, actor="olga")
    first = control.deploy(
        "cart", "base", "dev.py", "default", actor="olga", canary_percent=10.0, analysis=ANALYSIS
    ).deployment
    script.write_text(SCRIPT.format(channel="second"))
    assert redeploy_edited(control)["cart/base~canary"].startswith("serving wt-")
    [canary] = [d for d in control.deployments("cart", active=True) if d.canary_percent]
    assert canary.id != first.id and canary.version != first.version
    assert canary.canary_percent == 10.0
    assert canary.canary_analysis == first.canary_analysis
