"""`prism job itemcf|usercf|popular|content|embeddings|all` on a local data directory."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from prism_platform.cli.main import main
from prism_sdk import DataClient, Event, LocalBackend

DAY = 86400.0
TITLES = ["red running shoe", "red running shoe pro", "trail sneaker", "denim jacket", "wallet"]
HISTORIES = {"ann": [0, 1, 2], "bob": [0, 1, 3], "cy": [4], "dee": [0, 4]}


def job(*args: str) -> Result:
    return CliRunner().invoke(main, ["job", *args])


@pytest.fixture
def data(env: Path) -> Path:
    """Five items; four users clicked some of them an hour ago, and ``old`` 30 days ago."""
    backend = LocalBackend()
    backend.upsert_items(
        {
            str(i): {"title": t, "category": "shoes" if i < 3 else "other"}
            for i, t in enumerate(TITLES)
        }
    )
    now = time.time()
    for user, items in HISTORIES.items():
        backend.append_events(user, [Event(now - 3600 + i, str(i), "click") for i in items])
    backend.append_events("old", [Event(now - 30 * DAY, "3", "order")])
    backend.replace_table("custom", {"k": [("0", 1.0)]})
    env.mkdir(parents=True)
    backend.save(env / "data.msgpack")
    return env / "data.msgpack"


def test_each_job_writes_its_tables_and_prints_row_counts(data: Path) -> None:
    r = job("itemcf", "--top-k", "2")
    assert r.exit_code == 0, r.output
    assert "i2i: 5 rows" in r.output and "job itemcf: written to the local file" in r.output
    stored = LocalBackend.load(data)
    assert max(len(row) for row in stored.tables["i2i"].values()) == 2
    assert stored.tables["custom"] == {"k": [("0", 1.0)]}  # other tables are left alone

    r = job("usercf")
    assert r.exit_code == 0, r.output
    u2i = LocalBackend.load(data).tables["u2i_usercf"]
    assert u2i["ann"][0][0] == "3" and u2i["bob"][0][0] == "2"  # each other's items
    assert "u2i_usercf: 5 rows" in r.output
    assert {i for i, _ in u2i["old"]} == {"0", "1"}  # bob also has item 3

    r = job("popular", "--since-days", "1")
    assert r.exit_code == 0, r.output
    popular = dict(LocalBackend.load(data).tables["popular"]["all"])
    assert popular["0"] > popular["1"] and "3" in popular
    assert set(LocalBackend.load(data).tables["popular_cat"]) == {"shoes", "other"}

    r = job("content")
    assert r.exit_code == 0, r.output
    assert LocalBackend.load(data).tables["content_sim"]["0"][0][0] == "1"


def test_since_days_leaves_out_older_events(data: Path) -> None:
    assert job("usercf", "--since-days", "1").exit_code == 0
    assert "old" not in LocalBackend.load(data).tables["u2i_usercf"]
    assert job("popular", "--since-days", "1", "--half-life-days", "1000").exit_code == 0
    recent = dict(LocalBackend.load(data).tables["popular"]["all"])
    assert job("popular", "--half-life-days", "1000").exit_code == 0
    every = dict(LocalBackend.load(data).tables["popular"]["all"])
    assert every["3"] > recent["3"]  # the 30-day-old order counts only without --since-days


def test_all_writes_every_table_and_logs_progress(
    data: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, "prism.jobs"):
        r = job("all")
    assert r.exit_code == 0, r.output
    tables = set(LocalBackend.load(data).tables)
    assert tables == {
        *("custom", "i2i", "u2i_usercf", "popular", "popular_cat", "bought_together"),
        *("category_next", "content_sim"),
    }
    assert "content_sim: 5 rows" in r.output  # every item, not only the cold ones
    progress = [m for m in caplog.messages if m.startswith("event=progress")]
    for name in ("itemcf", "usercf", "content"):
        assert any(f"job={name} " in m and "done=" in m and "total=" in m for m in progress)


def test_a_failing_job_saves_nothing_and_says_why(data: Path) -> None:
    before = data.read_bytes()
    r = job("itemcf", "--since-days", "0.001")
    assert r.exit_code == 1
    assert "no behaviour events of the last 0.001 days" in r.output
    assert data.read_bytes() == before
    r = job("usercf", "--top-k", "0")
    assert r.exit_code == 2 and "--top-k" in r.output


def test_without_items_or_with_another_backend(
    env: Path, monkeypatch: pytest.MonkeyPatch, redis_server: object
) -> None:
    r = job("content")
    assert r.exit_code == 1 and "the local data has no items" in r.output
    monkeypatch.setenv("PRISM_DATA_BACKEND", "redis")
    monkeypatch.setenv("PRISM_REDIS_URL", redis_server.url)  # type: ignore[attr-defined]
    r = job("itemcf")
    assert r.exit_code == 1 and "PRISM_DATA_BACKEND=local" in r.output


def test_embeddings_writes_a_vector_table_and_its_item_neighbours(data: Path) -> None:
    r = job("embeddings", "--factors", "4", "--iterations", "3", "--threads", "1", "--top-k", "2")
    assert r.exit_code == 0, r.output
    assert "emb users: 5 rows" in r.output and "emb items: 5 rows" in r.output
    stored = LocalBackend.load(data)
    table = stored.vector_tables["emb"]
    assert table.dim == 4 and table.meta["method"] == "als"
    assert max(len(row) for row in stored.tables["i2i_emb"].values()) <= 2
    assert len(DataClient(stored).nearest("emb", "ann", 3)) == 3
    assert stored.tables["custom"] == {"k": [("0", 1.0)]}

    r = job("embeddings", "--method", "bpr", "--name", "emb_bpr", "--factors", "4")
    assert r.exit_code == 0, r.output
    assert LocalBackend.load(data).vector_tables["emb_bpr"].meta["method"] == "bpr"
