"""POST /v1/events: per-event results, idempotency, realtime feed, batch errors."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from prism_platform.app import PrismApp
from prism_sdk import Acm, Read


def _items(client: TestClient, user: str) -> list[dict[str, Any]]:
    body = client.post("/v1/recommend", json={"scene": "home_feed", "user_id": user, "size": 5})
    return list(body.json()["items"])


def _event(it: dict[str, Any], kind: str, user: str, **kw: Any) -> dict[str, Any]:
    base = {"event_id": uuid.uuid4().hex, "type": kind, "acm": it["acm"], "user_id": user}
    return base | {"item_id": it["item_id"], "ts": time.time()} | kw


def test_accepts_reports_duplicates_and_feeds_realtime(client: TestClient, app: PrismApp) -> None:
    user = f"ev-{uuid.uuid4().hex[:6]}"
    items = _items(client, user)
    batch = [_event(it, "exposure", user) for it in items] + [_event(items[2], "click", user)]
    r = client.post("/v1/events", json={"events": batch})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (6, 0, 0)
    assert [x["status"] for x in body["results"]] == ["accepted"] * 6

    again = client.post("/v1/events", json={"events": batch[-2:] + batch[-1:]}).json()
    assert (again["accepted"], again["duplicates"]) == (0, 3)
    assert all(
        x == {"event_id": x["event_id"], "status": "accepted", "duplicate": True}
        for x in again["results"]
    )

    recent = app.backend.read([Read("events", [user])])[0][0]
    assert [(e.item_id, e.type) for e in recent][0] == (items[2]["item_id"], "click")
    assert sum(e.type == "exposure" for e in recent) == 5  # duplicates not fed twice


def test_each_bad_event_is_rejected_with_its_reason(client: TestClient) -> None:
    user = "ev-bad"
    it = _items(client, user)[0]
    other_key = Acm("home_feed", "base", "home_feed", "x", ("i2i",), 1, "r").sign(
        b"not the key", user, it["item_id"]
    )
    forged = it["acm"].replace(".home_feed.base.", ".home_feed.other.")
    events = [
        _event(it, "like", user),
        _event(it, "click", user, acm=forged),
        _event(it, "click", user, acm=other_key),
        _event(it, "click", user, ts=time.time() - 30 * 86400),
        _event(it, "click", user, ts="yesterday"),
        _event(it, "click", user, acm="1.home_feed.base.home_feed@v.i2i.1.r"),
        _event(it, "click", user, acm="garbage"),
        {"event_id": "no-user", "type": "click", "acm": it["acm"], "item_id": "1", "ts": 1.0},
        _event(it, "order", user, value=-3),
        _event(it, "click", user, user_id=""),
        _event(it, "click", user),
    ]
    body = client.post("/v1/events", json={"events": events}).json()
    got = [(r["status"], r.get("reason"), r.get("field")) for r in body["results"]]
    assert got == [
        ("rejected", "unknown_type", "events[0].type"),
        ("rejected", "bad_signature", "events[1].acm"),
        ("rejected", "unknown_key", "events[2].acm"),
        ("rejected", "stale", "events[3].ts"),
        ("rejected", "malformed", "events[4].ts"),
        ("rejected", "bad_signature", "events[5].acm"),
        ("rejected", "malformed", "events[6].acm"),
        ("rejected", "malformed", "events[7].user_id"),
        ("rejected", "malformed", "events[8].value"),
        ("rejected", "malformed", "events[9].user_id"),
        ("accepted", None, None),
    ]
    assert body["results"][7]["event_id"] == "no-user"
    assert "unknown event type 'like'" in body["results"][0]["message"]
    assert (body["accepted"], body["rejected"]) == (1, 10)


def test_batch_level_errors_name_the_field(client: TestClient) -> None:
    cases = [
        (b"{nope", 400, "(body)"),
        (b'{"evts": []}', 422, "evts"),
        (b"{}", 422, "events"),
        (b'{"events": 3}', 422, "events"),
        (b'{"events": [' + b",".join([b"{}"] * 1001) + b"]}", 413, "events"),
    ]
    for body, status, field in cases:
        r = client.post("/v1/events", content=body)
        assert r.status_code == status, (body[:20], r.text)
        assert r.json()["field"] == field
    r = client.post("/v1/events", content=b"x" * (5 * 1024 * 1024))
    assert r.status_code == 413 and r.json()["error"] == "body_too_large"
    assert client.post("/v1/events", json={"events": []}).json()["accepted"] == 0


def test_events_are_in_the_durable_log(client: TestClient, tmp_path: Path) -> None:
    from prism_platform.events.sqlite_sink import SqliteSink

    it = _items(client, "ev-log")[0]
    ev = _event(it, "click", "ev-log", value=None)
    client.post("/v1/events", json={"events": [ev]}).raise_for_status()
    log = SqliteSink(tmp_path / "var" / "events.db")
    try:
        stored = [e for _, e in log.read("", 1000)]
    finally:
        log.close()
    assert [(e.event_id, e.acm, e.item_id) for e in stored][-1] == (
        ev["event_id"],
        it["acm"],
        it["item_id"],
    )
