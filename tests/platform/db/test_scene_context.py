"""A scene's context schema: stored as given, checked when written, errors naming the
field of the schema at fault (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest

from prism_platform.db import MetadataStore
from prism_platform.errors import Invalid

CART = {
    "cart_items": {"type": "list[str]", "max_items": 50, "max_len": 64},
    "item_id": {"type": "str", "max_len": 64, "required": True},
    "page": {"type": "int", "min": 1, "max": 100},
    "score": {"type": "float", "min": -1.5},
    "gift": {"type": "bool"},
    "additional": False,
}


def test_a_schema_is_stored_and_read_back_and_can_be_dropped(store: MetadataStore) -> None:
    store.create_scene("cart", context_schema=CART)
    assert store.get_scene("cart").context_schema == CART
    assert store.list_scenes()[0].context_schema == CART
    store.create_scene("plain")
    assert store.get_scene("plain").context_schema is None

    changed = store.update_scene("plain", actor="t", context_schema={"q": {"type": "str"}})
    assert changed.context_schema == {"q": {"type": "str"}}
    assert store.update_scene("cart", actor="t", context_schema=None).context_schema is None
    assert store.get_scene("cart").context_schema is None
    audit = store.audit(10)
    assert audit[0].action == "update" and audit[0].detail == {"context_schema": None}


@pytest.mark.parametrize(
    ("schema", "field", "says"),
    [
        ([1], "context_schema", "must be an object"),
        ({"item_id": "str"}, "context_schema.item_id", '{"type": "str"}'),
        ({"item_id": {"type": "string"}}, "context_schema.item_id.type", "one of str, int"),
        ({"item_id": {}}, "context_schema.item_id.type", "got None"),
        ({"bad name": {"type": "str"}}, "context_schema.bad name", "must match"),
        ({"n": {"type": "int", "max_len": 3}}, "context_schema.n.max_len", "takes only"),
        ({"s": {"type": "str", "max_len": 0}}, "context_schema.s.max_len", "from 1 to"),
        ({"s": {"type": "str", "max_len": True}}, "context_schema.s.max_len", "integer"),
        ({"s": {"type": "list[str]", "max_items": 10**6}}, "context_schema.s.max_items", "1 to"),
        ({"s": {"type": "str", "required": "yes"}}, "context_schema.s.required", "true or"),
        ({"n": {"type": "int", "min": 1.5}}, "context_schema.n.min", "an integer"),
        ({"n": {"type": "float", "max": "9"}}, "context_schema.n.max", "finite number"),
        ({"n": {"type": "int", "min": 5, "max": 1}}, "context_schema.n.min", "greater than"),
        ({"additional": "no"}, "context_schema.additional", "true or false"),
    ],
)
def test_a_bad_schema_is_refused_naming_its_field(
    store: MetadataStore, schema: Any, field: str, says: str
) -> None:
    with pytest.raises(Invalid) as err:
        store.create_scene("s", context_schema=schema)
    assert err.value.field == field and says in err.value.message
    store.create_scene("s")
    with pytest.raises(Invalid) as err:
        store.update_scene("s", actor="t", context_schema=schema)
    assert err.value.field == field
    assert store.get_scene("s").context_schema is None


def test_a_long_field_name_is_not_echoed_whole(store: MetadataStore) -> None:
    with pytest.raises(Invalid) as err:
        store.create_scene("s", context_schema={"x" * 100_000: {"type": "str"}})
    assert len(err.value.message) < 300 and err.value.field is not None
    assert len(err.value.field) < 250
