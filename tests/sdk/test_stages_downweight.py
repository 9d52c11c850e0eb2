"""The down-weighting scorer over an ``unclicked`` read."""

from prism_sdk import Item, stages


def test_downweight_scales_by_exposures_and_traces_the_count() -> None:
    items = [Item("a", 1.0, "i2i"), Item("b", 0.8, "i2i", trace={"x": 1}), Item("c", 0.5)]
    out = stages.downweight(items, {"a": 2, "b": 1, "zz": 5}, factor=0.5, id="seen6h")
    assert [(it.id, it.score) for it in out] == [("a", 0.25), ("b", 0.4), ("c", 0.5)]
    assert out[0].trace == {"seen6h": 2} and out[1].trace == {"x": 1, "seen6h": 1}
    assert out[2] is items[2] and items[1].trace == {"x": 1}  # inputs untouched
    assert [it.id for it in stages.top(out, 2)] == ["c", "b"]
