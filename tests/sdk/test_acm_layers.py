"""acm tokens of layered experiments: the bucket field names every layer's bucket."""

from __future__ import annotations

import pytest

from prism_sdk import Acm, AcmError, parse_acm, verify_acm


def test_acm_layers_round_trip_and_malformed_bucket_fields() -> None:
    acm = Acm("s", "base", "team/x", "wt-1", ("i2i",), 2, "r1", (("m", "v"),))
    layered = acm._replace(layers=(("rank", "b"), ("rerank", "holdout")))
    token = layered.sign(b"k", "u", "i")
    assert token.startswith("3.s.base+rank:b+rerank:holdout.team:x@wt-1.")
    assert verify_acm(token, b"k", "u", "i").layers == layered.layers
    assert parse_acm(token).layers == layered.layers
    assert verify_acm(acm.sign(b"k", "u", "i"), b"k").layers == ()  # no layers: unchanged
    assert acm.sign(b"k", "u", "i").startswith("3.s.base.team:x@")
    v2 = layered.sign_v2(b"k")
    assert v2.startswith("2.s.base+rank:b+rerank:holdout.team:x@wt-1.i2i.2.r1.m:v.")
    assert verify_acm(v2, b"k") == layered
    for bad in ("2.s.+rank:b.x@1.-.1.r.-.tag", "2.s.base+rank.x@1.-.1.r.-.tag"):
        with pytest.raises(AcmError, match="malformed"):
            parse_acm(bad)
