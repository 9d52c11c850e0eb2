"""The columnar path of the stages gives what the ``list[Item]`` path gives: the same ids,
scores, channels, traces and order, the same removed records and the same trace entries,
over hundreds of random candidate sets and chains of every stage (hypothesis drives the
generator's random choices, derandomized: the same cases every run, and a failure shrinks
to a small world and a short chain)."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prism_sdk import DataClient, Item, LocalBackend, MockBackend, Read, Stage, diversity, stages
from prism_sdk.stages import Candidates, ItemFields

CHANNEL_NAMES = ("i2i", "usercf", "category", "popular", "new", "")
Both = tuple[list[Item], Candidates]


def same(objects: Sequence[Item], columns: Candidates, what: str) -> None:
    got = columns.to_items()
    assert [it.id for it in got] == [it.id for it in objects], what
    assert [it.channels for it in got] == [it.channels for it in objects], what
    assert np.allclose(
        [it.score for it in got], [it.score for it in objects], rtol=0, atol=1e-12
    ), what
    assert [it.trace for it in got] == [it.trace for it in objects], what
    assert [it.acm_extra for it in got] == [it.acm_extra for it in objects], what


def same_removed(objects: Sequence[tuple[Item, str]], columns: Any, what: str) -> None:
    got = list(columns)
    assert [(it.id, it.channels, why) for it, why in got] == [
        (it.id, it.channels, why) for it, why in objects
    ], what
    assert [it.score for it, _ in got] == pytest.approx([it.score for it, _ in objects], abs=1e-12)


def same_stage(a: Stage, b: Stage, what: str) -> None:
    da, db = a.as_dict(), b.as_dict()
    da.pop("ms")
    db.pop("ms")
    assert da == db, what


class World:
    """Random ids (some equal but other string objects), rows and items."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.ids = [f"i{n}" for n in rng.sample(range(10_000), rng.randint(1, 60))]
        self.cats = [f"c{n}" for n in range(rng.randint(1, 6))]

    def an_id(self) -> str:
        i = self.rng.choice(self.ids)
        return i if self.rng.random() < 0.5 else "".join(list(i))  # equal, maybe not identical

    def score(self) -> float:
        r = self.rng.random()
        return round(r, 1) if self.rng.random() < 0.3 else r * 10 - 3  # ties and negatives

    def rows(self) -> list[tuple[str, float]]:
        rows = [(self.an_id(), self.score()) for _ in range(self.rng.randint(0, 40))]
        return sorted(rows, key=lambda r: -r[1])

    def items(self) -> list[Item]:
        rng = self.rng
        out = []
        for _ in range(rng.randint(0, 30)):
            channels = tuple(rng.sample(CHANNEL_NAMES[:5], rng.randint(0, 3)))
            trace = {"t": rng.choice(self.cats)} if rng.random() < 0.3 else None
            acm = {"m": "v1"} if rng.random() < 0.2 else None
            out.append(Item(self.an_id(), self.score(), channels, trace, acm))
        return out

    def channel(self) -> Both:
        rng = self.rng
        if rng.random() < 0.7:
            rows, name, w = self.rows(), rng.choice(CHANNEL_NAMES), rng.choice((1.0, 0.3, 2.5))
            return stages.from_scored(rows, name, w), Candidates.from_rows(rows, name, w)
        items = self.items()
        return items, Candidates.from_items(items)

    def backend(self) -> LocalBackend:
        data = LocalBackend()
        rows: dict[str, dict[str, Any]] = {}
        for i in self.ids:
            r = self.rng.random()
            if r < 0.1:
                continue  # no row
            row: dict[str, Any] = {"status": "on" if self.rng.random() < 0.8 else "off"}
            if r < 0.8:
                row["category"] = self.rng.choice(self.cats)
            elif r < 0.9:
                row["category"] = [self.rng.choice(self.cats)]  # unhashable: a tuple kind
            rows[i] = row
        data.upsert_items(rows)
        return data


