"""POST /v1/events: a body nested too deep is a JSON 400 naming the limit (not a crash),
and a rejection quotes only a prefix of what it rejects."""

from __future__ import annotations

import time

import pytest
from starlette.testclient import TestClient

from prism_platform.errors import MAX_JSON_DEPTH


def _event(**fields: object) -> dict[str, object]:
    base = {"event_id": "e1", "type": "click", "acm": "nope", "user_id": "u", "item_id": "i"}
    return base | {"ts": time.time()} | fields


@pytest.mark.parametrize("levels", [MAX_JSON_DEPTH + 1, 1_000, 100_000])
def test_deep_nesting_anywhere_is_a_400_naming_the_limit(client: TestClient, levels: int) -> None:
    deep = b"[" * (levels - 3) + b"]" * (levels - 3)  # under {"events": [{"value": ...}]}
    body = b'{"events": [{"event_id": "e1", "value": ' + deep + b"}]}"
    r = client.post("/v1/events", content=body)
    assert r.status_code == 400, r.text
    answer = r.json()
    assert answer["error"] == "json_too_deep" and answer["max_depth"] == MAX_JSON_DEPTH


def test_nesting_within_the_limit_is_judged_event_by_event(client: TestClient) -> None:
    deep = b"[" * (MAX_JSON_DEPTH - 3) + b"]" * (MAX_JSON_DEPTH - 3)
    body = b'{"events": [{"event_id": "e1", "value": ' + deep + b"}]}"
    r = client.post("/v1/events", content=body)
    assert r.status_code == 200, r.text
    [result] = r.json()["results"]
    assert result["status"] == "rejected" and result["reason"] == "malformed"


def test_a_rejection_quotes_only_a_prefix_of_a_huge_value(client: TestClient) -> None:
    huge = "e" * 100_000
    for event in (
        _event(event_id=huge),
        _event(event_id=huge, type="t" * 100_000),
        _event(event_id=huge, acm="2." + "a" * 100_000),
    ):
        r = client.post("/v1/events", json={"events": [event]})
        assert r.status_code == 200, r.text[:300]
        [result] = r.json()["results"]
        assert result["status"] == "rejected"
        assert result["event_id"].startswith("e" * 128) and len(result["event_id"]) < 160
        assert len(r.content) < 1_000, r.text[:500]
