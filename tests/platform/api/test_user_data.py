"""``DELETE /admin/user-data/{user_id}`` and ``prism user forget``: one end user's data
goes from every store of a running node (event log on SQLite or Redis, with the samples
and the feature log beside it; per-user counts; the data backend), nobody else's; the
answer counts per store, a second call deletes nothing, admins only, audited by a keyed
hash (the id itself is in no audit row); events after it are new data. The retention
pass trims each store the node trims itself."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from starlette.testclient import TestClient

from prism_platform.app import PrismApp, create_app
from prism_platform.cli import client as cli_client
from prism_platform.cli.main import main
from prism_platform.control.user_data import subject_of
from prism_platform.db.event_schema import EventUserCount
from prism_platform.events.aggregate import aggregate_all
from prism_platform.events.sink import read_all
from prism_platform.feature_log import LoggedRows
from prism_platform.serving.signing import acm_key
from prism_platform.settings import Settings
from prism_sdk import Event, LocalBackend, Read
from prism_testkit.accounts import grant

from ...conftest import AppFactory
from ..samples.conftest import sample


@dataclass
class Node:
    app: PrismApp
    client: TestClient
    settings: Settings


@pytest.fixture(params=["sqlite", "redis"])
def node(request: pytest.FixtureRequest, make_app: AppFactory, tmp_path: Path) -> Iterator[Node]:
    """A demo node (its event log, samples and feature log on SQLite/files or Redis) that
    samples every home_feed request, with no background aggregation; an admin's client."""
    log: dict[str, Any] = {"events_backend": request.param, "events_aggregate_s": 0}
    if request.param == "redis":
        server = request.getfixturevalue("redis_server")
        log |= {"redis_url": server.url, "redis_prefix": f"t{uuid.uuid4().hex[:8]}:"}
    app = make_app(**log)
    app.control.update_scene("home_feed", actor="test", sample_rate=1.0)
    with TestClient(app, headers=grant(app.control, "admin", name="root")) as c:
        yield Node(app, c, Settings(var_dir=tmp_path / "var", **log))


def visit(c: TestClient, user: str) -> int:
    """A recommendation and an exposure and a click of each item; how many events."""
    r = c.post("/v1/recommend", json={"scene": "home_feed", "user_id": user, "size": 4})
    assert r.status_code == 200, r.text
    events = [
        {"event_id": uuid.uuid4().hex, "type": kind, "acm": it["acm"], "user_id": user,
         "item_id": it["item_id"], "ts": time.time()}
        for it in r.json()["items"] for kind in ("exposure", "click")
    ]  # fmt: skip
    body = c.post("/v1/events", json={"events": events}).json()
    assert body["accepted"] == len(events), body
    return len(events)


def where(node: Node, user: str) -> dict[str, int]:
    """How many entries of ``user`` each store of the node holds."""
    control, backend = node.app.control, node.app.backend
    assert control.event_sink is not None and control.feature_log is not None
    assert control.sample_writer is not None
    control.sample_writer.flush()
    events, features = backend.read([Read("events", [user]), Read("features", [user], "user")])
    return {
        "event_log": sum(e.user_id == user for e in read_all(control.event_sink.read)),
        "samples": sum(s.user_id == user for s in control.sample_writer.log.read("home_feed")),
        "feature_log": sum(r.user_id == user for r in read_all(control.feature_log.store.read)),
        "data_events": len(events[0]),
        "data_features": int(features[0] is not None),
    }


