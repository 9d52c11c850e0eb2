"""The jobs replace whole tables: readers keep the old version until the flip."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pytest

from prism_platform.jobs.tables import COLD_NEIGHBOURS, Interactions, build_tables
from prism_sdk import DataClient, LocalBackend, RedisBackend
from prism_testkit.services import RedisServer

TABLES = (
    *("i2i", "u2i_usercf", "popular", "popular_cat", "bought_together", "category_next"),
    "content_sim",
)


class CheckedWriter:
    """A Redis writer that checks, around each replacement, what a second client reads."""

    def __init__(self, writer: RedisBackend, reader: RedisBackend) -> None:
        self.writer, self.reader = writer, DataClient(reader)
        self.replaced: list[str] = []

    def replace_table(self, name: str, rows: Mapping[str, Sequence[tuple[str, float]]]) -> None:
        assert name not in self.replaced  # one whole replacement per table, no partial writes
        self.replaced.append(name)
        assert self.reader.table(name, "ghost") == [("old", 1.0)]  # the old version serves
        self.writer.replace_table(name, rows)
        assert self.reader.table(name, "ghost") == []  # gone with the flip, not left over
        for key, row in list(rows.items())[:3]:
            assert self.reader.table(name, key) == [tuple(r) for r in row]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.writer, name)


@pytest.fixture
def redis_pair(redis_server: RedisServer) -> Iterator[tuple[RedisBackend, RedisBackend]]:
    prefix = f"jobs-{uuid.uuid4().hex}:"
    writer = RedisBackend.from_url(redis_server.url, prefix=prefix)
    reader = RedisBackend.from_url(redis_server.url, prefix=prefix)
    yield writer, reader
    writer.close()
    reader.close()


def test_every_table_is_replaced_whole_once(redis_pair: tuple[RedisBackend, RedisBackend]) -> None:
    writer, reader = redis_pair
    for name in TABLES:
        writer.replace_table(name, {"ghost": [("old", 1.0)]})
    rng = np.random.default_rng(0)
    n = 300
    types = np.array(["view", "click", "cart", "order"])[rng.integers(0, 4, n)]
    inter = Interactions(
        user_idx=rng.integers(0, 20, n),
        item_idx=rng.integers(0, 30, n),
        ts=-rng.random(n) * 86400.0,
        types=types,
        user_ids=[f"u{u}" for u in range(20)],
        item_ids=[str(i) for i in range(30)],
        item_categories=["a" if i % 2 else "b" for i in range(30)],
    )
    items = {
        str(i): {"title": f"thing {i % 5}", "category": "a" if i % 2 else "b"} for i in range(30)
    }
    checked = CheckedWriter(writer, reader)
    counts = build_tables(checked, inter, now=0.0, items=items, content="all")  # type: ignore[arg-type]
    assert sorted(checked.replaced) == sorted(TABLES)
    assert counts["u2i_usercf"] > 0 and counts["content_sim"] > 0


def test_by_default_content_covers_the_items_with_few_neighbours() -> None:
    backend = LocalBackend()
    users = np.repeat(np.arange(12), 12)  # items 0-11: 11 neighbours each; 12, 13: one
    items = np.tile(np.arange(12), 12)
    inter = Interactions(
        user_idx=np.r_[users, 12, 12],
        item_idx=np.r_[items, 12, 13],
        ts=np.zeros(146),
        types=np.full(146, "click"),
        user_ids=[str(u) for u in range(13)],
        item_ids=[str(i) for i in range(14)],
        item_categories=["c"] * 14,
    )
    rows = {str(i): {"title": f"item {i}", "category": "c"} for i in range(14)}
    build_tables(backend, inter, now=0.0, items=rows)
    i2i = backend.tables["i2i"]
    cold = {i for i in rows if len(i2i.get(i, ())) < COLD_NEIGHBOURS}
    assert cold == {"12", "13"} and set(backend.tables["content_sim"]) == cold
