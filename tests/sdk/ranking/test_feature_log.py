"""Feature logging in the SDK: a sampled request keeps exactly the matrix the model
scored, the rows of the returned items are picked bit for bit, sampling is a pure
function of the request id, and the in-memory log is bounded."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from prism_sdk import Context, Item, LocalBackend, ranking
from prism_sdk.ranking import (
    Assembler,
    FeatureSpec,
    MemoryFeatureLog,
    ScoredBatch,
    ServedFeatures,
    load_model,
    sampled,
)

CtxFactory = Callable[..., Context[Any]]


@pytest.fixture
def handle(
    model_text: str, spec: FeatureSpec, probe: npt.NDArray[np.float32]
) -> Iterator[ranking.ModelHandle]:
    ranking.install(
        load_model("fl_ctr", "v3", kind="lightgbm", model=model_text, spec=spec, probe=probe)
    )
    yield ranking.model("fl_ctr")
    ranking.uninstall("fl_ctr")


def served(ctx: Context[Any], returned: list[str]) -> ServedFeatures:
    assert ctx.scored is not None
    return ServedFeatures("r1", "s", ctx.user_id, 1.0, tuple(returned), tuple(ctx.scored))


def by_hand(shop: LocalBackend, item_id: str) -> list[float]:
    """SPEC's row for user u1 (f, 31, top categories bags then toys) on an ios device and
    candidate ``item_id`` (recall score 1 / (1 + id), channel i2i), worked out from the
    shop's raw rows, not by the Assembler."""
    item = shop.items[item_id]
    category = item["category"]
    return [
        0.0,  # gender f: vocab (f, m)
        31.0,  # age
        item["price"],
        float(("shoes", "bags", "toys").index(category)),
        shop.features["item"].get(item_id, {}).get("ctr", float("nan")),
        0.0,  # device ios: vocab (ios, android, web)
        {"bags": 1.0, "toys": 0.5}.get(category, 0.0),  # 1 / (1 + rank) in u1's top
        1.0 / (1 + int(item_id)),
        1.0,  # from_i2i
    ]


def test_logged_rows_are_bit_equal_to_what_the_model_scored_for_the_returned_items(
    make_ctx: CtxFactory,
    spec: FeatureSpec,
    cands: list[Item],
    handle: ranking.ModelHandle,
    shop: LocalBackend,
) -> None:
    ctx = make_ctx("u1", device="ios")
    ctx.scored = []
    scored = handle.score(ctx, cands)
    # the response: scored items out of score order (odd ids lack the item feature
    # "ctr": NaN) and one item the model never saw
    odd = [it.id for it in scored if int(it.id) % 2][:2]
    even = [it.id for it in scored if not int(it.id) % 2][:2]
    returned = [odd[1], even[0], "not-scored", odd[0], even[1]]
    (rows,) = served(ctx, returned).rows()
    assert (rows.model, rows.version, rows.spec_hash) == ("fl_ctr", "v3", spec.digest())
    assert rows.item_ids == (odd[1], even[0], odd[0], even[1])
    assert rows.x.dtype == np.float32 and rows.x.shape == (4, len(spec.features))
    # the model's own scores of those rows are the scores it served
    score_of = {it.id: it.score for it in scored}
    assert handle.current is not None
    assert handle.current.predict(rows.x).tolist() == [score_of[i] for i in rows.item_ids]
    # and they are the assembled rows, bit for bit (NaNs included)
    full = Assembler(spec).assemble(make_ctx("u1", device="ios"), cands)
    at = {it.id: i for i, it in enumerate(cands)}
    expected = full[[at[i] for i in rows.item_ids]]
    assert np.isnan(expected).any(), "the check should cover missing values too"
    assert rows.x.tobytes() == expected.tobytes()
    # which are the rows worked out by hand
    want = np.array([by_hand(shop, i) for i in rows.item_ids], np.float32)
    np.testing.assert_array_equal(rows.x, want)


def test_an_unsampled_request_keeps_nothing(
    make_ctx: CtxFactory, cands: list[Item], handle: ranking.ModelHandle
) -> None:
    ctx = make_ctx()
    assert ctx.scored is None
    handle.score(ctx, cands)
    assert ctx.scored is None


