"""A scene's fallback must be in the data: checked against real backends."""

from __future__ import annotations

import socket

import pytest

from prism_platform.deploy.scenes import check_fallback
from prism_platform.errors import Invalid, Unavailable
from prism_sdk import LocalBackend, RedisBackend


def _backend() -> LocalBackend:
    b = LocalBackend()
    b.replace_table("popular", {"all": [("1", 3.0)]})
    b.replace_table("popular_cat", {"shoes": [("2", 1.0)]})
    return b


def test_a_fallback_with_rows_passes() -> None:
    backend = _backend()
    check_fallback(backend, {})  # nothing about the fallback is written
    check_fallback(backend, {"fallback_table": "popular", "deadline_ms": 9})
    check_fallback(backend, {"fallback_table": "popular_cat", "fallback_key": "shoes"})
    check_fallback(backend, {"fallback_key": "shoes"}, current=("popular_cat", "all"))
    check_fallback(None, {"fallback_table": "nope"})  # a node without data checks nothing


@pytest.mark.parametrize(
    ("fields", "current", "field"),
    [
        ({"fallback_table": "nope"}, ("popular", "all"), "fallback_table"),
        ({"fallback_table": "popular_cat"}, ("popular", "all"), "fallback_table"),
        ({"fallback_key": "hats"}, ("popular_cat", "shoes"), "fallback_key"),
    ],
)
def test_a_fallback_without_rows_is_refused_naming_the_field(
    fields: dict[str, str], current: tuple[str, str], field: str
) -> None:
    with pytest.raises(Invalid) as err:
        check_fallback(_backend(), fields, current)
    assert err.value.field == field and "empty fallbacks" in err.value.message


def test_a_backend_that_does_not_answer_is_503_not_a_pass() -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    backend = RedisBackend.from_url(f"redis://127.0.0.1:{port}/0", timeout_ms=200)
    try:
        with pytest.raises(Unavailable) as err:
            check_fallback(backend, {"fallback_table": "popular"})
    finally:
        backend.close()
    assert err.value.status == 503 and err.value.field == "fallback_table"
