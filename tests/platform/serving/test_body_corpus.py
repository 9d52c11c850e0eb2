"""A corpus of hostile bodies for the two public endpoints: each is answered with a
status under 500 and a JSON error naming what is wrong (the field, where there is one),
and the node answers a good request afterwards."""

from __future__ import annotations

import math
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient

from prism_platform.app import PrismApp, create_app
from prism_platform.events.event import MAX_BATCH, MAX_ID
from prism_platform.settings import Settings
from prism_sdk import MAX_SIZE, Acm, LocalBackend
from prism_testkit.accounts import grant
from tests.conftest import STRATEGIES, seeded_copy


@pytest.fixture(scope="module")
def app(
    tmp_path_factory: pytest.TempPathFactory, demo_backend: LocalBackend, seeded_database: Path
) -> Iterator[PrismApp]:
    """One demo node for the whole corpus (each body is answered on its own; a node per
    body cost half a second each), with its own database and var/."""
    root = tmp_path_factory.mktemp("corpus")
    strategies = root / "strategies"
    shutil.copytree(STRATEGIES, strategies, ignore=shutil.ignore_patterns("__pycache__"))
    settings = Settings(
        var_dir=root / "var",
        database_url=seeded_copy(seeded_database, root),
        demo=True,
        strategies_dir=strategies,
    )
    node = create_app(settings, backend=demo_backend)
    yield node
    if node.control.sample_writer is not None:
        node.control.sample_writer.close()
    node.control.store.dispose()


