"""The cart scene through /v1/recommend: it recommends whatever the frontend sends, as a
shop would (the cart, else the item on show and the user's own signals, else popular)."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from prism_sdk import LocalBackend, parse_acm


def cart(client: TestClient, user: str, context: dict[str, Any]) -> dict[str, Any]:
    body = {"scene": "cart", "user_id": user, "size": 10, "context": context}
    r = client.post("/v1/recommend", json=body)
    assert r.status_code == 200, r.text
    answer = dict(r.json())
    assert answer["degraded"] is False and answer["strategy"]["name"] == "cart", answer
    return answer


def channels(answer: dict[str, Any]) -> set[str]:
    return {c for it in answer["items"] for c in parse_acm(it["acm"]).channels}


def ids(answer: dict[str, Any]) -> list[str]:
    return [it["item_id"] for it in answer["items"]]


def test_a_stranger_with_an_empty_context_gets_popular_items(client: TestClient) -> None:
    for context in ({}, {"page": "cart", "device": "ios"}):
        answer = cart(client, "nobody-knows-me", context)
        assert len(answer["items"]) == 10 and channels(answer) == {"popular"}


def test_without_cart_items_the_item_on_show_seeds_it(
    client: TestClient, demo_backend: LocalBackend
) -> None:
    item = next(i for i, rows in demo_backend.tables["bought_together"].items() if len(rows) > 3)
    answer = cart(client, "nobody-knows-me", {"item_id": item})
    assert len(answer["items"]) == 10 and item not in ids(answer)
    assert channels(answer) & {"bought_together", "i2i"}
    together = {i for i, _ in demo_backend.tables["bought_together"][item]}
    assert together & set(ids(answer))


def test_without_cart_items_the_users_own_carts_seed_it(
    client: TestClient, demo_backend: LocalBackend
) -> None:
    carts = {
        u: [e.item_id for e in evs if e.type in ("cart", "order")]
        for u, evs in demo_backend.events.items()
    }
    user, carted = next((u, set(items)) for u, items in carts.items() if 0 < len(items) <= 10)
    answer = cart(client, user, {})
    assert len(answer["items"]) == 10
    assert channels(answer) & {"bought_together", "i2i"}
    assert not carted & set(ids(answer))  # what is in the cart already is not offered


def test_the_cart_comes_first_and_is_never_offered_again(
    client: TestClient, demo_backend: LocalBackend
) -> None:
    in_cart = list(demo_backend.tables["bought_together"])[:2]
    answer = cart(client, "1", {"cart_items": in_cart})
    assert answer["items"] and not set(in_cart) & set(ids(answer))
    first = parse_acm(answer["items"][0]["acm"]).channels
    assert set(first) & {"bought_together", "i2i"}
