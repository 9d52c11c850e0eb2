"""acm tokens as properties over generated fields (hypothesis, derandomized: the same
examples every run): whatever the ids and custom fields, a token signed for a response
verifies for its user and item and says what was signed, and any one-character change
to it is refused."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prism_sdk import AcmError, AcmSigner, acm_prefix_for, parse_acm, verify_acm
from prism_sdk._acm_fields import channel_name, extra_pairs, join_channels, join_extra

SETTINGS = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=100,
    suppress_health_check=[HealthCheck.too_slow],
)
NAME = st.from_regex(r"[a-z][a-z0-9_]{0,15}", fullmatch=True)  # scenes, buckets, scripts
VERSION = st.from_regex(r"(wt-)?[0-9a-f]{7,12}", fullmatch=True)
REQUEST_ID = st.from_regex(r"[0-9a-f]{8,16}", fullmatch=True)
KEY = st.binary(min_size=1, max_size=64)


@st.composite
def responses(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "key": draw(KEY),
        "scene": draw(NAME),
        "bucket": draw(NAME),
        "layers": tuple(draw(st.dictionaries(NAME, NAME, max_size=3)).items()),
        "strategy": draw(NAME),
        "version": draw(VERSION),
        "request_id": draw(REQUEST_ID),
        "user": draw(st.text(min_size=1, max_size=40)),
        "item": draw(st.text(min_size=1, max_size=40)),
        "channels": tuple(
            channel_name(c) for c in draw(st.lists(st.text(max_size=12), min_size=1, max_size=4))
        ),
        "position": draw(st.integers(1, 10**6)),
        "extra": extra_pairs(
            draw(
                st.dictionaries(
                    st.text(max_size=12), st.text(max_size=12) | st.integers(), max_size=4
                )
            )
        ),
        "issued": draw(st.integers(1, 10**12 - 1)),  # unix seconds: 12 digits at most
    }


def sign(r: dict[str, Any]) -> str:
    prefix = acm_prefix_for(r["scene"], r["bucket"], r["strategy"], r["version"], r["layers"])
    signer = AcmSigner(r["key"])
    sign_item = signer.for_request(prefix, r["request_id"], r["user"], r["issued"])
    return sign_item(
        r["item"],
        join_channels(r["channels"]),
        r["position"],
        join_extra(r["extra"]),
    )


@SETTINGS
@given(responses())
def test_a_signed_token_verifies_and_says_what_was_signed(r: dict[str, Any]) -> None:
    token = sign(r)
    assert token.isascii() and " " not in token
    acm = verify_acm(token, r["key"], r["user"], r["item"])
    assert acm == parse_acm(token)
    assert (acm.scene, acm.bucket, acm.strategy, acm.version) == (
        r["scene"], r["bucket"], r["strategy"], r["version"],
    )  # fmt: skip
    assert (acm.request_id, acm.position, acm.issued) == (
        r["request_id"], r["position"], r["issued"],
    )  # fmt: skip
    assert acm.layers == r["layers"] and acm.extra == r["extra"]
    assert acm.channels == (() if r["channels"] == ("-",) else r["channels"])  # "-": none


@SETTINGS
@given(responses(), st.data())
def test_any_one_character_changed_is_refused(r: dict[str, Any], data: st.DataObject) -> None:
    token = sign(r)
    at = data.draw(st.integers(0, len(token) - 1), label="position")
    other = data.draw(st.sampled_from("0123456789abcdefz.:+-_@"), label="character")
    if other == token[at]:
        return
    changed = token[:at] + other + token[at + 1 :]
    with pytest.raises(AcmError):
        verify_acm(changed, r["key"], r["user"], r["item"])


@SETTINGS
@given(responses(), st.text(min_size=1, max_size=40))
def test_a_token_does_not_verify_for_another_user(r: dict[str, Any], user: str) -> None:
    if user == r["user"]:
        return
    with pytest.raises(AcmError):
        verify_acm(sign(r), r["key"], user, r["item"])


@SETTINGS
@given(st.text(max_size=200))
def test_any_text_parses_or_says_why_not(text: str) -> None:
    try:
        parse_acm(text)
    except AcmError as exc:
        assert exc.reason == "malformed" and str(exc)
