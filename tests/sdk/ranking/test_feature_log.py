"""Feature logging in the SDK: a sampled request keeps exactly the matrix the model
scored, the rows of the returned items are picked bit for bit, sampling is a pure
function of the request id, and the in-memory log is bounded."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from prism_sdk import Context, Item, ranking
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


def test_logged_rows_are_bit_equal_to_what_the_model_scored_for_the_returned_items(
    make_ctx: CtxFactory, spec: FeatureSpec, cands: list[Item], handle: ranking.ModelHandle
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
