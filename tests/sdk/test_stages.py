from prism_sdk import Item, stages


def _items(channel: str, *pairs: tuple[str, float]) -> list[Item]:
    return [Item(i, s, channel) for i, s in pairs]


def test_merge_applies_quotas_weights_and_keeps_every_channel() -> None:
    merged = stages.merge(
        {
            "a": _items("a", ("1", 1.0), ("2", 0.5), ("3", 0.4)),
            "b": _items("b", ("2", 1.0), ("4", 0.2)),
        },
        quotas={"a": 2},
        weights={"b": 0.5},
    )
    by_id = {it.id: it for it in merged}
    assert set(by_id) == {"1", "2", "4"}  # "3" is beyond channel a's quota
    assert by_id["2"].channels == ("a", "b")
    assert by_id["2"].score == 0.5 + 0.5
    assert [it.id for it in merged] == ["1", "2", "4"]


def test_filters_report_kept_and_removed_with_reason() -> None:
    res = stages.drop_ids(_items("a", ("1", 1), ("2", 1), ("3", 1)), {"2"}, "seen")
    assert [it.id for it in res.kept] == ["1", "3"]
    assert [(it.id, why) for it, why in res.removed] == [("2", "seen")]


def test_scatter_limits_a_kind_per_window() -> None:
    items = _items("a", *[(str(i), 10 - i) for i in range(8)])
    kind = {"0": "x", "1": "x", "2": "x", "3": "x", "4": "y", "5": "y", "6": "z", "7": "z"}
    out = stages.scatter(items, lambda it: kind[it.id], window=3, max_per_window=1)
    kinds = [kind[it.id] for it in out]
    assert len(out) == 8
    assert kinds[:6] == ["x", "y", "z", "x", "y", "z"]
    for i in range(len(kinds) - 2):
        window = kinds[i : i + 3]
        # the tail may repeat once nothing else is left; the head must respect the rule
        if i < 4:
            assert max(window.count(k) for k in window) == 1


def test_top_orders_by_score() -> None:
    assert [it.id for it in stages.top(_items("a", ("1", 0.1), ("2", 0.9), ("3", 0.5)), 2)] == [
        "2",
        "3",
    ]