def merged(world: World, detail: bool) -> tuple[Both, Stage, Stage]:
    rng = world.rng
    names = rng.sample(["a", "b", "c", "d", "e"], rng.randint(1, 5))
    pairs = {n: world.channel() for n in names}
    quotas = {n: rng.randint(-2, 45) for n in names if rng.random() < 0.6} or None
    weights = {n: rng.choice((0.1, 1.0, 0.7)) for n in names if rng.random() < 0.6} or None
    limit = rng.choice((None, None, 5, 30, 0))
    sa, sb = Stage("merge", detail), Stage("merge", detail)
    objects = stages.merge(
        {n: p[0] for n, p in pairs.items()}, quotas=quotas, weights=weights, limit=limit, stage=sa
    )
    columns = stages.merge(
        {n: p[1] for n, p in pairs.items()}, quotas=quotas, weights=weights, limit=limit, stage=sb
    )
    return (objects, columns), sa, sb


Step = Callable[[World, Both, ItemFields, DataClient, Stage, Stage], Both]


def drop_ids(
    world: World, both: Both, _f: ItemFields, _d: DataClient, sa: Stage, sb: Stage
) -> Both:
    rng = world.rng
    ids: Any = {world.an_id() for _ in range(rng.randint(0, 20))}
    ids = rng.choice((ids, list(ids), dict.fromkeys(ids).keys()))
    ra = stages.drop_ids(both[0], ids, "seen", stage=sa, id="filter.seen")
    rb = stages.drop_ids(both[1], ids, "seen", stage=sb, id="filter.seen")
    same_removed(ra.removed, rb.removed, "drop_ids removed")
    return ra.kept, rb.kept


def keep_if(
    world: World, both: Both, fields: ItemFields, data: DataClient, sa: Stage, sb: Stage
) -> Both:
    rows = stages.item_rows(data, both[0])
    ra = stages.keep_if(
        both[0], lambda it: (rows.get(it.id) or {}).get("status") == "on", "off_shelf", stage=sa
    )
    if world.rng.random() < 0.5:
        rb = stages.keep_if(both[1], fields.equals(both[1], "status", "on"), "off_shelf", stage=sb)
    else:  # a function of an item works too
        rb = stages.keep_if(
            both[1], lambda it: (rows.get(it.id) or {}).get("status") == "on", "off_shelf",
            stage=sb,
        )  # fmt: skip
    same_removed(ra.removed, rb.removed, "keep_if removed")
    return ra.kept, rb.kept


def downweight(
    world: World, both: Both, _f: ItemFields, _d: DataClient, sa: Stage, sb: Stage
) -> Both:
    rng = world.rng
    counts = {world.an_id(): rng.randint(0, 4) for _ in range(rng.randint(0, 15))}
    factor = rng.choice((0.5, 0.3, 1.5))
    oa = stages.downweight(both[0], counts, factor=factor, stage=sa)
    ob = stages.downweight(both[1], counts, factor=factor, stage=sb)
    return oa, ob


def top(world: World, both: Both, _f: ItemFields, _d: DataClient, sa: Stage, sb: Stage) -> Both:
    n = world.rng.choice((0, 3, 10, 100))
    return stages.top(both[0], n, stage=sa), stages.top(both[1], n, stage=sb)


def scatter(
    world: World, both: Both, fields: ItemFields, data: DataClient, sa: Stage, sb: Stage
) -> Both:
    rng = world.rng
    key = rng.choice(("category", "category", "channel", "downweight", "t"))
    window, cap = rng.randint(1, 5), rng.randint(1, 3)
    limit = rng.choice((None, 5, 20))
    rows = stages.item_rows(data, both[0])
    oa = stages.scatter(
        both[0], key, rows=rows, window=window, max_per_window=cap, limit=limit, stage=sa
    )
    ob = stages.scatter(
        both[1], key, rows=fields, window=window, max_per_window=cap, limit=limit, stage=sb
    )
    return oa, ob


