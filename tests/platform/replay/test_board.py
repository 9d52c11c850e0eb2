"""The replays of a node: ids unique across the workers that share ``var/replays``, a
replay visible to the other workers once started and once ended, at most two at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from prism_platform.errors import Conflict, NotFound
from prism_platform.replay.board import ReplayBoard


def test_workers_sharing_a_folder_never_hand_out_the_same_id(tmp_path: Path) -> None:
    one, two = ReplayBoard(tmp_path), ReplayBoard(tmp_path)
    ids = [one.reserve(), two.reserve(), two.reserve(), one.reserve()]
    assert sorted(ids) == [1, 2, 3, 4]
    one.release(ids[0])
    assert ReplayBoard(tmp_path).reserve() == 5  # a restart continues after the files


def test_another_worker_sees_a_replay_start_and_end(tmp_path: Path) -> None:
    mine, other = ReplayBoard(tmp_path), ReplayBoard(tmp_path)
    run = mine.open(mine.reserve(), "olga", {"script": "x.py"}, "home_feed", 10)
    mine.progress(run, 4)
    assert mine.get(run.id)["progress"] == {"done": 4, "total": 10}
    seen = other.get(run.id)
    assert seen["state"] == "running" and seen["actor"] == "olga"
    mine.finish(run, {"diff": {"rbo": 1.0, "rbo_values": [1.0]}}, None)
    assert other.get(run.id)["report"]["diff"]["rbo"] == 1.0
    assert mine.recent()[0]["report"]["diff"] == {"rbo": 1.0}  # no per-request values
    reserved = mine.reserve()
    with pytest.raises(NotFound):
        other.get(reserved)  # reserved, not started
    with pytest.raises(NotFound):
        other.get(999)


def test_at_most_two_replays_run_at_once(tmp_path: Path) -> None:
    board = ReplayBoard(None)
    first = board.open(board.reserve(), "a", {}, "s", 1)
    board.open(board.reserve(), "a", {}, "s", 1)
    with pytest.raises(Conflict, match="runs #1, #2 already"):
        board.check_room()
    board.finish(first, None, "boom")
    board.check_room()
    assert board.get(first.id)["state"] == "failed" and board.get(first.id)["error"] == "boom"