def test_an_item_scored_twice_keeps_the_later_row_and_versions_stay_apart() -> None:
    a, b = Item("a"), Item("b")
    first = ScoredBatch("m", "v1", "h1", (a, b), np.array([[1, 1], [2, 2]], np.float32))
    again = ScoredBatch("m", "v1", "h1", (b,), np.array([[9, 9]], np.float32))
    other = ScoredBatch("m", "v2", "h2", (a,), np.array([[5, 5, 5]], np.float32))
    rows = ServedFeatures("r", "s", "u", 0.0, ("b", "a"), (first, again, other)).rows()
    assert [(r.version, r.item_ids, r.x.tolist()) for r in rows] == [
        ("v1", ("b", "a"), [[9, 9], [1, 1]]),
        ("v2", ("a",), [[5, 5, 5]]),
    ]
    assert ServedFeatures("r", "s", "u", 0.0, ("z",), (first,)).rows() == []


def test_sampling_is_a_deterministic_function_of_the_request_id() -> None:
    ids = [f"9f3a1c{n:x}" for n in range(1, 20_001)]  # the dispatcher's id shape
    at_30 = [sampled(i, 0.3) for i in ids]
    assert at_30 == [sampled(i, 0.3) for i in ids]
    assert 0.28 < sum(at_30) / len(ids) < 0.32
    at_10 = [sampled(i, 0.1) for i in ids]
    assert 0.08 < sum(at_10) / len(ids) < 0.12
    assert all(hi for lo, hi in zip(at_10, at_30, strict=True) if lo)  # a higher rate adds
    assert all(sampled(i, 1.0) for i in ids[:100])
    assert not any(sampled(i, 0.0) for i in ids[:100])


def _crc32(data: bytes) -> int:
    """CRC-32 (IEEE 802.3: reflected polynomial 0xEDB88320, as zip and PNG use it), bit
    by bit: the oracle of the sampling rule, independent of zlib."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0xEDB88320 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


# request id -> its CRC-32, worked out with _crc32 (and cross-checked once with zlib)
PINNED = {"r1": 219023793, "9f3a1c1": 562443889, "req-42": 907101545, "9f3a1c2": 3096405963}


def test_the_oracle_is_the_standard_crc32() -> None:
    assert _crc32(b"123456789") == 0xCBF43926  # the published check value of CRC-32
    assert {rid: _crc32(rid.encode()) for rid in PINNED} == PINNED


@pytest.mark.parametrize(
    ("rid", "below", "above"),
    [  # CRC-32 / 2**32 of each id lies between the two rates
        ("r1", 0.05, 0.051),  # 0.05099...
        ("9f3a1c1", 0.13, 0.131),  # 0.13095...
        ("req-42", 0.21, 0.212),  # 0.21120...
        ("9f3a1c2", 0.72, 0.721),  # 0.72093...
    ],
)
def test_a_request_is_sampled_when_its_crc32_is_below_the_rate_times_2_32(
    rid: str, below: float, above: float
) -> None:
    assert below * 2**32 <= PINNED[rid] < above * 2**32  # the table above is right
    assert not sampled(rid, below) and sampled(rid, above)


def test_the_sampling_boundary_is_exact_at_every_crc() -> None:
    for rid in [f"9f3a1c{n:x}" for n in range(1, 300)]:  # the dispatcher's id shape
        crc = _crc32(rid.encode())
        assert not sampled(rid, crc / 2**32), rid  # at its own CRC: not below, out
        assert sampled(rid, (crc + 1) / 2**32), rid  # one step above: in


def test_the_rate_must_be_a_fraction() -> None:
    with pytest.raises(ValueError, match="rate must be a fraction between 0 and 1, got 1.5"):
        MemoryFeatureLog(rate=1.5)


def test_the_memory_log_is_bounded_and_counts_what_it_drops() -> None:
    log = MemoryFeatureLog(capacity=2)
    records = [ServedFeatures(f"r{i}", "s", "u", 0.0, (), ()) for i in range(5)]
    assert [log.submit(r) for r in records] == [True, True, False, False, False]
    assert log.served == records[:2] and log.dropped == 3


def test_the_default_log_is_in_memory_and_off() -> None:
    log = ranking.feature_log()
    assert isinstance(log, MemoryFeatureLog) and log.rate == 0.0
    mine = MemoryFeatureLog()
    assert ranking.install_feature_log(mine) is log
    try:
        assert ranking.feature_log() is mine
    finally:
        ranking.install_feature_log(log)
