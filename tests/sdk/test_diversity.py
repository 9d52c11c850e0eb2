"""MMR diversity: lambda 1 keeps the order, lambda 0 spreads kinds. (Its speed on 500
candidates is a benchmark's business, not a test's.)"""

import numpy as np
import pytest

from prism_sdk import Item, Stage, diversity


def _world(n: int, kinds: int, seed: int = 0) -> tuple[list[Item], dict[str, dict[str, str]]]:
    rng = np.random.default_rng(seed)
    items = [Item(str(i), float(n - i), "a") for i in range(n)]
    rows = {
        it.id: {"category": f"c{rng.integers(kinds)}", "shop": f"s{rng.integers(9)}"}
        for it in items
    }
    return items, rows


def test_lambda_one_is_the_score_order() -> None:
    items, rows = _world(60, 4)
    st = Stage("rerank.mmr")
    assert diversity.mmr(items, lam=1.0, by="category", rows=rows, stage=st) == items
    assert st.notes == {"mmr": {"lambda": 1.0, "moved": 0}}


def test_lambda_zero_is_maximally_diverse() -> None:
    items, rows = _world(200, 7)
    out = diversity.mmr(items, lam=0.0, by="category", rows=rows, limit=10)
    cats = [rows[it.id]["category"] for it in out]
    assert len(set(cats[:7])) == 7  # one of each category before any repeats
    assert out[0] is items[0]
    both = diversity.mmr(items, lam=0.0, by=("category", "shop"), rows=rows, limit=7)
    pairs = {(rows[it.id]["category"], rows[it.id]["shop"]) for it in both}
    assert len({c for c, _ in pairs}) == len({s for _, s in pairs}) == 7


def test_embeddings_and_a_similarity_function_agree() -> None:
    items, _ = _world(80, 3)
    emb = np.random.default_rng(1).normal(size=(80, 8))
    unit = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    a = diversity.mmr(items, lam=0.5, embeddings=emb, limit=20)
    b = diversity.mmr(items, lam=0.5, similarity=lambda _: unit @ unit.T, limit=20)
    assert a == b and a != items[:20]


def test_middle_lambda_trades_relevance_for_diversity() -> None:
    items = [Item("a1", 1.0), Item("a2", 0.99), Item("b1", 0.5)]
    rows = {"a1": {"c": "a"}, "a2": {"c": "a"}, "b1": {"c": "b"}}
    assert [it.id for it in diversity.mmr(items, lam=0.5, by="c", rows=rows)] == ["a1", "b1", "a2"]
    assert [it.id for it in diversity.mmr(items, lam=0.9, by="c", rows=rows)] == ["a1", "a2", "b1"]


def test_validates_its_arguments() -> None:
    items, rows = _world(3, 2)
    with pytest.raises(ValueError, match="exactly one"):
        diversity.mmr(items, by="category", embeddings=np.zeros((3, 2)))
    with pytest.raises(ValueError, match="lam"):
        diversity.mmr(items, lam=2.0, by="category")
    with pytest.raises(ValueError, match="expected"):
        diversity.mmr(items, embeddings=np.zeros((2, 2)))
    assert diversity.mmr([], by="category") == []


def test_500_candidates_top_50_are_distinct_candidates_best_first() -> None:
    items, rows = _world(500, 20)
    emb = np.random.default_rng(2).normal(size=(500, 32))
    for kwargs in ({"by": ("category", "shop"), "rows": rows}, {"embeddings": emb}):
        out = diversity.mmr(items, lam=0.7, limit=50, **kwargs)  # type: ignore[arg-type]
        assert len(out) == 50 and len({it.id for it in out}) == 50
        assert out[0] is items[0] and {id(it) for it in out} <= {id(it) for it in items}
