"""Garbage a strategy returns inside its items — ids that are not strings, scores that
are not finite numbers, channels that are not strings, a million items — is a
``bad_result`` answered by the scene fallback, never a ``500`` nor a malformed answer."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from prism_platform.scripts.strategy import MAX_RESULT_ITEMS

from .test_dispatch_failures import DEADLINE_MS, GOOD, deploy

GARBAGE = {
    "int_id": "[Item(123, 1.0, 'x')]",
    "none_id": "[Item(None, 1.0, 'x')]",
    "text_score": "[Item('1', 'high', 'x')]",
    "nan_score": "[Item('1', float('nan'), 'x')]",
    "infinite_score": "[Item('1', float('inf'), 'x')]",
    "bool_score": "[Item('1', True, 'x')]",
    "mixed_channels": "[Item('1', 1.0, ['a', 5])]",
    "dict_channels": "[Item('1', 1.0, {'a': 1})]",
    "million": "_BIG",
}


@pytest.mark.parametrize("case", list(GARBAGE))
@pytest.mark.parametrize("debug", [False, True])
def test_garbage_inside_the_items_is_a_bad_result(
    client: TestClient, strategies_dir: Path, case: str, debug: bool
) -> None:
    script = f"garbage_{case}.py"
    (strategies_dir / script).write_text(
        f"{GOOD}_BIG = [Item(str(i), 1.0, 'x') for i in range({MAX_RESULT_ITEMS + 1})]\n\n"
        "def recommend(ctx):\n"
        f"    return {GARBAGE[case]} + _OK if ctx.context.get('fail') else _OK\n"
    )
    client.patch("/admin/scenes/home_feed", json={"deadline_ms": DEADLINE_MS})
    deploy(client, script)
    body = {"scene": "home_feed", "user_id": "1", "size": 10, "debug": debug}
    assert client.post("/v1/recommend", json=body).json()["strategy"]["name"] == script[:-3]
    r = client.post("/v1/recommend", json={**body, "context": {"fail": True}})
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["degraded"] is True and answer["strategy"]["name"] == "fallback"
    assert len(answer["items"]) == 10
    assert all(math.isfinite(it["score"]) for it in answer["items"])
    if debug:
        assert answer["trace"]["error"] == "bad_result", answer["trace"]
    metrics = client.get("/metrics").text
    assert f'strategy="{script[:-3]}"' in metrics and 'kind="bad_result"' in metrics


def test_duplicates_numpy_scores_and_list_channels_are_served(
    client: TestClient, strategies_dir: Path
) -> None:
    (strategies_dir / "lenient.py").write_text(
        "import numpy as np\nfrom prism_sdk import Item\n\n"
        "def recommend(ctx):\n"
        "    items = [Item(str(i), np.float32(1 / i), ['a', 'b']) for i in range(1, 30)]\n"
        "    return items + items\n"
    )
    client.patch("/admin/scenes/home_feed", json={"deadline_ms": DEADLINE_MS})
    deploy(client, "lenient.py")
    r = client.post("/v1/recommend", json={"scene": "home_feed", "user_id": "1", "size": 10})
    answer = r.json()
    assert r.status_code == 200 and answer["degraded"] is False, answer
    assert [it["item_id"] for it in answer["items"]] == [str(i) for i in range(1, 11)]
    assert answer["items"][1]["score"] == pytest.approx(0.5)
