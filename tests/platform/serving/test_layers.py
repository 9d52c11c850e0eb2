"""Layered experiments: independent per-layer assignment, parameter overrides merged onto
the main layer's config, whitelists, holdouts, time windows, acm tokens, stop."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from prism_platform.app import PrismApp
from prism_platform.cli import client as cli_client
from prism_platform.cli.main import main
from prism_platform.serving import layers as layers_mod
from prism_sdk import parse_acm, verify_acm

from ..conftest import documented_bucket, documented_slot

ECHO = '''"""Echoes its parameters into each item's acm token (layer tests)."""

from prism_sdk import Context, Item, StrategyConfig


class Config(StrategyConfig):
    k: int = 1
    tag: str = "x"


def recommend(ctx: Context[Config]) -> list[Item]:
    extra = {"k": str(ctx.config.k), "tag": ctx.config.tag}
    return [Item(str(i), 1.0 / i, "echo", acm_extra=extra) for i in range(1, 6)]
'''

RANK = {"layer": "rank", "name": "r1"}


@pytest.fixture
def echo(client: TestClient, strategies_dir: Path) -> TestClient:
    """home_feed serves echo.py (config default) on its one main bucket, base."""
    (strategies_dir / "echo.py").write_text(ECHO)
    assert client.post("/admin/configs", json={"script": "echo.py", "name": "default"}).is_success
    r = client.post("/admin/deployments", json={"scene": "home_feed", "script": "echo.py"})
    assert r.status_code == 201, r.text
    return client


def _start(client: TestClient, **body: Any) -> Any:
    r = client.post("/admin/scenes/home_feed/experiments", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def _ask(client: TestClient, user: str, **extra: Any) -> dict[str, Any]:
    body = {"scene": "home_feed", "user_id": user, "size": 3, **extra}
    out: dict[str, Any] = client.post("/v1/recommend", json=body).json()
    assert not out["degraded"], out
    return out


def _seen(body: dict[str, Any]) -> dict[str, str]:
    """What the strategy saw: its config echoed in the first item's acm extra field."""
    return dict(parse_acm(body["items"][0]["acm"]).extra)


def test_overrides_reach_the_strategy_and_the_response_names_every_layer(
    echo: TestClient,
) -> None:
    exp = _start(
        echo,
        **RANK,
        buckets=[{"name": "a", "percent": 50}, {"name": "b", "percent": 50, "params": {"k": 7}}],
    )
    assert exp["salt"] == "home_feed:rank:r1" and exp["buckets"][1]["params"] == {"k": 7}
    running = echo.get("/admin/scenes/home_feed/experiments").json()
    assert [(e["layer"], e["status"]) for e in running] == [
        ("rank", "running"),
        ("main", "running"),
    ]
    halves = [("a", 50), ("b", 50)]
    seen: Counter[str] = Counter()
    for u in range(60):
        body = _ask(echo, str(u))
        rank = documented_bucket(str(u), "home_feed:rank:r1", halves)
        assert body["experiment"] == {"name": "default", "bucket": "base", "layers": {"rank": rank}}
        assert _seen(body) == {"k": "7" if rank == "b" else "1", "tag": "x"}
        acm = parse_acm(body["items"][0]["acm"])
        assert (acm.bucket, acm.layers) == ("base", (("rank", rank),))
        seen[rank] += 1
    assert set(seen) == {"a", "b"}

    user = next(str(u) for u in range(60) if documented_bucket(str(u), exp["salt"], halves) == "b")
    trace = _ask(echo, user, debug=True)["trace"]
    assert trace["overrides"] == {"k": 7} and trace["params"] == {"k": 7, "tag": "x"}


def test_layers_are_independent_of_each_other_and_of_main(echo: TestClient) -> None:
    _start(
        echo, name="ab", buckets=[{"name": "ctl", "percent": 50}, {"name": "trt", "percent": 50}]
    )
    for bucket in ("ctl", "trt"):
        r = echo.post(
            "/admin/deployments", json={"scene": "home_feed", "bucket": bucket, "script": "echo.py"}
        )
        assert r.status_code == 201, r.text
    _start(echo, **RANK, buckets=[{"name": "a", "percent": 30}, {"name": "b", "percent": 70}])
    _start(
        echo,
        layer="rerank",
        name="rr",
        buckets=[
            {"name": "c", "percent": 50},
            {"name": "d", "percent": 50, "params": {"tag": "d"}},
        ],
    )
    scene = echo.app.control.state.snapshot.scenes["home_feed"]
    joint: Counter[tuple[str, ...]] = Counter()
    n = 2000
    for u in map(str, range(n)):
        idx, _, variant = scene.route_for(u)
        assert variant is not None
        layers = variant.experiment["layers"]
        joint[(scene.buckets[idx], layers["rank"], layers["rerank"])] += 1
    for x, y in ((0, 1), (0, 2), (1, 2)):  # every pair of layers: chi-square, 1 dof
        pair: Counter[tuple[str, str]] = Counter()
        for key, count in joint.items():
            pair[(key[x], key[y])] += count
        rows: Counter[str] = Counter()
        cols: Counter[str] = Counter()
        for (a, b), count in pair.items():
            rows[a] += count
            cols[b] += count
        chi2 = sum(
            (pair[(a, b)] - rows[a] * cols[b] / n) ** 2 / (rows[a] * cols[b] / n)
            for a in rows
            for b in cols
        )
        assert chi2 < 10.83, (x, y, pair)  # p = 0.001
    shares = Counter(k[1] for k in joint.elements())
    assert 0.26 < shares["a"] / n < 0.34


def test_invalid_overrides_are_rejected_naming_the_field(echo: TestClient) -> None:
    cases = [({"nope": 1}, "buckets[1].params.nope"), ({"k": "lots"}, "buckets[1].params.k")]
    for params, field in cases:
        r = echo.post(
            "/admin/scenes/home_feed/experiments",
            json={
                **RANK,
                "buckets": [
                    {"name": "a", "percent": 50},
                    {"name": "b", "percent": 50, "params": params},
                ],
            },
        )
        assert r.status_code == 422 and r.json()["field"] == field, r.text
        assert "echo.py" in r.json()["message"]
    r = echo.post(
        "/admin/scenes/home_feed/experiments",
        json={"name": "m", "buckets": [{"name": "base", "percent": 100, "params": {"k": 2}}]},
    )
    assert r.status_code == 422 and r.json()["field"] == "buckets[0].params"
    r = echo.post(
        "/admin/scenes/home_feed/experiments", json={**RANK, "buckets": [], "ends_at": "x"}
    )
    assert r.status_code == 422
    assert echo.get("/admin/scenes/home_feed/experiments", params={"layer": "rank"}).json() == []

    # a deployment whose config rejects a running layer's overrides is refused too
    _start(echo, **RANK, buckets=[{"name": "a", "percent": 100, "params": {"k": 3}}])
    r = echo.post("/admin/deployments", json={"scene": "home_feed", "script": "home_feed.py"})
    assert r.status_code == 422 and r.json()["field"] == "buckets[0].params.k", r.text
    assert "layer 'rank'" in r.json()["message"]


def test_a_route_whose_config_rejects_a_layer_ignores_it(echo: TestClient) -> None:
    _start(echo, **RANK, buckets=[{"name": "a", "percent": 100, "params": {"k": 3}}])
    assert _seen(_ask(echo, "1"))["k"] == "3"
    # a rollback is never refused: the rolled-back script has no `k`, so it ignores the layer
    r = echo.post("/admin/scenes/home_feed/buckets/base/rollback")
    assert r.status_code == 201, r.text
    status = echo.get("/admin/status").json()
    [layer] = status["scenes"]["home_feed"]["layers"]
    [(where, error)] = layer["errors"].items()
    assert where == "home_feed/base+rank:a" and "k: Extra inputs are not permitted" in error
    body = _ask(echo, "1")
    assert body["strategy"]["name"] == "home_feed"
    assert body["experiment"]["layers"] == {}
    assert parse_acm(body["items"][0]["acm"]).layers == ()


def test_whitelist_and_holdout(echo: TestClient) -> None:
    _start(
        echo,
        **RANK,
        buckets=[{"name": "a", "percent": 40}, {"name": "b", "percent": 40, "params": {"k": 9}}],
        holdout_percent=20,
        whitelist={"qa_1": "b", "qa_2": "holdout"},
    )
    assert _ask(echo, "qa_1")["experiment"]["layers"] == {"rank": "b"}
    assert _seen(_ask(echo, "qa_1"))["k"] == "9"
    held = _ask(echo, "qa_2")
    assert held["experiment"]["layers"] == {"rank": "holdout"} and _seen(held)["k"] == "1"
    users = [str(u) for u in range(300)]
    holdout = [u for u in users if documented_slot(u, "home_feed:rank:r1") >= 800]  # last 200
    assert 30 < len(holdout) < 90
    for u in holdout[:10]:
        assert _ask(echo, u)["experiment"]["layers"] == {"rank": "holdout"}


def test_time_window(echo: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    now = datetime.now(UTC)
    _start(
        echo,
        **RANK,
        buckets=[{"name": "a", "percent": 100, "params": {"k": 5}}],
        starts_at=(now + timedelta(hours=1)).isoformat(),
        ends_at=(now + timedelta(hours=2)).isoformat(),
    )
    assert _ask(echo, "1")["experiment"]["layers"] == {}  # not started yet
    assert _seen(_ask(echo, "1"))["k"] == "1"
    later = (now + timedelta(minutes=90)).timestamp()
    monkeypatch.setattr(layers_mod, "time", SimpleNamespace(time=lambda: later))
    assert _ask(echo, "1")["experiment"]["layers"] == {"rank": "a"}
    assert _seen(_ask(echo, "1"))["k"] == "5"
    over = (now + timedelta(hours=3)).timestamp()
    monkeypatch.setattr(layers_mod, "time", SimpleNamespace(time=lambda: over))
    assert _ask(echo, "1")["experiment"]["layers"] == {}
    r = echo.post(
        "/admin/scenes/home_feed/experiments",
        json={**RANK, "buckets": [{"name": "a", "percent": 100}], "starts_at": "2030-01-01T00:00"},
    )
    assert r.status_code == 422 and r.json()["field"] == "starts_at"


def test_signed_tokens_name_every_layer(echo: TestClient, app: PrismApp) -> None:
    _start(echo, **RANK, buckets=[{"name": "a", "percent": 100}])
    _start(echo, layer="rerank", name="x", buckets=[{"name": "c", "percent": 100}])
    token = _ask(echo, "5")["items"][0]["acm"]
    assert token.startswith("3.home_feed.base+rank:a+rerank:c.echo@")
    acm = verify_acm(token, app.dispatcher.signer)
    assert acm.bucket == "base" and dict(acm.layers) == {"rank": "a", "rerank": "c"}


def test_changes_are_live_at_once_and_a_layer_stops(echo: TestClient) -> None:
    for k in (2, 4):
        _start(echo, **RANK, buckets=[{"name": "a", "percent": 100, "params": {"k": k}}])
        assert _seen(_ask(echo, "3"))["k"] == str(k)  # the very next request
    nodes = echo.get("/admin/status").json()["nodes"]
    assert nodes[0]["serving"]["home_feed+rank"] == "r1"
    r = echo.post("/admin/scenes/home_feed/layers/rank/stop")
    assert r.status_code == 200 and r.json()["status"] == "stopped"
    body = _ask(echo, "3")
    assert body["experiment"] == {"name": "default", "bucket": "base"} and _seen(body)["k"] == "1"
    assert "layers" not in echo.get("/admin/status").json()["scenes"]["home_feed"]
    audit = echo.get("/admin/audit", params={"limit": 3}).json()
    assert [a["action"] for a in audit[:2]] == ["stop", "start"]
    assert audit[1]["detail"]["params"] == {"a": {"k": 4}} and audit[0]["actor"] == "tester"
    r = echo.post("/admin/scenes/home_feed/layers/rank/stop")
    assert r.status_code == 404 and r.json()["field"] == "layer"
    r = echo.post("/admin/scenes/home_feed/layers/main/stop")
    assert r.status_code == 422 and r.json()["field"] == "layer"


def test_main_layer_whitelist(echo: TestClient) -> None:
    _start(
        echo,
        name="ab",
        buckets=[{"name": "ctl", "percent": 50}, {"name": "trt", "percent": 50}],
        whitelist={"qa": "trt", "qb": "ctl"},
    )
    for user, bucket in (("qa", "trt"), ("qb", "ctl")):  # no deployments: fallback
        body = echo.post("/v1/recommend", json={"scene": "home_feed", "user_id": user}).json()
        assert body["experiment"]["bucket"] == bucket


def test_cli_starts_and_stops_a_layer(echo: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    @contextmanager
    def via_test_client(url: str) -> Iterator[TestClient]:
        yield echo

    monkeypatch.setattr(cli_client, "open_client", via_test_client)
    run = CliRunner().invoke
    start = ["experiment", "home_feed", "r1", "--layer", "rank", "--bucket", "a=50"]
    start += ["--bucket", "b=50", "--whitelist", "42=b"]
    r = run(main, [*start, "--params", 'b={"k": 8}'])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["buckets"][1]["params"] == {"k": 8}
    assert _seen(_ask(echo, "42"))["k"] == "8"
    r = run(main, [*start, "--params", "c={}"])
    assert r.exit_code == 2 and "no bucket c" in r.output
    r = run(main, [*start, "--params", 'b={"nope": 1}'])
    assert r.exit_code == 1 and "422: echo.py: nope" in r.output
    r = run(main, ["stop-layer", "home_feed", "rank"])
    assert r.exit_code == 0 and json.loads(r.output)["status"] == "stopped"


def test_overrides_pass_the_deploy_gate_before_a_layer_starts(
    client: TestClient, strategies_dir: Path
) -> None:
    (strategies_dir / "fragile.py").write_text(
        "from prism_sdk import Item, StrategyConfig\n\n\n"
        "class Config(StrategyConfig):\n    depth: int = 1\n\n\n"
        "def recommend(ctx, config: Config):\n"
        "    if config.depth > 5:\n        raise RuntimeError('too deep')\n"
        "    return [Item('1')]\n"
    )
    client.post("/admin/configs", json={"script": "fragile.py", "name": "default"})
    r = client.post("/admin/deployments", json={"scene": "cart", "script": "fragile.py"})
    assert r.status_code == 201, r.text
    layer = {
        "name": "depth",
        "layer": "rank",
        "buckets": [
            {"name": "a", "percent": 50},
            {"name": "b", "percent": 50, "params": {"depth": 9}},
        ],
    }
    r = client.post("/admin/scenes/cart/experiments", json=layer)
    assert r.status_code == 422 and "RuntimeError: too deep" in r.json()["message"], r.text
    running = client.get("/admin/scenes/cart/experiments").json()
    assert not [e for e in running if e["layer"] == "rank" and e["status"] == "running"]
    layer["buckets"][1]["params"] = {"depth": 3}  # type: ignore[index]
    assert client.post("/admin/scenes/cart/experiments", json=layer).status_code == 201
