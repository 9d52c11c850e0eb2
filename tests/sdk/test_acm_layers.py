"""acm tokens of layered experiments: the bucket field names every layer's bucket."""

from __future__ import annotations

import pytest

from prism_sdk import Acm, AcmError, parse_acm, verify_acm


def test_acm_layers_round_trip_and_malformed_bucket_fields() -> None:
    acm = Acm("s", "base", "team/x", "wt-1", ("i2i",), 2, "r1", (("m", "v"),))
    layered = acm._replace(layers=(("rank", "b"), ("rerank", "holdout")))
    token = layered.sign(b"k")
    assert token.startswith("2.s.base+rank:b+rerank:holdout.team:x@wt-1.i2i.2.r1.m:v.")
    assert verify_acm(token, b"k") == layered and parse_acm(token) == layered
    assert verify_acm(acm.sign(b"k"), b"k").layers == ()  # no layers: the token is unchanged
    assert acm.sign(b"k").startswith("2.s.base.team:x@")
    for bad in ("2.s.+rank:b.x@1.-.1.r.-.tag", "2.s.base+rank.x@1.-.1.r.-.tag"):
        with pytest.raises(AcmError, match="malformed"):
            parse_acm(bad)