@pytest.fixture(scope="module")
def client(app: PrismApp) -> Iterator[TestClient]:
    with TestClient(app, headers=grant(app.control, name="tester")) as c:
        yield c


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
    # nesting: objects as well as arrays, under any field
    "objects nested too deep": (
        b'{"scene": "home_feed", "user_id": "7", "context": ' + b'{"a": ' * 100 + b"1" + b"}" * 101,
        400,
        "(body)",
    ),
    "exclude nested too deep": (
        b'{"scene": "home_feed", "user_id": "7", "exclude": ' + b"[" * 100 + b"]" * 100 + b"}",
        400,
        "(body)",
    ),
    # numbers: past every range, in every field that holds one
    "huge integer in the context": (
        b'{"scene": "home_feed", "user_id": "7", "context": {"n": 1' + b"0" * 40 + b"}}",
        422,
        "context.n",
    ),
    "huge negative integer in the context": (
        b'{"scene": "home_feed", "user_id": "7", "context": {"n": [-1' + b"0" * 40 + b"]}}",
        422,
        "context.n[0]",
    ),
    "huge number in the context": (
        b'{"scene": "home_feed", "user_id": "7", "context": {"x": 1e400}}',
        422,
        "context[...]",  # msgspec's path: a value under context
    ),
    "-Infinity literal in the context": (
        b'{"scene": "home_feed", "user_id": "7", "context": {"x": -Infinity}}',
        400,
        "(body)",
    ),
    "user id a 5,000-digit integer": (
        b'{"scene": "home_feed", "user_id": 1' + b"0" * 5000 + b"}",
        422,
        "user_id",
    ),
    "user id a fraction": (b'{"scene": "home_feed", "user_id": 7.5}', 422, "user_id"),
    "size a fraction": (b'{"scene": "home_feed", "user_id": "7", "size": 3.5}', 422, "size"),
    "size a string": (b'{"scene": "home_feed", "user_id": "7", "size": "3"}', 422, "size"),
    # text: bad bytes and escapes anywhere, empty and overlong values
    "invalid UTF-8 in a context key": (
        b'{"scene": "home_feed", "user_id": "7", "context": {"\xc3\x28": 1}}',
        400,
        "(body)",
    ),
    "lone surrogate in the context": (
        b'{"scene": "home_feed", "user_id": "7", "context": {"q": "\\udfff"}}',
        400,
        "(body)",
    ),
    "byte order mark": (b"\xef\xbb\xbf" + GOOD, 400, "(body)"),
    "trailing bytes": (GOOD + b" {}", 400, "(body)"),
    "empty user id": (b'{"scene": "home_feed", "user_id": ""}', 422, "user_id"),
    "scene past its limit": (b'{"scene": "' + b"s" * 65 + b'", "user_id": "7"}', 422, "scene"),
    "exclude item not a string": (
        b'{"scene": "home_feed", "user_id": "7", "exclude": ["a", 1]}',
        422,
        "exclude[1]",
    ),
    "missing user id": (b'{"scene": "home_feed"}', 422, "user_id"),
    "body past its limit": (
        b'{"scene": "home_feed", "user_id": "7", "context": {"q": "' + b"q" * 262_144 + b'"}}',
        413,
        "(body)",
    ),
    # duplicate keys: the last one counts, as in JSON.parse; never a mix of the two
    "duplicate scene, the last unknown": (
        b'{"scene": "home_feed", "scene": "nope", "user_id": "7"}',
        404,
        "scene",
    ),
    "duplicate user id, the last invalid": (
        b'{"scene": "home_feed", "user_id": "7", "user_id": -1}',
        422,
        "user_id",
    ),
    "duplicate scene, the last valid": (
        b'{"scene": "nope", "scene": "home_feed", "user_id": "7", "context": {"a": 1, "a": 2}}',
        200,
        None,
    ),
}
AT_THE_LIMITS = [
    b'{"scene": "home_feed", "user_id": "7", "size": %d}' % MAX_SIZE,
    b'{"scene": "home_feed", "user_id": "' + b"u" * 128 + b'"}',
    b'{"scene": "home_feed", "user_id": "7", "exclude": [' + b",".join([b'"x"'] * 10_000) + b"]}",
    b'{"scene": "home_feed", "user_id": 0}',
    b'{"scene": "home_feed", "user_id": "7", "context": {"n": %d, "m": %d}}'
    % (2**63 - 1, -(2**63)),
    b'{"scene": "home_feed", "user_id": "7", "context": {"x": 1.7976931348623157e308}}',
    b'{"scene": "home_feed", "user_id": "7", "context": {"q": "' + b"q" * 250_000 + b'"}}',
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


@pytest.mark.parametrize(
    "body",
    AT_THE_LIMITS,
    ids=["size", "user_id", "exclude", "user 0", "ints", "float", "body"],
)
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


def _token(app: PrismApp, user: str, item: str, issued: float) -> str:
    rid = uuid.uuid4().hex[:12]  # a token of its own: counted once, whichever test sends it
    acm = Acm("home_feed", "base", "home_feed", "v1", ("popular",), 1, rid, issued=int(issued))
    return acm.sign(app.dispatcher.signer, user, item)


@dataclass(frozen=True)
class FromNow:
    """A time ``s`` seconds from when the event is made (not from when the module was
    collected: the suite may reach the test minutes later)."""

    s: float


def _one(app: PrismApp, **fields: Any) -> dict[str, Any]:
    """An event whose token is issued to its user for its item (at ``ts``), changed by
    ``fields`` (``None``: the field left out)."""
    now = time.time()
    fields = {k: now + v.s if isinstance(v, FromNow) else v for k, v in fields.items()}
    ev: dict[str, Any] = {"event_id": uuid.uuid4().hex, "type": "click"}
    ev |= {"user_id": "u", "item_id": "i"}
    ev |= {"ts": now - 60} | {k: v for k, v in fields.items() if k != "acm"}
    issued = ev["ts"] if isinstance(ev["ts"], float) and math.isfinite(ev["ts"]) else now
    ev["acm"] = _token(app, str(ev["user_id"]), str(ev["item_id"]), min(issued, now))
    ev |= {k: v for k, v in fields.items() if k == "acm"}
    return {k: v for k, v in ev.items() if v is not None}


ID = "x" * MAX_ID
EVENTS_AT_THE_LIMITS: dict[str, dict[str, Any]] = {
    # name: the fields changed; every one is accepted
    "event_id": {"event_id": ID},
    "user_id": {"user_id": ID},
    "item_id": {"item_id": ID},
    "order_id": {"type": "order", "order_id": ID, "value": 1.5},
    "value zero": {"type": "order", "order_id": "o1", "value": 0},
    "value at the cap": {"type": "order", "order_id": "o1", "value": 1e7},
    "ts a minute ahead": {"ts": FromNow(60)},
    "ts six days old": {"ts": FromNow(-6 * 86400)},
    "unicode ids": {"user_id": "ü\u00e9\U0001f600", "item_id": "\u0000\uffff"},
}
EVENTS_PAST_THE_LIMITS: dict[str, tuple[dict[str, Any], str, str]] = {
    # name: (the fields changed, the reason, the field named)
    "event_id too long": ({"event_id": ID + "x"}, "malformed", "event_id"),
    "event_id empty": ({"event_id": ""}, "malformed", "event_id"),
    "event_id a number": ({"event_id": 1}, "malformed", "event_id"),
    "user_id too long": ({"user_id": ID + "x"}, "malformed", "user_id"),
    "item_id too long": ({"item_id": ID + "x"}, "malformed", "item_id"),
    "order_id too long": ({"type": "order", "order_id": ID + "x"}, "malformed", "order_id"),
    "order_id empty": ({"type": "order", "order_id": ""}, "malformed", "order_id"),
    "type unknown": ({"type": "purchase"}, "unknown_type", "type"),
    "type huge": ({"type": "t" * 100_000}, "unknown_type", "type"),
    "type missing": ({"type": None}, "malformed", "type"),
    "value negative": ({"type": "order", "order_id": "o1", "value": -0.01}, "malformed", "value"),
    "value past the cap": ({"type": "order", "value": 1.0001e7}, "value_too_large", "value"),
    "value a huge integer": ({"type": "order", "value": 10**40}, "value_too_large", "value"),
    "value a string": ({"type": "order", "value": "1"}, "malformed", "value"),
    "ts too far ahead": ({"ts": FromNow(400)}, "malformed", "ts"),
    "ts too old": ({"ts": FromNow(-8 * 86400)}, "stale", "ts"),
    "ts a string": ({"ts": "now"}, "malformed", "ts"),
    "ts a huge integer": ({"ts": 10**40}, "malformed", "ts"),
    "acm tampered": ({"acm": "3.home_feed.x"}, "malformed", "acm"),
    "acm missing": ({"acm": None}, "malformed", "acm"),
    "unknown field": ({"extra": 1}, "malformed", "extra"),
}


@pytest.mark.parametrize("name", sorted(EVENTS_AT_THE_LIMITS))
def test_every_event_field_at_its_limit_counts(
    client: TestClient, app: PrismApp, name: str
) -> None:
    r = client.post("/v1/events", json={"events": [_one(app, **EVENTS_AT_THE_LIMITS[name])]})
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 1, r.json()


@pytest.mark.parametrize("name", sorted(EVENTS_PAST_THE_LIMITS))
def test_every_event_field_past_its_limit_is_rejected_by_name(
    client: TestClient, app: PrismApp, name: str
) -> None:
    fields, reason, field = EVENTS_PAST_THE_LIMITS[name]
    good = _one(app, event_id="good")
    r = client.post("/v1/events", json={"events": [_one(app, **fields), good]})
    assert r.status_code == 200, r.text
    bad, ok = r.json()["results"]
    assert (bad["status"], bad["reason"], bad["field"]) == (
        "rejected",
        reason,
        f"events[0].{field}",
    )
    assert bad["message"] and len(r.content) < 2_000
    assert ok["status"] == "accepted"  # a bad event never takes its neighbour down


def test_a_batch_at_its_limit_is_judged_and_past_it_refused(
    client: TestClient, app: PrismApp
) -> None:
    event = _one(app)
    r = client.post("/v1/events", json={"events": [event] * MAX_BATCH})
    assert r.status_code == 200 and r.json()["accepted"] == 1, r.text[:300]
    assert r.json()["duplicates"] == MAX_BATCH - 1
    r = client.post("/v1/events", json={"events": [event] * (MAX_BATCH + 1)})
    assert r.status_code == 413 and r.json()["field"] == "events", r.text[:300]
    huge = b'{"events": [' + b",".join([b'"' + b"x" * 1024 + b'"'] * 4100) + b"]}"
    r = client.post("/v1/events", content=huge)
    assert r.status_code == 413 and r.json()["field"] == "(body)", r.text[:300]


def test_duplicate_keys_in_events_count_the_last(client: TestClient, app: PrismApp) -> None:
    """As in JSON.parse: the last of duplicate keys counts, in the batch and in an event."""
    good = orjson.dumps(_one(app))
    bad = orjson.dumps(_one(app, event_id="e2", type="nope"))
    r = client.post("/v1/events", content=b'{"events": [' + bad + b'], "events": [' + good + b"]}")
    assert r.status_code == 200 and r.json()["accepted"] == 1, r.text
    twice = good[:-1] + b', "type": "nope"}'  # the event again, its type now unknown
    [result] = client.post("/v1/events", content=b'{"events": [' + twice + b"]}").json()["results"]
    assert (result["reason"], result["field"]) == ("unknown_type", "events[0].type")


def test_an_answer_no_json_holds_is_a_json_500_not_a_traceback(
    client: TestClient,
    app: PrismApp,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Not hostile input but garbage in the data (an item field no JSON holds: a set
    here) is answered in the platform's shape, its traceback logged."""
    answer = {"items": [{"item_id": "1", "fields": {"tags": {"a", "b"}}}]}

    async def recommend(req: Any) -> dict[str, Any]:
        return answer

    monkeypatch.setattr(app.dispatcher, "recommend", recommend)
    r = client.post("/v1/recommend", content=GOOD)
    assert r.status_code == 500 and r.json()["error"] == "internal_error", r.text[:300]
    assert "event=recommend_unencodable" in caplog.text
