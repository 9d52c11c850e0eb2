"""The error helpers: what an answer may echo of the request, and the JSON depth scan."""

from __future__ import annotations

import json
import random
from typing import Any

import orjson
import pytest

from prism_platform.errors import (
    MAX_FIELD,
    MAX_JSON_DEPTH,
    MAX_MESSAGE,
    Invalid,
    clip,
    error_body,
    json_too_deep,
)


def test_clip_keeps_short_text_and_cuts_long_text_to_a_prefix() -> None:
    assert clip("scene") == "scene"
    assert clip("x" * 64) == "x" * 64
    cut = clip("y" * 100_000)
    assert cut.startswith("y" * 64) and cut.endswith("…(100000 characters)") and len(cut) < 100
    assert clip("abcdef", 3) == "abc…(6 characters)"


def test_errors_never_carry_an_unbounded_message_or_field() -> None:
    exc = Invalid("m" * 100_000, field="f" * 100_000)
    assert len(exc.message) < MAX_MESSAGE + 30 and exc.message.startswith("m" * MAX_MESSAGE)
    assert exc.field is not None and len(exc.field) < MAX_FIELD + 30
    status, body = error_body(422, "invalid_request", "n" * 100_000, field="g" * 100_000)
    answer = orjson.loads(body)
    assert status == 422 and len(body) < MAX_MESSAGE + MAX_FIELD + 200
    assert answer["field"].startswith("g" * MAX_FIELD)


def _depth(value: Any) -> int:
    """The reference: nesting of the decoded value (a scalar is 0, ``[]`` is 1)."""
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


_TRICKY = ["", "a", "[", "]", "{", "}", '"', "\\", '\\"', "\\\\", '[\\"{', "é", "\n"]


def _value(rng: random.Random, depth: int) -> Any:
    """A random JSON value nesting ``depth`` deep along one path, with short side
    branches, and strings full of brackets, quotes and backslashes."""
    if depth == 0:
        return rng.choice([1, 2.5, None, True, "".join(rng.choices(_TRICKY, k=rng.randint(0, 4)))])
    inner = _value(rng, depth - 1)
    side = [_value(rng, min(depth - 1, 2)) for _ in range(rng.randint(0, 2))]
    if rng.random() < 0.5:
        return [*side, inner] if rng.random() < 0.5 else [inner, *side]
    keys = ["".join(rng.choices(_TRICKY, k=rng.randint(0, 3))) + str(i) for i in range(3)]
    return dict(zip(keys, [inner, *side], strict=False))


@pytest.mark.parametrize("seed", range(4))
def test_depth_scan_agrees_with_a_parser_on_random_json(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(300):
        value = _value(rng, rng.randint(0, 80))
        text = (
            orjson.dumps(value)
            if rng.random() < 0.5
            else json.dumps(value, indent=rng.choice([None, 1]), ensure_ascii=False).encode()
        )
        depth = _depth(value)
        for limit in (1, 3, depth - 1, depth, MAX_JSON_DEPTH):
            if limit >= 0:
                assert json_too_deep(text, limit) == (depth > limit), (limit, text[:300])


def test_depth_scan_at_the_limit_and_far_beyond() -> None:
    def nested(n: int) -> bytes:
        return b'{"a":' + b"[" * (n - 1) + b"]" * (n - 1) + b"}"

    assert not json_too_deep(nested(MAX_JSON_DEPTH))
    assert json_too_deep(nested(MAX_JSON_DEPTH + 1))
    assert json_too_deep(nested(1_000_000))
    many = b"[" + b",".join([b'{"a":[1,{"b":"[[[["}]}'] * 10_000) + b"]"
    assert not json_too_deep(many)  # many brackets, none deep
    in_strings = b'["' + b"[" * 1000 + b'", "\\"' + b"{" * 1000 + b'"]'
    assert not json_too_deep(in_strings)
    stairs = b"[" + b"[[]," * 70 + b"1" + b"]" * 70 + b"]"  # 72 deep, no run of 65 openings
    assert json_too_deep(stairs) and json_too_deep(stairs, 71) and not json_too_deep(stairs, 72)
