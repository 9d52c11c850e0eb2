"""A node's replay files name users (a report's worst requests, a recorded data
snapshot's reads): forgetting a user scrubs them, in memory and on disk, and files past
the age limit go (never a running replay's)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from prism_platform.replay.board import ReplayBoard


def worst(*users: str) -> dict[str, object]:
    return {
        "diff": {
            "rbo": 0.5,
            "worst": [{"index": i, "user_id": u, "rbo": 0.1} for i, u in enumerate(users)],
        }
    }


def test_forget_scrubs_reports_and_data_snapshots(tmp_path: Path) -> None:
    board = ReplayBoard(tmp_path)
    run = board.open(board.reserve(), "olga", {}, "home_feed", 3)
    board.finish(run, worst("alice", "bob", "alice"), None)
    reads = [
        {"kind": "events", "name": "", "key": "alice", "value": []},
        {"kind": "features", "name": "user", "key": "alice", "value": {"age": 3}},
        {"kind": "items", "name": "", "key": "alice", "value": {"title": "an item"}},
        {"kind": "events", "name": "", "key": "bob", "value": []},
    ]
    snapshot = {"format": "prism-data-snapshot", "v": 1, "reads": reads}
    board.data_path(run.id).write_text(json.dumps(snapshot))

    assert board.forget_user("alice") == 2 + 2 + 2  # in memory, its file, the snapshot
    rows = board.get(run.id)["report"]["diff"]["worst"]
    assert [r["user_id"] for r in rows] == [None, "bob", None]
    on_disk = json.loads((tmp_path / f"{run.id}.json").read_text())
    assert [r["user_id"] for r in on_disk["report"]["diff"]["worst"]] == [None, "bob", None]
    kept = json.loads(board.data_path(run.id).read_text())["reads"]
    assert [(r["kind"], r["key"]) for r in kept] == [("items", "alice"), ("events", "bob")]
    assert ReplayBoard(tmp_path).forget_user("alice") == 0
    assert "alice" not in (tmp_path / f"{run.id}.json").read_text()


def test_files_past_the_age_limit_go_but_not_a_running_replays(tmp_path: Path) -> None:
    board = ReplayBoard(tmp_path)
    done = board.open(board.reserve(), "olga", {}, "home_feed", 1)
    board.finish(done, worst("bob"), None)
    board.data_path(done.id).write_text("{}")
    running = board.open(board.reserve(), "olga", {}, "home_feed", 1)
    old = time.time() - 3600
    for path in tmp_path.iterdir():
        os.utime(path, (old, old))
    assert board.trim(time.time() - 60) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{running.id}.json"]
    assert board.trim(time.time() - 60) == 0
