"""``Control.debug_request``: one request with its full trace from the live routing, a
deployment (active or past) or a script version (a dry run, recorded nowhere, served
to nobody, its acm tokens counted nowhere)."""

from __future__ import annotations

import asyncio
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from prism_platform.app import PrismApp
from prism_platform.control.facade import Control
from prism_platform.errors import Conflict, Invalid, NotFound, PrismPlatformError
from prism_sdk import DataClient, LocalBackend, parse_acm
from prism_testkit.accounts import grant

RECENT = ("order",)  # what home_feed drops again (drop_recent): what the user just bought


def debug(control: Control, user: str = "7", **kw: Any) -> dict[str, Any]:
    scene = kw.pop("scene", "home_feed")
    return asyncio.run(control.debug_request(scene, user, kw.pop("context", {}), **kw))


@pytest.fixture
def client(app: PrismApp) -> Iterator[TestClient]:
    with TestClient(app, headers=grant(app.control, name="tester")) as c:
        yield c


def _served(client: TestClient, user: str) -> dict[str, Any]:
    r = client.post("/v1/recommend", json={"scene": "home_feed", "user_id": user, "size": 20})
    assert r.status_code == 200, r.text
    return dict(r.json())


def _stage(body: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [s for s in body["trace"]["stages"] if s["stage"] == name]
    return dict(found)


def _active_user(backend: LocalBackend) -> tuple[str, set[str]]:
    """A demo user with recent orders, and those items."""
    data = DataClient(backend)
    for u in range(200):
        recent = {ev.item_id for ev in data.events(str(u), RECENT, 72 * 3600, 20)}
        if recent:
            return str(u), recent
    raise AssertionError("no demo user did anything in the last 72 h")


def test_the_live_routing_answers_as_served_with_every_stage_in_detail(
    app: PrismApp, client: TestClient, demo_backend: LocalBackend
) -> None:
    user, recent = _active_user(demo_backend)
    body = debug(app.control, user)
    served = _served(client, user)
    assert [it["item_id"] for it in body["items"]] == [it["item_id"] for it in served["items"]]
    assert body["experiment"] == served["experiment"] and body["strategy"] == served["strategy"]
    assert body["target"] == {"kind": "live", "dry_run": False} and "dry_run" not in body
    trace = body["trace"]
    assert trace["params"]["quota_i2i"] == 300 and trace["deployment_id"] is not None
    merge = _stage(body, "merge")
    assert merge["out"] == merge["candidates_total"] > 0
    assert {c["channel"].split("+")[0] for c in merge["candidates"]} <= {
        "i2i",
        "usercf",
        "category",
        "popular",
        "recent",
        "emb",
    }
    seen = _stage(body, "filter.seen")
    removed = {r["item"] for r in seen["removed"]}
    assert removed and removed <= recent  # what the user did is not recommended again
    assert {(r["reason"], r["by"]) for r in seen["removed"]} == {
        ("already_interacted", "filter.seen")
    }
    assert not removed & {it["item_id"] for it in body["items"]}
    assert seen["in"] - seen["out"] == seen["removed_total"] == len(removed)
    coarse = _stage(body, "coarse")  # the cut by the user's vector, with what it removed
    assert coarse["in"] == seen["out"] and coarse["out"] == min(coarse["in"], 300)
    assert coarse["removed_total"] == coarse["in"] - coarse["out"]
    assert {(r["reason"], r["by"]) for r in coarse.get("removed", [])} <= {("coarse_cut", "coarse")}
    # what the script returned, then what the platform dropped of it (off-shelf items...)
    returned = [c["item"] for c in _stage(body, "strategy.home_feed")["candidates"]]
    dropped = {r["item"] for r in _stage(body, "platform.finalize").get("removed", [])}
    served_ids = [it["item_id"] for it in body["items"]]
    last = returned.index(served_ids[-1])
    assert [i for i in returned[: last + 1] if i not in dropped] == served_ids


def test_a_debug_run_is_counted_nowhere(app: PrismApp) -> None:
    requests = app.metrics.requests.values
    before = dict(requests)
    debug(app.control, "7")
    debug(app.control, "7", script="popular_only.py")
    assert dict(requests) == before


def test_a_past_deployment_serves_again_for_one_request_only(
    app: PrismApp, client: TestClient
) -> None:
    control = app.control
    (old,) = control.deployments("home_feed", active=True)
    control.put_config("home_feed.py", "narrow", {"quota_i2i": 5, "rules": []}, actor="t")
    control.deploy("home_feed", "base", "home_feed.py", "narrow", actor="t", check_latency=False)
    (live,) = control.deployments("home_feed", active=True)
    generation = control.state.snapshot.generation
    history = [d.id for d in control.deployments("home_feed")]
    audited = len(control.audit(1000))

    past = debug(control, "7", deployment_id=old.id)
    assert past["dry_run"] is True
    assert past["target"]["kind"] == "deployment" and past["target"]["deployment_id"] == old.id
    assert past["strategy"]["config"] == "default" and past["trace"]["deployment_id"] == old.id
    assert past["trace"]["params"]["quota_i2i"] == 300
    now = debug(control, "7")
    assert now["trace"]["deployment_id"] == live.id and now["trace"]["params"]["quota_i2i"] == 5

    # nothing changed: the live deployment, the history, the audit log, the snapshot
    assert [d.id for d in control.deployments("home_feed", active=True)] == [live.id]
    assert [d.id for d in control.deployments("home_feed")] == history
    assert len(control.audit(1000)) == audited
    assert control.state.snapshot.generation == generation
    assert _served(client, "7")["strategy"]["config"] == "narrow"


def test_a_script_dry_run_is_served_to_nobody_and_its_tokens_never_count(
    app: PrismApp, client: TestClient
) -> None:
    control = app.control
    history = [d.id for d in control.deployments()]
    audited = len(control.audit(1000))
    dry = debug(control, "7", script="popular_only.py", params={"shuffle": False})
    assert dry["dry_run"] is True and dry["strategy"]["name"] == "popular_only"
    assert dry["target"]["kind"] == "script" and dry["target"]["params"] == {"shuffle": False}
    assert dry["trace"]["params"] == {"pool": 300, "shuffle": False}
    assert [s["stage"] for s in dry["trace"]["stages"]] == [
        "strategy.popular_only",
        "source.popular",
        "platform.finalize",
    ]
    assert [d.id for d in control.deployments()] == history
    assert len(control.audit(1000)) == audited
    assert _served(client, "7")["strategy"]["name"] == "home_feed"  # still the live one

    live = debug(control, "7")
    events = [
        {
            "event_id": uuid.uuid4().hex,
            "type": "click",
            "acm": it["acm"],
            "user_id": "7",
            "item_id": it["item_id"],
            "ts": time.time(),
        }
        for it in (dry["items"][0], live["items"][0])
    ]
    assert parse_acm(dry["items"][0]["acm"]).bucket == "dry_run"
    r = client.post("/v1/events", json={"events": events})
    assert r.status_code == 200, r.text
    dry_result, live_result = r.json()["results"]
    assert dry_result["status"] == "rejected"  # signed with a key no node holds
    assert live_result["status"] == "accepted"


def test_a_named_config_and_params_merge_and_bad_ones_name_their_field(app: PrismApp) -> None:
    control = app.control
    control.put_config("popular_only.py", "small", {"pool": 40}, actor="t")
    body = debug(control, "7", script="popular_only.py", config="small", params={"pool": 50})
    assert body["trace"]["params"]["pool"] == 50 and body["strategy"]["config"] == "small+params"
    with pytest.raises(Invalid) as bad:
        debug(control, "7", script="popular_only.py", params={"pool": "many"})
    assert bad.value.field == "params.pool"
    with pytest.raises(NotFound) as missing:
        debug(control, "7", script="popular_only.py", config="nope")
    assert missing.value.field == "config"


@pytest.mark.parametrize(
    ("kw", "error", "field"),
    [
        ({"scene": "nowhere"}, NotFound, "scene"),
        ({"scene": "Not A Scene"}, Invalid, "scene"),
        ({"user": ""}, Invalid, "user_id"),
        ({"size": 0}, Invalid, "size"),
        ({"context": {"page": 5}}, Invalid, "context.page"),
        ({"deployment_id": 999_999}, NotFound, "deployment_id"),
        ({"deployment_id": 1, "script": "popular_only.py"}, Invalid, "deployment_id"),
        ({"config": "default"}, Invalid, "config"),
        ({"version": "HEAD"}, Invalid, "version"),
        ({"params": {"pool": 1}}, Invalid, "params"),
        ({"script": "no_such.py"}, PrismPlatformError, "script"),
    ],
)
def test_bad_requests_name_their_field(
    app: PrismApp, kw: dict[str, Any], error: type[PrismPlatformError], field: str
) -> None:
    with pytest.raises(error) as raised:
        debug(app.control, kw.pop("user", "7"), **kw)
    assert raised.value.field == field, raised.value.message


def test_a_deployment_of_another_scene_is_refused(app: PrismApp) -> None:
    (cart,) = app.control.deployments("cart", active=True)
    with pytest.raises(Invalid) as raised:
        debug(app.control, "7", deployment_id=cart.id)
    assert raised.value.field == "deployment_id" and "cart" in raised.value.message


def test_a_process_that_serves_no_requests_cannot_debug(app: PrismApp) -> None:
    control = app.control
    control.runner = None
    with pytest.raises(Conflict):
        debug(control, "7")


def test_a_script_runs_at_a_commit_while_the_working_tree_has_moved_on(
    app: PrismApp, strategies_dir: Path
) -> None:
    env = ["-c", "user.name=Ada", "-c", "user.email=ada@example.com"]
    subprocess.run(["git", "init", "-q", str(strategies_dir)], check=True)
    subprocess.run(["git", "-C", str(strategies_dir), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(strategies_dir), *env, "commit", "-qm", "demo"], check=True)
    script = strategies_dir / "popular_only.py"
    script.write_text(script.read_text().replace("pool: int = 300", "pool: int = 30"))

    then = debug(app.control, "7", script="popular_only.py", version="HEAD")
    now = debug(app.control, "7", script="popular_only.py")
    assert then["trace"]["params"]["pool"] == 300 and now["trace"]["params"]["pool"] == 30
    head = subprocess.run(
        ["git", "-C", str(strategies_dir), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    assert head.startswith(then["strategy"]["version"])  # the commit, resolved
    assert now["strategy"]["version"].startswith("wt-")
    with pytest.raises(NotFound) as unknown:
        debug(app.control, "7", script="popular_only.py", version="no-such-ref")
    assert unknown.value.field == "version"


def test_a_dry_run_gets_the_users_layer_overrides_where_its_config_takes_them(
    app: PrismApp,
) -> None:
    control = app.control
    (dep,) = control.deployments("home_feed", active=True)
    control.start_experiment(
        "home_feed",
        "popular_weight",
        [("heavy", 100.0)],
        actor="t",
        layer="rank",
        params={"heavy": {"weight_popular": 0.9}},
    )
    live = debug(control, "7")
    assert live["experiment"]["layers"] == {"rank": "heavy"}
    assert live["trace"]["overrides"] == {"weight_popular": 0.9}
    assert live["trace"]["params"]["weight_popular"] == 0.9
    again = debug(control, "7", deployment_id=dep.id)
    assert again["trace"]["params"]["weight_popular"] == 0.9  # as the user would get it
    other = debug(control, "7", script="popular_only.py")  # its Config has no such field
    assert other["trace"]["params"] == {"pool": 300, "shuffle": True}
    assert other["trace"]["overrides"] == {}


def test_a_script_that_fails_shows_why_and_counts_no_error(
    app: PrismApp, strategies_dir: Path
) -> None:
    (strategies_dir / "broken.py").write_text(
        "from prism_sdk import Item\n\n\ndef recommend(ctx):\n    return [Item('1')][5]\n"
    )
    errors = dict(app.metrics.strategy_errors.values)
    body = debug(app.control, "7", script="broken.py")
    assert body["dry_run"] is True and body["strategy"]["name"] == "fallback"
    assert body["trace"]["error"] == "exception"
    assert body["trace"]["failure"] == "IndexError: list index out of range"
    assert [s["stage"] for s in body["trace"]["stages"]][-2:] == [
        "platform.fallback",
        "platform.finalize",
    ]
    assert dict(app.metrics.strategy_errors.values) == errors
