"""Experiment results one can trust, through POST /v1/events and the real event logs
(SQLite, a Redis Stream): replayed tokens count once, tokens are bound to their user
and item and expire, values are capped, keys rotate, and what did not count shows in the
report per bucket and in ``prism_events_total``."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from prism_platform.app import PrismApp
from prism_platform.events.aggregate import aggregate_all
from prism_platform.events.sink import open_sink
from prism_platform.settings import Settings
from prism_sdk import AcmSigner, parse_acm
from prism_testkit.accounts import grant


@dataclass
class Node:
    app: PrismApp
    client: TestClient
    settings: Settings
    """The node's event-log settings (for folding its log)."""


Factory = Callable[..., Node]


@pytest.fixture(params=["sqlite", "redis"])
def open_node(request: pytest.FixtureRequest, make_app: Any, tmp_path: Path) -> Iterator[Factory]:
    """Opens a node whose event log is SQLite or a Redis Stream, with no background
    aggregation (the tests fold the log themselves). Nodes opened in one test share
    their var/ (the key), metadata database and event log."""
    log: dict[str, Any] = {"events_backend": request.param, "events_aggregate_s": 0}
    if request.param == "redis":
        server = request.getfixturevalue("redis_server")
        log |= {"redis_url": server.url, "redis_prefix": f"t{uuid.uuid4().hex[:8]}:"}
    opened: list[TestClient] = []

    def open_(**settings: Any) -> Node:
        app = make_app(**log, **settings)
        client = TestClient(app, headers=grant(app.control))
        opened.append(client.__enter__())
        return Node(app, client, Settings(var_dir=tmp_path / "var", **log))

    yield open_
    for c in opened:
        c.__exit__(None, None, None)


def _items(c: TestClient, user: str, scene: str = "home_feed", **ctx: Any) -> list[dict[str, Any]]:
    body = {"scene": scene, "user_id": user, "size": 5, "context": ctx}
    r = c.post("/v1/recommend", json=body)
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


def _event(it: dict[str, Any], kind: str, user: str, **kw: Any) -> dict[str, Any]:
    base = {"event_id": uuid.uuid4().hex, "type": kind, "acm": it["acm"], "user_id": user}
    return base | {"item_id": it["item_id"], "ts": time.time()} | kw


def _post(c: TestClient, *events: dict[str, Any]) -> dict[str, Any]:
    r = c.post("/v1/events", json={"events": list(events)})
    assert r.status_code == 200, r.text
    return dict(r.json())


def _report(node: Node) -> dict[str, Any]:
    sink = open_sink(node.settings)
    try:
        aggregate_all(sink, node.app.control.store.engine)
    finally:
        sink.close()
    r = node.client.get("/admin/experiments/home_feed/report")
    assert r.status_code == 200, r.text
    return dict(r.json())


def _forged(token: str) -> str:
    """The token with another last tag character."""
    return token[:-1] + ("0" if token[-1] != "0" else "1")


def _ab(c: TestClient) -> None:
    buckets = [{"name": "control", "percent": 50}, {"name": "treatment", "percent": 50}]
    exp = {"name": "ab", "buckets": buckets}
    c.post("/admin/scenes/home_feed/experiments", json=exp).raise_for_status()
    for bucket in ("control", "treatment"):
        dep = {"scene": "home_feed", "bucket": bucket, "script": "home_feed.py"}
        c.post("/admin/deployments", json=dep).raise_for_status()