def mmr(
    world: World, both: Both, fields: ItemFields, data: DataClient, sa: Stage, sb: Stage
) -> Both:
    rng = world.rng
    lam, limit = rng.choice((0.0, 0.5, 0.7, 1.0)), rng.choice((None, 5, 20))
    if rng.random() < 0.7:
        by: Any = rng.choice(("category", ("category", "channel"), "t"))
        rows = stages.item_rows(data, both[0])
        oa = diversity.mmr(both[0], lam=lam, by=by, rows=rows, limit=limit, stage=sa)
        ob = diversity.mmr(both[1], lam=lam, by=by, rows=fields, limit=limit, stage=sb)
        return oa, ob
    emb = np.random.default_rng(rng.randrange(1 << 30)).normal(size=(len(both[0]), 4))
    oa = diversity.mmr(both[0], lam=lam, embeddings=emb, limit=limit, stage=sa)
    ob = diversity.mmr(both[1], lam=lam, embeddings=emb, limit=limit, stage=sb)
    return oa, ob


STEPS: tuple[Step, ...] = (drop_ids, keep_if, downweight, top, scatter, mmr)


@pytest.mark.parametrize("columnar_backend", [True, False], ids=["local", "mock"])
@settings(
    derandomize=True,
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(rng=st.randoms(use_true_random=False))
def test_every_stage_and_chain_gives_what_the_item_path_gives(
    columnar_backend: bool, rng: random.Random
) -> None:
    world = World(rng)
    local = world.backend()
    data = DataClient(local if columnar_backend else MockBackend(_reader(local)))
    detail = rng.random() < 0.5
    both, sa, sb = merged(world, detail)
    same(both[0], both[1], "merge")
    same_stage(sa, sb, "merge stage")
    fields = stages.item_fields(data, both[1])
    for k in range(rng.randint(1, 6)):
        step = rng.choice(STEPS)
        sa, sb = Stage("s", detail), Stage("s", detail)
        both = step(world, both, fields, data, sa, sb)
        what = f"step {k} {step.__name__}"
        same(both[0], both[1], what)
        same_stage(sa, sb, what)


def _reader(local: LocalBackend) -> Callable[[Read], list[Any]]:
    return lambda read: local.read([read])[0]


def test_items_convert_both_ways() -> None:
    items = [
        Item("a", 1.5, ("x", "y"), {"k": 1}, {"m": "v"}),
        Item("b", -2.0, ()),
        Item("a", 0.5, "z"),
    ]
    c = Candidates.from_items(items)
    assert len(c) == 3 and c.ids == ["a", "b", "a"]
    back = c.to_items()
    assert back == items
    assert [it.trace for it in back] == [{"k": 1}, None, None]
    assert [it.acm_extra for it in back] == [{"m": "v"}, None, None]
    assert c.to_items(limit=1) == items[:1] and c[1] == items[1] and c[-1] == items[2]
    assert c[1:].ids == ["b", "a"]
    assert c.in_channel("y").tolist() == [True, False, False]


def test_rows_become_candidates_without_items() -> None:
    from array import array

    from prism_sdk.data import ScoredRows

    rows = ScoredRows(["p", "q", "p"], array("d", [3.0, 2.0, 1.0]))
    c = Candidates.from_rows(rows, "i2i", 0.5)
    assert c.ids == ["p", "q", "p"]
    assert c.scores.tolist() == [1.5, 1.0, 0.5] and c.channels() == [("i2i",)] * 3
    assert Candidates.from_rows([], "x").to_items() == []
    summed = Candidates.from_rows_summed([[("a", 1.0), ("b", 2.0)], [("b", 1.0)]], [2.0, 3.0], "s")
    assert summed.to_items() == [Item("a", 2.0, "s"), Item("b", 7.0, "s")]
