"""Reading a sample file (format version 1) for a replay."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from prism_testkit.stress.sample import SampleError, read_sample


def line(scene: str = "home_feed", user: str = "7", **extra: Any) -> str:
    record = {
        "v": 1, "ts": 1.0, "request_id": "r", "scene": scene, "user_id": user, "size": 5,
        "context": {"page": "home"}, "exclude": ["3"], "experiment": "default",
        "bucket": "base", "strategy": "s@1", "items": [], "scores": [], "latency_ms": 1.0,
        "degraded": False, **extra,
    }  # fmt: skip
    return json.dumps(record)


def test_the_requests_replay_as_recommend_bodies(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text("\n".join([line(user="1"), "", line("search", "2"), line(user="3", new=1)]))
    replay = read_sample(path)
    assert replay.scenes == {"home_feed": 2, "search": 1}
    assert [scene for scene, _ in replay.requests] == ["home_feed", "search", "home_feed"]
    assert json.loads(replay.bodies[0]) == {
        "scene": "home_feed", "user_id": "1", "size": 5, "context": {"page": "home"},
        "exclude": ["3"],
    }  # fmt: skip
    only = read_sample(path, "home_feed")
    assert [json.loads(b)["user_id"] for b in only.bodies] == ["1", "3"]


@pytest.mark.parametrize(
    ("text", "scene", "says"),
    [
        (line(v=2), None, "s.jsonl:1: not a version-1 sample"),
        (line() + "\n{not json", None, "s.jsonl:2: not a version-1 sample"),
        (line(), "search", "no request of scene 'search' to replay (scenes in the sample: "
         "home_feed)"),
        ("", None, "no request to replay (scenes in the sample: none)"),
    ],
)  # fmt: skip
def test_a_file_that_cannot_replay_is_refused(
    tmp_path: Path, text: str, scene: str | None, says: str
) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text(text)
    with pytest.raises(SampleError) as caught:
        read_sample(path, scene)
    assert says in str(caught.value)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(SampleError, match="cannot read the sample .*nope.jsonl"):
        read_sample(tmp_path / "nope.jsonl")
