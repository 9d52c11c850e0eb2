import json
import time
from pathlib import Path

import pytest

from prism_platform.demo.seed import demo_cached, load_or_build_demo
from prism_sdk import LocalBackend


def test_demo_data_has_every_table_the_strategies_read(demo_backend: LocalBackend) -> None:
    assert set(demo_backend.tables) == {
        *("i2i", "u2i_usercf", "content_sim", "popular", "popular_cat", "bought_together"),
        *("category_next", "i2i_emb"),
    }
    vectors = demo_backend.vector_tables["emb"]  # the emb channel and the coarse stage
    assert len(vectors.users.ids) > 100 and vectors.items.dim == vectors.users.dim == 32
    assert all(demo_backend.items[i]["status"] == "on" for i in vectors.items.ids)
    assert len(demo_backend.tables["popular"]["all"]) > 100
    assert all(
        demo_backend.items[i]["status"] == "on" for i, _ in demo_backend.tables["popular"]["all"]
    )
    some_user_events = next(iter(demo_backend.events.values()))
    assert some_user_events and some_user_events[-1].ts > time.time() - 8 * 86400
    row = next(iter(demo_backend.tables["i2i"].values()))
    assert [s for _, s in row] == sorted((s for _, s in row), reverse=True)


def test_the_cache_is_reused_and_rebuilt_when_parameters_change(tmp_path: Path) -> None:
    sizes = {"n_users": 100, "n_items": 500, "n_events": 5000}
    assert not demo_cached(tmp_path, seed=2, **sizes)
    first = load_or_build_demo(tmp_path, seed=2, **sizes)
    assert demo_cached(tmp_path, seed=2, **sizes)  # what `prism serve --workers N` checks
    assert not demo_cached(tmp_path, seed=2, **{**sizes, "n_users": 101})
    meta = json.loads((tmp_path / "demo" / "meta.json").read_text())
    assert meta["params"]["seed"] == 2 and meta["counts"]["items"] == 500
    again = load_or_build_demo(tmp_path, seed=2, **sizes)
    assert again.tables == first.tables and again is not first
    other = load_or_build_demo(tmp_path, seed=3, **sizes)
    assert other.tables != first.tables


def test_a_corrupt_cache_is_rebuilt(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    sizes = {"n_users": 50, "n_items": 300, "n_events": 2000}
    load_or_build_demo(tmp_path, seed=1, **sizes)
    (tmp_path / "demo" / "data.msgpack").write_bytes(b"garbage")
    backend = load_or_build_demo(tmp_path, seed=1, **sizes)
    assert backend.tables["popular"]["all"]
    assert any("demo_cache_unusable" in r.message for r in caplog.records)
