"""/v1/recommend refuses bodies nested too deep (a JSON 400 naming the limit, not a
crash) and never echoes more than a short prefix of what it was sent."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from prism_platform.app import PrismApp
from prism_platform.errors import MAX_JSON_DEPTH


def body_nested(levels: int, where: str = "context") -> bytes:
    """A recommend body whose nesting is ``levels`` deep (the body object included)."""
    inner = b"[" * (levels - 2) + b"]" * (levels - 2)
    head = b'{"scene": "home_feed", "user_id": "7", "' + where.encode()
    return head + b'": {"x": ' + inner + b"}}"


def post(client: TestClient, body: bytes) -> tuple[int, dict[str, object]]:
    r = client.post("/v1/recommend", content=body, headers={"content-type": "application/json"})
    assert r.headers["content-type"] == "application/json"
    return r.status_code, r.json()


@pytest.mark.parametrize("levels", [MAX_JSON_DEPTH + 1, 1_000, 100_000])  # 100,000: 200 KB
def test_deeper_nesting_is_a_400_naming_the_limit(client: TestClient, levels: int) -> None:
    status, answer = post(client, body_nested(levels))
    assert status == 400, answer
    assert answer["error"] == "json_too_deep" and answer["max_depth"] == MAX_JSON_DEPTH
    assert "64 levels" in str(answer["message"]) and answer["field"] == "(body)"


def test_the_limit_is_exact_and_brackets_in_strings_do_not_count(client: TestClient) -> None:
    status, answer = post(client, body_nested(MAX_JSON_DEPTH))
    assert status == 200 and answer["degraded"] is False
    quoted = b'{"scene": "home_feed", "user_id": "7", "context": {"q": "' + b"[{" * 5000 + b'"}}'
    assert post(client, quoted)[0] == 200
    # too deep anywhere, even under a field the request does not have
    assert post(client, body_nested(MAX_JSON_DEPTH + 1, where="nope"))[0] == 400


def test_the_rejections_are_counted(client: TestClient, app: PrismApp) -> None:
    post(client, body_nested(1_000))
    assert 'prism_rejected_requests_total{status="400"} 1' in app.metrics.render()


def test_errors_echo_only_a_prefix_of_what_was_sent(client: TestClient) -> None:
    key = "k" * 100_000
    body = b'{"scene": "home_feed", "user_id": "7", "' + key.encode() + b'": 1}'
    status, answer = post(client, body)
    assert status == 422 and len(str(answer)) < 2_000
    assert str(answer["field"]).startswith("k" * 64)