def test_a_replayed_token_counts_once(open_node: Factory) -> None:
    """The issue's attack: one valid token replayed under 50 new event ids. The replays
    are duplicates, the report's figures do not move, and its bucket shows them."""
    node = open_node()
    c = node.client
    _ab(c)
    for u in range(40):  # some real traffic: every item seen, the first clicked
        user = f"u{u}"
        items = _items(c, user)
        _post(c, *[_event(it, "exposure", user) for it in items], _event(items[0], "click", user))
    before = _report(node)
    user = "u7"
    items = _items(c, user)
    token_bucket = parse_acm(items[0]["acm"]).bucket
    first = _post(c, _event(items[0], "exposure", user), _event(items[0], "click", user))
    assert (first["accepted"], first["duplicates"]) == (2, 0)
    for kind in ("exposure", "click"):
        replay = _post(c, *[_event(items[0], kind, user) for _ in range(50)])
        assert (replay["accepted"], replay["duplicates"], replay["rejected"]) == (0, 50, 0)
        assert all(r == {"event_id": r["event_id"], "status": "accepted", "duplicate": True}
                   for r in replay["results"])  # fmt: skip
    after = _report(node)
    bucket = next(b for b in after["buckets"] if b["bucket"] == token_bucket)
    old = next(b for b in before["buckets"] if b["bucket"] == token_bucket)
    assert (bucket["exposures"], bucket["clicks"]) == (old["exposures"] + 1, old["clicks"] + 1)
    assert bucket["users"] == old["users"]  # u7 was there already
    assert bucket["rejected"] == {"duplicate": 100}
    treat = after["buckets"][1]["ctr_vs_control"]
    assert treat["unit"] == "user" and treat["p_value"] is not None


def test_a_token_is_bound_to_its_user_and_item(open_node: Factory) -> None:
    """An ``item_detail`` token reported with another user or another item is rejected."""
    c = open_node().client
    it, other = _items(c, "alice", "item_detail", item_id="17")[:2]
    got = _post(
        c,
        _event(it, "click", "bob"),
        _event(it, "click", "alice", item_id=other["item_id"]),
        _event(it, "click", "bob", item_id=other["item_id"]),
        _event(it, "click", "alice"),
    )
    assert [(r["status"], r.get("reason"), r.get("field")) for r in got["results"]] == [
        ("rejected", "token_user_mismatch", "events[0].acm"),
        ("rejected", "token_item_mismatch", "events[1].acm"),
        ("rejected", "token_user_mismatch", "events[2].acm"),
        ("accepted", None, None),
    ]


def test_values_are_finite_non_negative_and_capped(open_node: Factory) -> None:
    c = open_node(event_value_cap=1000.0).client
    items = _items(c, "carol")
    got = _post(
        c,
        _event(items[0], "order", "carol", value=1e308),
        _event(items[1], "order", "carol", value=1000.01),
        _event(items[2], "order", "carol", value=-1.0),
        _event(items[3], "order", "carol", value=1000.0, order_id="o-1"),
    )
    assert [(r["status"], r.get("reason")) for r in got["results"]] == [
        ("rejected", "value_too_large"),
        ("rejected", "value_too_large"),
        ("rejected", "malformed"),
        ("accepted", None),
    ]
    body = b'{"events": [' + _raw(items[4], "carol") + b', "value": 1e999}]}'
    inf = c.post("/v1/events", content=body).json()["results"][0]
    assert (inf["reason"], inf["field"]) == ("malformed", "events[0].value")


def _raw(it: dict[str, Any], user: str) -> bytes:
    return (
        f'{{"event_id": "{uuid.uuid4().hex}", "type": "order", "acm": "{it["acm"]}", '
        f'"user_id": "{user}", "item_id": "{it["item_id"]}", "ts": {time.time()}'
    ).encode()


def test_orders_repeat_only_with_distinct_order_ids(open_node: Factory) -> None:
    c = open_node().client
    it = _items(c, "dan")[0]
    got = _post(
        c,
        *[_event(it, "order", "dan", value=5.0, order_id=f"o{n}") for n in (1, 2, 1, 3, 4)],
    )
    flags = [r.get("duplicate", False) for r in got["results"]]
    assert flags == [False, False, True, False, True]  # o1 twice; at most 3 per token


def _key(tmp_path: Path) -> bytes:
    return (tmp_path / "var" / "acm.key").read_bytes().strip()


