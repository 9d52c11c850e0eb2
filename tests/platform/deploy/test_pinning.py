"""What is deployed is pinned: a working-tree deployment serves the code that passed the
gate, whatever the file says later, through reloads, restarts and rollbacks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from starlette.testclient import TestClient

from prism_platform.app import PrismApp
from prism_sdk import parse_acm
from prism_testkit.accounts import grant

GOOD = (
    '"""Pinned."""\nfrom . import pin_helper\nfrom prism_sdk import Item\n\n\n'
    "def recommend(ctx):\n"
    "    return [Item(str(i), 1.0, (pin_helper.CHANNEL,)) for i in range(1, 30)]\n"
)
BROKEN = "def recommend(ctx):\n    raise RuntimeError('edited after the deploy')\n"


def served(c: TestClient, scene: str = "cart") -> tuple[str, str, bool]:
    body = c.post("/v1/recommend", json={"scene": scene, "user_id": "3"}).json()
    channels = "+".join(parse_acm(body["items"][0]["acm"]).channels) if body["items"] else ""
    return body["strategy"]["version"], channels, body["degraded"]


def test_reload_restart_and_rollback_serve_the_recorded_code(
    make_app: Callable[..., PrismApp], strategies_dir: Path
) -> None:
    script, helper = strategies_dir / "pinned.py", strategies_dir / "pin_helper.py"
    script.write_text(GOOD)
    helper.write_text("CHANNEL = 'one'\n")
    app = make_app()
    admin = grant(app.control, name="ops")
    with TestClient(app, headers=admin) as c:
        c.post("/admin/configs", json={"script": "pinned.py", "name": "default"}).raise_for_status()
        first = c.post("/admin/deployments", json={"scene": "cart", "script": "pinned.py"})
        assert first.status_code == 201, first.text
        v1 = first.json()["deployment"]["version"]
        assert v1.startswith("wt-") and served(c) == (v1, "one", False)

        helper.write_text("CHANNEL = 'two'\n")  # a helper edit is a new version
        second = c.post("/admin/deployments", json={"scene": "cart", "script": "pinned.py"})
        v2 = second.json()["deployment"]["version"]
        assert v2 != v1 and served(c) == (v2, "two", False)

        script.write_text(BROKEN)  # edited on disk, never deployed
        assert c.post("/admin/reload").status_code == 200
        assert served(c) == (v2, "two", False)
        c.post("/admin/scenes/home_feed/buckets/base/rollback")  # an unrelated change
        assert served(c) == (v2, "two", False)

        back = c.post(f"/admin/deployments/{first.json()['deployment']['id']}/rollback")
        assert back.status_code == 201, back.text
        assert served(c) == (v1, "one", False)  # the first version, not today's files
    helper.unlink()
    restarted = make_app()  # same database, the working tree broken
    with TestClient(restarted) as c:
        assert served(c) == (v1, "one", False)
        status = c.get("/admin/status", headers=grant(restarted.control, "viewer")).json()
    [bucket] = status["scenes"]["cart"]["buckets"]
    assert bucket["version"] == v1 and "error" not in bucket


def test_status_counts_errors_and_fallbacks_per_bucket(client: TestClient, app: PrismApp) -> None:
    for u in range(3):
        client.post("/v1/recommend", json={"scene": "cart", "user_id": str(u)})
    (Path(app.control.deployer.repo.worktree.root) / "flaky.py").write_text(
        "from prism_sdk import Item\n\n\ndef recommend(ctx):\n"
        "    if ctx.user_id == 'boom':\n        raise KeyError('boom')\n"
        "    return [Item('1')]\n"
    )
    client.post("/admin/configs", json={"script": "flaky.py", "name": "default"})
    assert client.post(
        "/admin/deployments", json={"scene": "cart", "script": "flaky.py"}
    ).is_success
    for u in ("boom", "boom", "ok"):
        client.post("/v1/recommend", json={"scene": "cart", "user_id": u})
    recent = client.get("/admin/status").json()["recent"]["buckets"]["cart/base"]
    assert recent["errors"] == 2 and recent["fallbacks"] == 2 and recent["degraded"] == 2
    assert recent["requests"] >= 6


LAZY = (
    "from prism_sdk import Item\n\n\n"
    "def recommend(ctx):\n"
    "    from . import lazy_helper  # imported on first use, after the gate\n\n"
    "    return [Item(str(i), 1.0, (lazy_helper.CHANNEL,)) for i in range(1, 30)]\n"
)


def test_the_bytes_the_gate_ran_are_the_bytes_pinned_and_served(
    client: TestClient, app: PrismApp, strategies_dir: Path
) -> None:
    (strategies_dir / "lazy.py").write_text(LAZY)
    helper = strategies_dir / "lazy_helper.py"
    helper.write_text("CHANNEL = 'gated'\n")
    client.post("/admin/configs", json={"script": "lazy.py", "name": "default"})
    deployer = app.control.deployer
    strategy = deployer.strategy("lazy.py")  # read once, frozen
    helper.write_text("CHANNEL = 'edited between the gate and the record'\n")
    dep = deployer.record("cart", "base", strategy, "default", "worktree", actor="t")
    assert dep.version == strategy.version
    pinned = app.control.store.pinned_sources(dep.version)
    assert pinned["lazy_helper.py"] == b"CHANNEL = 'gated'\n"
    app.control.reload(actor="t")
    helper.write_text("CHANNEL = 'edited after the deploy'\n")  # read lazily by the script
    assert served(client)[1] == "gated"
