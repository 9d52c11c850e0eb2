"""The deploy gate rejects, with a reason an author can act on, and the old version serves on."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

BROKEN = {
    "raises_sometimes.py": (
        "from prism_sdk import Item\n\ndef recommend(ctx):\n"
        "    if ctx.user_id.endswith('7'):\n        raise KeyError('no profile')\n"
        "    return [Item('1')]\n",
        "KeyError: 'no profile'",
    ),
    "always_empty.py": (
        "def recommend(ctx):\n    return []\n",
        "returned no items for any of 40 sample requests",
    ),
    "too_slow.py": (
        "import time\nfrom prism_sdk import Item\n\ndef recommend(ctx):\n"
        "    time.sleep(0.1)\n    return [Item('1')]\n",
        "exceeds the scene deadline of 80 ms",
    ),
    "bad_result.py": (
        "def recommend(ctx):\n    return ['1', '2']\n",
        "item 0 is str, expected prism_sdk.Item",
    ),
}


@pytest.mark.parametrize("script", sorted(BROKEN))
def test_the_gate_rejects_and_the_previous_version_keeps_serving(
    client: TestClient, strategies_dir: Path, script: str
) -> None:
    body, reason = BROKEN[script]
    (strategies_dir / script).write_text(body)
    client.post("/admin/configs", json={"script": script, "name": "default"})
    r = client.post("/admin/deployments", json={"scene": "home_feed", "script": script})
    assert r.status_code == 422, r.text
    err = r.json()
    assert err["error"] == "GateRejected" and err["field"] == "script"
    assert "rejected by the deploy gate" in err["message"] and reason in err["message"]
    served = client.post("/v1/recommend", json={"scene": "home_feed", "user_id": "1"}).json()
    assert served["strategy"]["name"] == "home_feed" and not served["degraded"]
    [rejected] = [a for a in client.get("/admin/audit").json() if a["action"] == "deploy_rejected"]
    assert rejected["detail"]["script"] == script and rejected["detail"]["gate"]["ok"] is False


def test_a_passing_gate_is_recorded_with_its_latency(client: TestClient) -> None:
    client.post("/admin/configs", json={"script": "noop.py", "name": "default"})
    r = client.post("/admin/deployments", json={"scene": "cart", "script": "noop.py"})
    assert r.status_code == 201
    dep_id = r.json()["deployment"]["id"]
    passed = [a for a in client.get("/admin/audit").json() if a["action"] == "gate_passed"]
    assert passed[0]["detail"]["deployment"] == dep_id
    gate = passed[0]["detail"]["gate"]
    assert gate["ok"] and gate["requests"] == 40 and gate["p99_ms"] < 80
