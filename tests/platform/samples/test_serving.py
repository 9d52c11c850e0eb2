"""Sampling on a serving node: the demo samples every request and records what it
returned; a scene's ``sample_rate`` keeps whole sessions of that share of users; a
stuck log never slows a request."""

from __future__ import annotations

import binascii
import json
import time
import uuid
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from prism_platform.app import PrismApp
from prism_platform.cli import client as cli_client
from prism_platform.cli.main import main
from prism_platform.errors import Invalid
from prism_platform.metrics.registry import Metrics
from prism_platform.samples import SampleWriter
from prism_platform.samples.files import FileSampleLog
from prism_testkit.accounts import grant
from prism_testkit.services import RedisServer

from ...conftest import AppFactory
from .test_writer import BlockedLog


def recommend(client: TestClient, user: str, **extra: Any) -> dict[str, Any]:
    body = {"scene": "home_feed", "user_id": user, "size": 5, **extra}
    r = client.post("/v1/recommend", json=body)
    assert r.status_code == 200, r.text
    return dict(r.json())


def exported(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    r = client.get("/admin/samples", params={"scene": "home_feed", **params})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/x-ndjson"
    return [json.loads(line) for line in r.text.splitlines()]


def test_the_demo_records_what_each_request_returned(client: TestClient) -> None:
    assert client.get("/admin/scenes/home_feed").json()["sample_rate"] == 1.0
    answers = {}
    for user in ("1", "2", "3"):
        for page in ("home", "deals"):
            a = recommend(client, user, context={"page": page}, exclude=["42"])
            answers[a["request_id"]] = (user, page, a)
    cart = {"scene": "cart", "user_id": "1", "context": {"cart_items": ["7"]}}
    assert client.post("/v1/recommend", json=cart).status_code == 200
    samples = exported(client)
    assert sorted(s["request_id"] for s in samples) == sorted(answers)  # no cart request
    for s in samples:
        user, page, a = answers[s["request_id"]]
        assert s["items"] == [it["item_id"] for it in a["items"]] and len(s["items"]) == 5
        assert s["scores"] == [it["score"] for it in a["items"]]
        assert s["strategy"] == f"{a['strategy']['name']}@{a['strategy']['version']}"
        assert (s["experiment"], s["bucket"]) == (
            a["experiment"]["name"],
            a["experiment"]["bucket"],
        )
        assert (s["user_id"], s["context"], s["exclude"], s["size"]) == (
            user,
            {"page": page},
            ["42"],
            5,
        )
        assert s["degraded"] is a["degraded"] is False and s["error"] is None
        assert s["v"] == 1 and s["latency_ms"] > 0 and abs(s["ts"] - time.time()) < 600
    status = client.get("/admin/status").json()["samples"]
    assert status["stored"] == 7 and status["dropped"] == 0 and status["log"].startswith("files:")


def test_a_sampled_users_whole_session_is_kept(client: TestClient) -> None:
    r = client.patch("/admin/scenes/home_feed", json={"sample_rate": 0.3})
    assert r.status_code == 200 and r.json()["sample_rate"] == 0.3
    users = [f"shopper-{i}" for i in range(40)]
    for _ in range(3):  # each user's session: three requests
        for user in users:
            recommend(client, user)
    kept: dict[str, int] = {}
    for s in exported(client):
        kept[s["user_id"]] = kept.get(s["user_id"], 0) + 1
    documented = {u for u in users if binascii.crc32(u.encode()) < 0.3 * 2**32}
    assert 0 < len(documented) < len(users)  # the check below can tell in from out
    assert kept == dict.fromkeys(documented, 3)

    assert client.patch("/admin/scenes/home_feed", json={"sample_rate": 0}).status_code == 200
    before = len(exported(client))
    for user in users:
        recommend(client, user)
    assert len(exported(client)) == before


def test_a_stuck_log_never_slows_a_request(app: PrismApp, client: TestClient) -> None:
    log = BlockedLog()
    metrics = Metrics()
    writer = SampleWriter(log, capacity=2, flush_s=0.01, metrics=metrics)
    app.dispatcher.samples = writer
    try:
        recommend(client, "1")
        assert log.entered.wait(30)  # the writer's thread hangs in the log
        for i in range(6):  # answered while it hangs: one queued, then dropped
            recommend(client, str(i))
        assert writer.dropped == 4 and writer.queued == 2
        assert 'prism_samples_dropped_total{reason="buffer_full"} 4' in metrics.render()
    finally:
        log.release.set()
    writer.close()
    assert len(list(log.read("home_feed"))) == 3


def test_the_sample_rate_is_a_validated_scene_setting(app: PrismApp, client: TestClient) -> None:
    r = client.post("/admin/scenes", json={"name": "search"})
    assert r.status_code == 201 and r.json()["sample_rate"] == 0.01
    assert app.control.state.snapshot.scenes["search"].sample_rate == 0.01
    for bad in (1.5, -0.1, "half"):
        r = client.patch("/admin/scenes/search", json={"sample_rate": bad})
        assert r.status_code == 422 and r.json()["field"] == "sample_rate", r.text
    r = client.post("/admin/scenes", json={"name": "other", "sample_rate": 2})
    assert r.status_code == 422 and r.json()["field"] == "sample_rate"
    for bad_value in (True, float("nan"), 1.01):
        with pytest.raises(Invalid) as info:
            app.control.update_scene("search", actor="t", sample_rate=bad_value)
        assert info.value.field == "sample_rate"
    assert client.patch("/admin/scenes/search", json={"sample_rate": 1}).json()["sample_rate"] == 1
    assert client.get("/admin/status").json()["scenes"]["search"]["sample_rate"] == 1


def test_the_scene_commands_take_a_sample_rate(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli_client, "open_client", lambda url: nullcontext(client))
    run = CliRunner().invoke
    out = run(main, ["scene", "--name", "search", "--sample-rate", "0.25"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["sample_rate"] == 0.25
    out = run(main, ["scene-set", "search", "--sample-rate", "0"])
    assert out.exit_code == 0 and json.loads(out.output)["sample_rate"] == 0
    out = run(main, ["scene-set", "search", "--sample-rate", "1.2"])
    assert out.exit_code == 2 and "--sample-rate" in out.output


def test_a_node_on_redis_samples_into_a_stream(
    make_app: AppFactory, redis_server: RedisServer
) -> None:
    prefix = f"t{uuid.uuid4().hex[:8]}:"
    app = make_app(events_backend="redis", redis_url=redis_server.url, redis_prefix=prefix)
    with TestClient(app, headers=grant(app.control, "operator")) as c:
        answer = recommend(c, "7")
        assert c.get("/admin/status").json()["samples"]["log"] == f"redis:{prefix}samples:*"
        (s,) = exported(c)
        assert s["request_id"] == answer["request_id"]
        assert s["items"] == [it["item_id"] for it in answer["items"]]


def test_a_clean_stop_of_the_node_stores_what_was_queued(
    make_app: AppFactory, tmp_path: Path
) -> None:
    app = make_app()
    writer = app.control.sample_writer
    assert writer is not None
    writer.flush_s = 3600.0  # the thread would not store them before the stop
    with TestClient(app) as c:
        answers = [recommend(c, str(u))["request_id"] for u in range(5)]
        assert writer.queued == 5
    kept = FileSampleLog(tmp_path / "var" / "samples", file_bytes=1 << 20, max_bytes=1 << 20)
    assert [s.request_id for s in kept.read("home_feed")] == answers
