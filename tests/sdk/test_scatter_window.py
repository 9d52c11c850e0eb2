"""Window-constrained scattering: the constraint holds whenever it can, order kept otherwise."""

import itertools
import random

import pytest

from prism_sdk import Item, Stage, stages


def _ok(kinds: list[str | None], window: int, cap: int) -> bool:
    for i in range(len(kinds)):
        win = [k for k in kinds[max(0, i - window + 1) : i + 1] if k is not None]
        if any(win.count(k) > cap for k in win):
            return False
    return True


def _items(n: int) -> list[Item]:
    return [Item(str(i), float(n - i), "a") for i in range(n)]


@pytest.mark.parametrize("seed", range(6))
def test_window_holds_whenever_satisfiable(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(150):
        n = rng.randint(1, 7)
        kinds = [rng.choice("abc") if rng.random() > 0.15 else None for _ in range(n)]
        window, cap = rng.randint(1, 4), rng.randint(1, 2)
        limit = rng.choice([None, rng.randint(1, n)])
        items = _items(n)
        kind = {it.id: k for it, k in zip(items, kinds, strict=True)}
        rows = {i: {"k": k} for i, k in kind.items()}
        m = n if limit is None else limit
        satisfiable = any(
            _ok([kind[it.id] for it in p], window, cap) for p in itertools.permutations(items, m)
        )
        st = Stage("rerank")
        out = stages.scatter(
            items, "k", rows=rows, window=window, max_per_window=cap, limit=limit, stage=st
        )
        assert len(out) == m and len({it.id for it in out}) == m
        got = [kind[it.id] for it in out]
        assert st.notes is not None
        violations = st.notes["scatter"]["violations"]
        if satisfiable:
            assert _ok(got, window, cap), (kinds, window, cap, limit, got)
            assert violations == []
        else:
            assert violations


def test_order_is_kept_when_nothing_needs_moving() -> None:
    items = _items(6)
    out = stages.scatter(items, lambda it: it.id, window=3, max_per_window=1)
    assert out == items


def test_attribute_key_reads_rows_then_trace_and_reports_violations() -> None:
    items = [Item("1", 3), Item("2", 2), Item("3", 1, trace={"category": "y"}), Item("4", 0)]
    rows = {"1": {"category": "x"}, "2": {"category": "x"}, "4": {"category": "x"}}
    st = Stage("rerank.scatter")
    out = stages.scatter(items, "category", rows=rows, window=2, max_per_window=1, stage=st)
    assert [it.id for it in out] == ["1", "3", "2", "4"]
    assert st.as_dict()["scatter"] == {"violations": ["4"]}


def test_rejects_a_bad_window() -> None:
    with pytest.raises(ValueError, match="scatter 'x'"):
        stages.scatter(_items(2), "category", window=0, id="x")


def test_the_greedy_pass_places_as_the_plain_greedy_did() -> None:
    from prism_sdk._window import _arrange, greedy

    rng = random.Random(7)
    for _ in range(500):
        kinds = [rng.choice(("a", "b", "c", None)) for _ in range(rng.randint(0, 30))]
        n, window, cap = rng.randint(0, 30), rng.randint(1, 6), rng.randint(1, 3)
        assert greedy(kinds, n, window, cap) == _arrange(kinds, n, window, cap, careful=False)
