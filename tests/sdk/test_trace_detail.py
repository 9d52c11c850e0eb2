"""The debug trace's detail: with a detailed tracer (a debug request) every stage keeps its
candidates (item, channel, score) and what its filters removed with the reason and the
filter's id; with a plain tracer the same helpers record counts only."""

from __future__ import annotations

from prism_sdk import Item, Stage, Tracer, diversity, rules, stages
from prism_sdk._trace import MAX_CANDIDATES


def _items(channel: str, n: int, start: int = 0) -> list[Item]:
    return [Item(str(start + i), float(n - i), channel) for i in range(n)]


def _stage(tracer: Tracer, name: str) -> dict[str, object]:
    (found,) = [s for s in tracer.as_list() if s["stage"] == name]
    return found


def test_a_filter_records_kept_candidates_and_removed_items_with_reason_and_id() -> None:
    tracer = Tracer(detail=True)
    items = _items("i2i", 5)
    with tracer.stage("filter.seen") as st:
        kept = stages.drop_ids(items, {"1", "3"}, "already_interacted", stage=st).kept
        kept = stages.keep_if(kept, lambda it: it.id != "4", "off_shelf", stage=st, id="shelf").kept
    out = _stage(tracer, "filter.seen")
    assert [it.id for it in kept] == ["0", "2"]
    assert (out["in"], out["out"]) == (5, 2)  # the first filter's input, the last one's output
    assert out["candidates"] == [
        {"item": "0", "channel": "i2i", "score": 5.0},
        {"item": "2", "channel": "i2i", "score": 3.0},
    ]
    assert out["removed"] == [
        {"item": "1", "channel": "i2i", "reason": "already_interacted", "by": "filter.seen"},
        {"item": "3", "channel": "i2i", "reason": "already_interacted", "by": "filter.seen"},
        {"item": "4", "channel": "i2i", "reason": "off_shelf", "by": "shelf"},
    ]
    assert out["removed_total"] == 3


def test_merge_records_its_candidates_with_every_channel() -> None:
    tracer = Tracer(detail=True)
    with tracer.stage("merge") as st:
        merged = stages.merge(
            {"i2i": _items("i2i", 3), "popular": _items("popular", 2, start=1)}, stage=st
        )
    out = _stage(tracer, "merge")
    assert (out["in"], out["out"]) == (5, len(merged)) == (5, 3)
    by_item = {c["item"]: c for c in out["candidates"]}  # type: ignore[attr-defined]
    assert by_item["1"]["channel"] == "i2i+popular"  # found by both, i2i first
    assert by_item["1"]["score"] == 2.0 + 2.0
    assert [c["item"] for c in out["candidates"]] == [it.id for it in merged]  # type: ignore[attr-defined]


def test_candidates_are_capped_but_the_totals_say_how_many() -> None:
    tracer = Tracer(detail=True)
    many = _items("popular", MAX_CANDIDATES + 50)
    with tracer.stage("filter.head") as st:
        stages.keep_if(many, lambda it: int(it.id) < 10, "tail", stage=st)
    out = _stage(tracer, "filter.head")
    assert len(out["candidates"]) == out["candidates_total"] == 10  # type: ignore[arg-type]
    assert len(out["removed"]) == MAX_CANDIDATES  # type: ignore[arg-type]
    assert out["removed_total"] == MAX_CANDIDATES + 40

    with tracer.stage("source") as st:
        st.candidates(it for it in many)  # a generator is taken too
    src = _stage(tracer, "source")
    assert len(src["candidates"]) == MAX_CANDIDATES  # type: ignore[arg-type]
    assert src["candidates_total"] == MAX_CANDIDATES + 50


def test_rules_record_what_each_block_removed_and_the_stage_ends_with_the_result() -> None:
    tracer = Tracer(detail=True)
    rows = {"0": {"category": "x"}, "1": {"category": "y"}, "2": {"category": "x"}}
    cfg = rules.load(
        [
            {"type": "block", "where": {"category": "x"}, "reason": "recalled", "id": "recall"},
            {"type": "pin", "item": "9", "position": 1},
        ]
    )
    with tracer.stage("rerank") as st:
        out = rules.apply(_items("a", 3), cfg, rows, stage=st)
    traced = _stage(tracer, "rerank")
    assert [it.id for it in out] == ["9", "1"]
    assert [(r["item"], r["reason"], r["by"]) for r in traced["removed"]] == [  # type: ignore[attr-defined]
        ("0", "recalled", "recall"),
        ("2", "recalled", "recall"),
    ]
    assert [c["item"] for c in traced["candidates"]] == ["9", "1"]  # type: ignore[attr-defined]
    assert (traced["in"], traced["out"]) == (3, 2)


def test_rerankers_and_scorers_record_their_output_order() -> None:
    tracer = Tracer(detail=True)
    items = _items("a", 6)
    kinds = {it.id: "x" if int(it.id) < 3 else "y" for it in items}
    with tracer.stage("rerank.scatter") as st:
        scattered = stages.scatter(
            items, lambda it: kinds[it.id], window=2, max_per_window=1, stage=st
        )
    with tracer.stage("rerank.mmr") as st:
        diverse = diversity.mmr(items, lam=0.5, by="kind", rows={}, stage=st, limit=4)
    with tracer.stage("scorer.downweight") as st:
        down = stages.downweight(items, {"0": 2}, stage=st)
    for name, result in (
        ("rerank.scatter", scattered),
        ("rerank.mmr", diverse),
        ("scorer.downweight", down),
    ):
        traced = _stage(tracer, name)
        got = [(c["item"], c["score"]) for c in traced["candidates"]]  # type: ignore[attr-defined]
        assert got == [(it.id, it.score) for it in result], name
    assert _stage(tracer, "rerank.mmr")["out"] == 4


def test_a_plain_tracer_records_counts_only() -> None:
    tracer = Tracer()
    with tracer.stage("filter.seen") as st:
        stages.drop_ids(_items("a", 4), {"1"}, "seen", stage=st)
        st.candidates(_items("a", 2))
        st.removed([(Item("x"), "why")])
    traced = tracer.as_list()[0]
    assert {k: v for k, v in traced.items() if k != "ms"} == {
        "stage": "filter.seen",
        "in": 4,
        "out": 3,
    }
    assert Stage("alone").detail is False