def test_tokens_expire(open_node: Factory, tmp_path: Path) -> None:
    """A token older than PRISM_ACM_MAX_AGE_S is rejected; one just younger counts. The
    tokens are signed here with the node's key at chosen issue times."""
    c = open_node(acm_max_age_s=3600.0).client
    it = _items(c, "erin")[0]
    acm = parse_acm(it["acm"])._replace(kid="", user_hash="", item_hash="")
    now = time.time()
    old = acm._replace(issued=int(now - 3700)).sign(_key(tmp_path), "erin", it["item_id"])
    young = acm._replace(issued=int(now - 3500)).sign(_key(tmp_path), "erin", it["item_id"])
    got = _post(c, _event(it, "click", "erin", acm=old), _event(it, "click", "erin", acm=young))
    assert [(r["status"], r.get("reason")) for r in got["results"]] == [
        ("rejected", "token_expired"),
        ("accepted", None),
    ]


def test_version_2_tokens_count_during_the_transition_only(
    open_node: Factory, tmp_path: Path
) -> None:
    c = open_node(acm_v2_until=time.time() + 3600).client
    it = _items(c, "finn")[0]
    v2 = parse_acm(it["acm"])._replace(kid="", issued=0, user_hash="", item_hash="")
    token = v2.sign_v2(_key(tmp_path))
    assert token.startswith("2.")
    assert _post(c, _event(it, "click", "finn", acm=token))["accepted"] == 1
    later = open_node(acm_v2_until=time.time() - 1).client  # the window has closed
    got = _post(later, _event(it, "exposure", "finn", acm=token))
    assert got["results"][0]["reason"] == "token_expired"


def test_a_rotated_key_keeps_verifying_its_tokens(open_node: Factory) -> None:
    it = _items(open_node(acm_key="old-key").client, "gus")[0]
    rotated = open_node(acm_key="new-key", acm_previous_keys="old-key").client
    assert _post(rotated, _event(it, "click", "gus"))["accepted"] == 1
    fresh = _items(rotated, "gus")[0]
    assert parse_acm(fresh["acm"]).kid == AcmSigner("new-key").kid
    retired = open_node(acm_key="new-key").client
    got = _post(retired, _event(it, "exposure", "gus"))
    assert got["results"][0]["reason"] == "unknown_key"


def test_what_did_not_count_is_reported_per_bucket_and_counted(open_node: Factory) -> None:
    node = open_node()
    c = node.client
    _ab(c)
    seen: dict[str, int] = {}
    for u in range(12):
        user = f"h{u}"
        items = _items(c, user)
        bucket = parse_acm(items[0]["acm"]).bucket
        seen[bucket] = seen.get(bucket, 0) + 1
        _post(
            c,
            _event(items[0], "exposure", user),
            _event(items[0], "exposure", user),  # a replay
            _event(items[1], "order", user, value=1e308),  # value_too_large
            _event(items[2], "click", "someone-else"),  # token_user_mismatch
            _event(items[4], "click", user, acm=_forged(items[4]["acm"])),  # bad_signature
            _event(items[3], "like", user),  # unknown_type
        )
    report = _report(node)
    for b in report["buckets"]:
        n = seen.get(b["bucket"], 0)
        # a genuine token names its buckets (a forged one, bad_signature, names none)
        reasons = ("duplicate", "value_too_large", "token_user_mismatch", "unknown_type")
        assert b["rejected"] == (dict.fromkeys(reasons, n) if n else {})
        assert b["guardrails"]["requests"] == n and b["guardrails"]["fallback_rate"] == 0.0
    metrics = c.get("/metrics").text
    for outcome, reason, n in (
        ("accepted", "-", 12),
        ("duplicate", "-", 12),
        ("rejected", "value_too_large", 12),
        ("rejected", "token_user_mismatch", 12),
        ("rejected", "unknown_type", 12),
        ("rejected", "bad_signature", 12),
    ):
        line = f'prism_events_total{{outcome="{outcome}",reason="{reason}"}} {n}'
        assert line in metrics, line
