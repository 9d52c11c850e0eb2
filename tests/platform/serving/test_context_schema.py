"""A scene's declared context, enforced on /v1/recommend: a bad field is a 422 naming it
(``context.<key>``); keys not declared pass unless the scene says ``additional: false``."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from prism_platform.db._context_schema import CONTEXT_TYPES
from prism_platform.serving.context_schema import InvalidContext, compile_schema

SCHEMA = {
    "item_id": {"type": "str", "max_len": 8, "required": True},
    "cart_items": {"type": "list[str]", "max_items": 3, "max_len": 5},
    "page": {"type": "int", "min": 1, "max": 99},
    "price": {"type": "float", "min": 0},
    "gift": {"type": "bool"},
}


def _problem(schema: dict[str, Any], context: dict[str, Any]) -> tuple[str, str] | None:
    compiled = compile_schema(schema)
    assert compiled is not None
    try:
        compiled.check(context)
    except InvalidContext as exc:
        return exc.field, exc.message
    return None


@pytest.mark.parametrize(
    "context",
    [
        {"item_id": "i1"},
        {"item_id": "i1", "cart_items": [], "page": 3, "price": 2, "gift": False},
        {"item_id": "i1", "cart_items": ["a", "b", "c"], "price": 2.5, "device": ["any"]},
        {"item_id": "i1", "page": None, "cart_items": None},  # null: not given
    ],
)
def test_contexts_that_keep_the_schema_pass(context: dict[str, Any]) -> None:
    assert _problem(SCHEMA, context) is None


@pytest.mark.parametrize(
    ("context", "field", "says"),
    [
        ({}, "context.item_id", "is required"),
        ({"item_id": ["x"]}, "context.item_id", "must be a string, got a list"),
        ({"item_id": 18313}, "context.item_id", "must be a string, got a number"),
        ({"item_id": "123456789"}, "context.item_id", "at most 8 characters, got 9"),
        ({"item_id": "i", "cart_items": "18313"}, "context.cart_items", "got a string"),
        ({"item_id": "i", "cart_items": ["1", 2]}, "context.cart_items", "item 1 is a number"),
        ({"item_id": "i", "cart_items": ["1"] * 4}, "context.cart_items", "at most 3"),
        ({"item_id": "i", "cart_items": ["123456"]}, "context.cart_items", "item 0 must be"),
        ({"item_id": "i", "page": 0}, "context.page", "must be in [1, 99], got 0"),
        ({"item_id": "i", "page": 1.5}, "context.page", "must be an integer"),
        ({"item_id": "i", "page": True}, "context.page", "got a boolean"),
        ({"item_id": "i", "price": -1}, "context.price", "[0, …]"),
        ({"item_id": "i", "price": "2"}, "context.price", "must be a number"),
        ({"item_id": "i", "gift": 1}, "context.gift", "true or false"),
    ],
)
def test_a_bad_field_is_named(context: dict[str, Any], field: str, says: str) -> None:
    problem = _problem(SCHEMA, context)
    assert problem is not None and problem[0] == field and says in problem[1], problem


def test_a_closed_schema_refuses_other_keys_without_echoing_them_whole() -> None:
    closed = {"item_id": {"type": "str"}, "additional": False}
    assert _problem(closed, {"item_id": "x"}) is None
    field, message = _problem(closed, {"item_id": "x", "k" * 10_000: 1}) or ("", "")
    assert field.startswith("context.kkk") and len(field) < 120
    assert "is not a context field of this scene (item_id)" in message


def test_every_type_the_store_accepts_compiles_for_serving() -> None:
    for kind in CONTEXT_TYPES:
        compiled = compile_schema({"f": {"type": kind}})
        assert compiled is not None and compiled.fields[0][0] == "f"
    assert compile_schema({}) is None and compile_schema(None) is None


def rec(client: TestClient, scene: str, context: Any) -> Any:
    body = {"scene": scene, "user_id": "3", "size": 10, "context": context}
    return client.post("/v1/recommend", json=body)


def test_the_demo_scenes_declare_their_context(client: TestClient) -> None:
    r = rec(client, "item_detail", {"item_id": ["x"]})
    assert r.status_code == 422, r.text
    assert r.json() == {
        "error": "invalid_request",
        "message": "context.item_id must be a string, got a list",
        "field": "context.item_id",
    }
    r = rec(client, "cart", {"cart_items": "18313"})
    assert r.status_code == 422 and r.json()["field"] == "context.cart_items"
    r = rec(client, "cart", {"cart_items": [str(i) for i in range(101)]})
    assert r.status_code == 422 and "at most 100" in r.json()["message"]
    r = rec(client, "home_feed", {"page": "home", "device": "ios", "ab": [1, {"x": 2}]})
    assert r.status_code == 200 and r.json()["degraded"] is False
    schema = client.get("/admin/scenes/cart").json()["context_schema"]
    assert schema["cart_items"] == {"type": "list[str]", "max_items": 100, "max_len": 128}


def test_a_scene_schema_is_set_enforced_and_dropped_over_the_api(client: TestClient) -> None:
    closed = {"q": {"type": "str", "required": True}, "additional": False}
    r = client.post("/admin/scenes", json={"name": "search", "context_schema": closed})
    assert r.status_code == 201, r.text
    assert r.json()["context_schema"] == closed
    r = rec(client, "search", {})
    assert r.status_code == 422 and r.json()["field"] == "context.q"
    r = rec(client, "search", {"q": "shoes", "device": "ios"})
    assert r.status_code == 422 and r.json()["field"] == "context.device"
    assert rec(client, "search", {"q": "shoes"}).status_code == 200

    r = client.patch("/admin/scenes/search", json={"context_schema": {"q": {"type": "list"}}})
    assert r.status_code == 422 and r.json()["field"] == "context_schema.q.type"
    r = client.patch("/admin/scenes/search", json={"deadline_ms": 90})
    assert r.json()["context_schema"] == closed  # untouched by other changes
    r = client.patch("/admin/scenes/search", json={"context_schema": None})
    assert r.status_code == 200 and r.json()["context_schema"] is None
    assert rec(client, "search", {"device": ["anything"]}).status_code == 200
