"""A corpus of hostile bodies for the two public endpoints: each is answered with a
status under 500 and a JSON error naming what is wrong (the field, where there is one),
and the node answers a good request afterwards."""

from __future__ import annotations

import time

import pytest
from starlette.testclient import TestClient

from prism_sdk import MAX_SIZE

GOOD = b'{"scene": "home_feed", "user_id": "7"}'

RECOMMEND: dict[str, tuple[bytes, int, str | None]] = {
    # name: (body, status, the field the answer names, or None)
    "empty": (b"", 400, "(body)"),
    "not an object": (b"[1, 2]", 422, None),
    "huge number": (b'{"scene": "home_feed", "user_id": "7", "size": 1e400}', 422, "size"),
    "huge integer": (
        b'{"scene": "home_feed", "user_id": "7", "size": 1' + b"0" * 40 + b"}",
        422,
        "size",
    ),
    "NaN literal": (b'{"scene": "home_feed", "user_id": "7", "size": NaN}', 400, "(body)"),
    "Infinity literal": (
        b'{"scene": "home_feed", "user_id": "7", "size": Infinity}',
        400,
        "(body)",
    ),
    "invalid UTF-8": (b'{"scene": "home_feed", "user_id": "\xff\xfe"}', 400, "(body)"),
    "lone surrogate": (b'{"scene": "home_feed", "user_id": "\\ud800"}', 400, "(body)"),
    "NUL in a string": (b'{"scene": "home_feed", "user_id": "a\\u0000b"}', 200, None),
    "size past the limit": (
        b'{"scene": "home_feed", "user_id": "7", "size": %d}' % (MAX_SIZE + 1),
        422,
        "size",
    ),
    "size zero": (b'{"scene": "home_feed", "user_id": "7", "size": 0}', 422, "size"),
    "negative user": (b'{"scene": "home_feed", "user_id": -1}', 422, "user_id"),
    "user id too long": (
        b'{"scene": "home_feed", "user_id": "' + b"u" * 129 + b'"}',
        422,
        "user_id",
    ),
    "scene not a name": (b'{"scene": "Home Feed", "user_id": "7"}', 422, "scene"),
    "unknown field": (b'{"scene": "home_feed", "user_id": "7", "sizee": 3}', 422, "sizee"),
    "exclude too long": (
        b'{"scene": "home_feed", "user_id": "7", "exclude": ['
        + b",".join([b'"x"'] * 10_001)
        + b"]}",
        422,
        "exclude",
    ),
    "context not an object": (
        b'{"scene": "home_feed", "user_id": "7", "context": []}',
        422,
        "context",
    ),
    "debug not a bool": (b'{"scene": "home_feed", "user_id": "7", "debug": "yes"}', 422, "debug"),
}
AT_THE_LIMITS = [
    b'{"scene": "home_feed", "user_id": "7", "size": %d}' % MAX_SIZE,
    b'{"scene": "home_feed", "user_id": "' + b"u" * 128 + b'"}',
    b'{"scene": "home_feed", "user_id": "7", "exclude": [' + b",".join([b'"x"'] * 10_000) + b"]}",
    b'{"scene": "home_feed", "user_id": 0}',
]


@pytest.mark.parametrize("name", sorted(RECOMMEND))
def test_a_hostile_recommend_body_is_a_clear_error(client: TestClient, name: str) -> None:
    body, status, field = RECOMMEND[name]
    r = client.post("/v1/recommend", content=body)
    assert r.status_code == status, r.text
    answer = r.json()
    if status != 200:
        assert answer["error"] and answer["message"]
        if field is not None:
            assert answer["field"] == field, answer
    assert client.post("/v1/recommend", content=GOOD).status_code == 200


@pytest.mark.parametrize("body", AT_THE_LIMITS, ids=["size", "user_id", "exclude", "user 0"])
def test_every_field_at_its_limit_is_served(client: TestClient, body: bytes) -> None:
    r = client.post("/v1/recommend", content=body)
    assert r.status_code == 200, r.text
    assert r.json()["items"]


def _events(event: bytes) -> bytes:
    return b'{"events": [' + event + b"]}"


EVENT = b'{"event_id": "e1", "type": "click", "acm": "x", "user_id": "u", "item_id": "i", "ts": %f}'

EVENTS: dict[str, bytes] = {
    "empty": b"",
    "not an object": b"[]",
    "NaN timestamp": _events(EVENT.replace(b"%f", b"NaN")),
    "huge timestamp": _events(EVENT.replace(b"%f", b"1e400")),
    "invalid UTF-8": _events(EVENT.replace(b'"u"', b'"\xff"') % time.time()),
    "lone surrogate": _events(EVENT.replace(b'"u"', b'"\\udc00"') % time.time()),
    "events not a list": b'{"events": {"a": 1}}',
}


@pytest.mark.parametrize("name", sorted(EVENTS))
def test_a_hostile_events_body_is_a_clear_answer(client: TestClient, name: str) -> None:
    r = client.post("/v1/events", content=EVENTS[name])
    assert r.status_code < 500, r.text
    answer = r.json()
    if r.status_code >= 400:  # the whole body refused
        assert answer["error"] and answer["message"]
    else:  # judged event by event: the bad one rejected with a reason
        assert answer["accepted"] == 0 and answer["rejected"], answer
    assert client.post("/v1/recommend", content=GOOD).status_code == 200