def test_forget_deletes_the_user_from_every_store_once(node: Node) -> None:
    c, control = node.client, node.app.control
    gone, kept = f"gone-{uuid.uuid4().hex[:6]}", f"kept-{uuid.uuid4().hex[:6]}"
    n = {user: visit(c, user) for user in (gone, kept)}
    node.app.backend.upsert_features("user", {gone: {"age": 30}, kept: {"age": 40}})
    assert control.feature_log is not None and control.event_sink is not None
    control.feature_log.store.append(
        [LoggedRows(f"r-{u}", time.time(), "home_feed", u, "m", "v", "h", ["a"], b"\0" * 4)
         for u in (gone, kept)]
    )  # fmt: skip
    aggregate_all(control.event_sink, control.store.engine)
    before = where(node, gone)
    assert before == where(node, kept) == {
        "event_log": n[gone], "samples": 1, "feature_log": 1,
        "data_events": n[gone], "data_features": 1,
    }  # fmt: skip

    r = c.delete(f"/admin/user-data/{gone}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["user_id"] == gone and body["subject"] == subject_of(acm_key(node.settings), gone)
    deleted = body["deleted"]
    assert {k: deleted[k] for k in before} == before
    assert deleted["user_counts"] >= 1  # its hourly rows in the experiment's buckets
    assert set(body["stores"]) == set(deleted)
    assert where(node, gone) == dict.fromkeys(before, 0)
    assert where(node, kept) == before  # nobody else's

    again = c.delete(f"/admin/user-data/{gone}").json()["deleted"]
    assert again == dict.fromkeys(deleted, 0)

    audit = c.get("/admin/audit", params={"limit": 2}).json()
    assert [(a["action"], a["actor"], a["key"]) for a in audit] == [
        ("forget_user", "root", body["subject"])
    ] * 2
    assert audit[1]["detail"]["deleted"] == deleted and audit[1]["detail"]["key_id"]
    assert gone not in json.dumps(c.get("/admin/audit", params={"limit": 1000}).json())

    visit(c, gone)  # what comes after the forget is new data
    assert where(node, gone)["event_log"] > 0


def test_only_admins_may_and_a_bad_id_is_named(node: Node) -> None:
    c, control = node.client, node.app.control
    operator = grant(control, "operator")
    r = c.delete("/admin/user-data/u1", headers=operator)
    assert r.status_code == 403 and "admin" in r.json()["message"]
    assert c.delete("/admin/user-data/u1", headers={"Authorization": ""}).status_code == 401
    r = c.delete("/admin/user-data/" + "x" * 129)
    assert r.status_code == 422 and r.json()["field"] == "user_id"
    r = c.delete("/admin/user-data/a%2Fb%20c")  # any id a request may carry
    assert r.status_code == 200 and r.json()["user_id"] == "a/b c"


def test_a_failing_store_is_named_and_the_others_are_done(
    node: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    c, control = node.client, node.app.control
    user = f"half-{uuid.uuid4().hex[:6]}"
    visit(c, user)
    assert control.sample_writer is not None

    def broken(user_id: str) -> int:
        raise ConnectionError("down")

    monkeypatch.setattr(control.sample_writer.log, "forget_user", broken)
    r = c.delete(f"/admin/user-data/{user}")
    assert r.status_code == 503 and r.json()["field"] == "samples"
    assert "try again" in r.json()["message"]
    assert where(node, user)["event_log"] == 0  # the other stores are done
    entry = c.get("/admin/audit", params={"limit": 1}).json()[0]
    assert entry["action"] == "forget_user" and entry["detail"]["failed"] == {
        "samples": "ConnectionError"
    }


def test_prism_user_forget_calls_the_node(node: Node, monkeypatch: pytest.MonkeyPatch) -> None:
    c = node.client
    user = f"cli/{uuid.uuid4().hex[:6]}"
    n = visit(c, user)
    monkeypatch.setattr(cli_client, "open_client", lambda url: nullcontext(c))
    out = CliRunner().invoke(main, ["user", "forget", user, "--url", "http://node"])
    assert out.exit_code == 0, out.output
    answer = json.loads(out.output)
    assert answer["user_id"] == user and answer["deleted"]["event_log"] == n
    viewer = TestClient(node.app, headers=grant(node.app.control, "viewer"))
    monkeypatch.setattr(cli_client, "open_client", lambda url: nullcontext(viewer))
    out = CliRunner().invoke(main, ["user", "forget", user, "--url", "http://node"])
    assert out.exit_code == 1 and "403" in out.output


def test_the_retention_pass_trims_the_stores_the_node_trims(tmp_path: Path) -> None:
    backend = LocalBackend()  # its own: the session's demo world is not aged here
    now = time.time()
    backend.append_events("u", [Event(now - 40 * 86400, "i1", "click"), Event(now, "i2", "click")])
    settings = Settings(
        var_dir=tmp_path / "var", database_url=f"sqlite:///{tmp_path}/own.db", demo=False,
        events_aggregate_s=0,
    )  # fmt: skip
    app = create_app(settings, backend=backend)
    control = app.control
    try:
        assert control.sample_writer is not None
        control.sample_writer.log.append(
            [sample("old", ts=now - 31 * 86400), sample("new", ts=now)]
        )
        hours = [datetime.fromtimestamp(now - age, UTC) for age in (181 * 86400, 3600)]
        with control.store.engine.begin() as conn:
            conn.execute(sa.insert(EventUserCount), [count_row(h) for h in hours])
        replays = tmp_path / "var" / "replays"
        replays.mkdir()
        for name, age in (("1.json", 31 * 86400), ("1.data.json", 31 * 86400), ("2.json", 60)):
            (replays / name).write_text("{}")
            os.utime(replays / name, (now - age, now - age))

        assert control.feature_log is not None
        control.feature_log.store.append(
            [
                LoggedRows(f"r{age}", now - age, "s", "u", "m", "v", "h", [], b"")
                for age in (8 * 86400, 60)
            ]
        )

        gone = control.apply_retention()  # what the node's loop runs every 10 minutes
        assert gone == {
            "samples": 1, "feature_log": 1, "data_events": 1, "user_counts": 1, "replays": 2
        }  # fmt: skip
        assert [e.item_id for e in backend.events["u"]] == ["i2"]
        assert [s.request_id for s in control.sample_writer.log.read("home_feed")] == ["new"]
        assert [p.name for p in replays.iterdir()] == ["2.json"]
        assert set(control.apply_retention().values()) == {0}
    finally:
        assert control.sample_writer is not None
        control.sample_writer.close()
        control.store.dispose()


def count_row(hour: datetime) -> dict[str, Any]:
    return {
        "scene": "home_feed", "layer": "main", "bucket": "base", "hour": hour,
        "user_key": 1, "exposures": 1, "clicks": 0, "carts": 0, "orders": 0, "order_value": 0.0,
    }  # fmt: skip
